import Foundation

/// When an escalation is sent, as opposed to the legal deadline it follows.
///
/// A deadline at the end of a day (23:59: what `civil-deadline` and `at 23:59` give) that falls
/// on a day off would escalate at midnight of a Sunday or a holiday, when no office reads it.
/// Such an escalation goes at `workdayStart` (the workflow's `default_time`) of the next
/// workday instead; the deadline itself, and an escalation at any other time, are unchanged
/// (docs/workflow-language.md §4, "When escalation starts").
public enum EscalationTime {
    /// The instant a first escalation planned at `instant` is sent.
    public static func sent(at instant: Date, calendar: WorkCalendar, timeZone: TimeZone, workdayStart: TimeOfDay) -> Date {
        let local = LocalDateTime(instant, in: timeZone)
        guard local.time.hour == 23, local.time.minute == 59, !calendar.isWorkday(local.date) else { return instant }
        let next = calendar.workday(onOrAfter: local.date)
        return LocalDateTime(date: next, time: workdayStart).instant(in: timeZone)
    }
}
