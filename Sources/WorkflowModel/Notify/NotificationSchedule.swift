import Foundation

/// When chat notifications go out: quiet hours and days off delay them to the next working
/// morning, and notifications for one robot close together go as one digest. Pure: the
/// caller gives the instants (the engine's clock, simulated in tests) and sends what is due.
///
/// The inbox is never delayed; only the chat message is.
public struct NotificationSchedule: Sendable {
    public var settings: NotificationSettings
    /// Whose days off are quiet (the workflow's calendar).
    public var calendar: WorkCalendar
    public var timeZone: TimeZone

    public init(settings: NotificationSettings, calendar: WorkCalendar, timeZone: TimeZone) {
        self.settings = settings
        self.calendar = calendar
        self.timeZone = timeZone
    }

    /// Whether a notification raised at `instant` would fall in quiet time: a day off of the
    /// calendar (when `quietOnDaysOff`), or inside the quiet hours.
    public func isQuiet(_ instant: Date) -> Bool {
        let local = LocalDateTime(instant, in: timeZone)
        if settings.quietOnDaysOff && !calendar.isWorkday(local.date) { return true }
        return settings.quietHours?.contains(local.time) ?? false
    }

    /// When a notification raised at `instant` is delivered: at once when `urgent` (a
    /// statutory deadline) or outside quiet time, else the first moment after it that is not
    /// quiet — the end of the quiet hours (08:00) on the next workday.
    public func deliveryInstant(for instant: Date, urgent: Bool = false) -> Date {
        if urgent { return instant }
        var candidate = instant
        // Each step moves to a later morning or to the end of the quiet hours; a year of days
        // off in a row (a calendar with every day off) stops the search there.
        for _ in 0..<800 {
            let local = LocalDateTime(candidate, in: timeZone)
            if settings.quietOnDaysOff && !calendar.isWorkday(local.date) {
                candidate = LocalDateTime(date: local.date.adding(days: 1), time: settings.morning).instant(in: timeZone)
                continue
            }
            if let quiet = settings.quietHours, quiet.contains(local.time) {
                let endDay = quiet.wrapsMidnight && local.time >= quiet.start ? local.date.adding(days: 1) : local.date
                candidate = LocalDateTime(date: endDay, time: quiet.end).instant(in: timeZone)
                continue
            }
            return candidate
        }
        return candidate
    }

    /// Groups pending notifications into what is sent: per robot, the earliest opens a batch
    /// that takes every notification for that robot due within `digestWindow` seconds of it,
    /// and goes out at the end of the window (a batch of several is one digest). With a
    /// window of 0 each goes alone, when due.
    /// - Returns: the batches ordered by send time, then robot; the notifications of a batch
    ///   in delivery order (then id).
    public func batches(of pending: [PendingNotification]) -> [NotificationBatch] {
        let window = TimeInterval(settings.digestWindow)
        var result: [NotificationBatch] = []
        for (robot, items) in Dictionary(grouping: pending, by: \.robot) {
            let ordered = items.sorted { ($0.deliverAt, $0.id) < ($1.deliverAt, $1.id) }
            var current: [PendingNotification] = []
            var opened = Date.distantPast
            for item in ordered {
                if let first = current.first, window > 0, item.deliverAt < first.deliverAt.addingTimeInterval(window) {
                    current.append(item)
                    continue
                }
                if !current.isEmpty { result.append(NotificationBatch(robot: robot, sendAt: opened, notifications: current)) }
                current = [item]
                opened = item.deliverAt.addingTimeInterval(window)
            }
            if !current.isEmpty { result.append(NotificationBatch(robot: robot, sendAt: opened, notifications: current)) }
        }
        return result.sorted { ($0.sendAt, $0.robot) < ($1.sendAt, $1.robot) }
    }
}

/// A notification waiting for its chat robot.
public struct PendingNotification: Hashable, Sendable {
    /// The caller's id for it (an outbox row, a reminder delivery).
    public var id: Int64
    /// The robot's name (secrets file).
    public var robot: String
    /// When it may go out (`NotificationSchedule.deliveryInstant`).
    public var deliverAt: Date

    public init(id: Int64, robot: String, deliverAt: Date) {
        self.id = id
        self.robot = robot
        self.deliverAt = deliverAt
    }
}

/// What goes to one robot in one message: one notification, or a digest of several.
public struct NotificationBatch: Hashable, Sendable {
    public var robot: String
    /// When to send it: the end of the digest window opened by its first notification.
    public var sendAt: Date
    public var notifications: [PendingNotification]

    public init(robot: String, sendAt: Date, notifications: [PendingNotification]) {
        self.robot = robot
        self.sendAt = sendAt
        self.notifications = notifications
    }

    /// Several notifications in one markdown message (the request's `reminders: [...]`).
    public var isDigest: Bool { notifications.count > 1 }
}
