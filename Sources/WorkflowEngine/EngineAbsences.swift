import ControlProtocol
import Foundation
import SQLiteStore
import WorkflowModel

/// A window of days in which someone is away and another person stands in (请假/代理).
public struct Absence: Sendable, Equatable {
    public var id: Int64
    public var user: String
    /// Nil when the window was ended early (a later record for the same days without one).
    public var substitute: String?
    public var from: CivilDate
    public var until: CivilDate
    public var recordedBy: String
    public var recordedAt: Date
}

/// Substitutes and nudges: both change no step or reminder state, so they live beside the
/// state machine. A substitute is resolved when a reminder is read or acknowledged, not when it
/// is sent: while a window is open, the substitute sees every open reminder addressed or
/// escalated to the absent person (also those sent before the window began) and may
/// acknowledge it on their behalf; when the window ends, nothing is left to undo.
extension WorkflowEngine {
    /// Records that `user` is away on the days `from`…`until` (both included, in the
    /// configured zone) and `substitute` stands in; a nil substitute ends the person's windows
    /// that overlap those days.
    /// - Throws: `bad_arguments` for an empty or reversed window or a substitute who is the
    ///   person themself; `substitute_cycle` when the substitute (or someone they hand on to)
    ///   is away on one of those days naming `user`.
    public func recordAbsence(user: String, substitute: String?, from: CivilDate, until: CivilDate, actor: String) throws(EngineError) -> Absence {
        guard from <= until else {
            throw EngineError(.badArguments, "away: --from \(from) is after --until \(until)")
        }
        if substitute == user {
            throw EngineError(.badArguments, "away: \(user) cannot stand in for themself; name someone else with --substitute")
        }
        return try storeCommand {
            if let substitute {
                // A circle on any day of the window, through the substitutes' own substitutes.
                for day in stride(from: from.dayNumber, through: until.dayNumber, by: 1) {
                    let date = CivilDate(dayNumber: day)
                    let that = try substitutes(on: date)
                    if let circle = SubstituteChain.circle(from: user, to: substitute, substituteOf: { that[$0] }) {
                        throw EngineError(.substituteCycle, """
                            away: on \(date) the substitutes would go round in a circle (\(circle.joined(separator: " → "))): \
                            people cannot stand in for each other; choose another substitute or shorten the window
                            """)
                    }
                }
            }
            let now = clock.now
            return try perform { work -> Absence in
                try db.execute("""
                    INSERT INTO absence (user, substitute, from_day, until_day, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, [.text(user), substitute.map { .text($0) } ?? .null, .text(from.description), .text(until.description),
                          .text(actor), .integer(Millis.from(now))])
                let id = db.lastInsertRowID
                let text = substitute.map { "\(user) 于 \(from) 至 \(until) 请假，由 \($0) 代理" } ?? "\(user) 于 \(from) 至 \(until) 不再请假"
                var fields = ["absence": "\(id)", "user": user, "from": from.description, "until": until.description]
                if let substitute { fields["substitute"] = substitute }
                work.record(at: now, actor: actor, instance: nil, step: nil, .absenceRecorded, text, fields: fields)
                return Absence(id: id, user: user, substitute: substitute, from: from, until: until, recordedBy: actor, recordedAt: now)
            }
        }
    }

    /// Windows that end on or after `day` (the current and coming ones), of one person or all.
    public func absences(user: String? = nil, endingOnOrAfter day: CivilDate) throws(EngineError) -> [Absence] {
        do {
            var arguments: [SQLiteValue] = [.text(day.description)]
            var condition = "until_day >= ?"
            if let user {
                condition += " AND user = ?"
                arguments.append(.text(user))
            }
            return try db.query("""
                SELECT id, user, substitute, from_day, until_day, recorded_by, recorded_at FROM absence
                WHERE \(condition) ORDER BY from_day, id
                """, arguments).map { row in
                Absence(id: try row.int("id"), user: try row.text("user"), substitute: try row.optionalText("substitute"),
                        from: CivilDate(try row.text("from_day")) ?? day, until: CivilDate(try row.text("until_day")) ?? day,
                        recordedBy: try row.text("recorded_by"), recordedAt: Millis.date(try row.int("recorded_at")))
            }
        } catch {
            throw EngineError(.storeError, "\(error)")
        }
    }

    /// Who stands in for whom on `day`: each absent person's substitute — the latest
    /// `huaying away` record covering the day (one without a substitute ended the leave), else
    /// the org chart's `away:`.
    func substitutes(on day: CivilDate) throws -> [String: String] {
        let rows = try db.query("""
            SELECT user, substitute FROM absence a WHERE from_day <= ? AND until_day >= ?
            AND id = (SELECT max(id) FROM absence b WHERE b.user = a.user AND b.from_day <= ? AND b.until_day >= ?)
            """, Array(repeating: SQLiteValue.text(day.description), count: 4))
        var substitutes: [String: String] = [:]
        var recorded: Set<String> = []
        for row in rows {
            let user = try row.text("user")
            recorded.insert(user)
            substitutes[user] = try row.optionalText("substitute")
        }
        for member in support.orgChart?.staff ?? [] where !recorded.contains(member.user) {
            if let leave = member.away.first(where: { $0.from <= day && day <= $0.until }) {
                substitutes[member.user] = leave.substitute
            }
        }
        return substitutes
    }

    /// Everyone `substitute` stands in for now, directly or through up to ``SubstituteChain/hops``
    /// substitutes (B for A, and C for B's absent people when B is away with C).
    public func standingInFor(_ substitute: String) throws -> [String] {
        let today = LocalDateTime(clock.now, in: support.timeZone).date
        let standsInFor = Dictionary(grouping: try substitutes(on: today), by: \.value).mapValues { $0.map(\.key) }
        var covered: [String] = []
        var frontier = [substitute]
        for _ in 0..<SubstituteChain.hops {
            frontier = frontier.flatMap { standsInFor[$0] ?? [] }.filter { $0 != substitute && !covered.contains($0) }
            if frontier.isEmpty { break }
            covered += frontier
        }
        return covered.sorted()
    }

    /// Sends an open reminder again now (催办): a `reminder.nudged` row naming who asked and
    /// why; inboxes show the latest nudge. Nothing else changes (no repeat or escalation moves).
    /// - Throws: `unknown_reminder`, `already_acknowledged` or `cancelled`.
    public func nudge(reminder id: Int64, actor: String, note: String?) throws(EngineError) -> ReminderView {
        try storeCommand {
            try perform { work in
                guard let instanceID = try store.instanceOfReminder(id), let instance = try work.instance(instanceID),
                      let index = instance.reminderIndex(id) else {
                    throw EngineError(.unknownReminder, "no reminder \(id)")
                }
                let reminder = instance.reminders[index]
                switch reminder.state {
                case .acked:
                    throw EngineError(.alreadyAcknowledged, "reminder \(id) was already acknowledged by \(reminder.ackedBy ?? "?"); there is nothing to nudge")
                case .cancelled:
                    throw EngineError(.cancelled, "reminder \(id) was cancelled with its instance; there is nothing to nudge")
                case .open: break
                }
                var fields = ["reminder": "\(id)", "recipients": reminder.users.joined(separator: ",")]
                if let note { fields["note"] = note }
                work.record(at: clock.now, actor: actor, instance: instanceID, step: reminder.step, .reminderNudged,
                            "催办：\(reminder.message)" + (note.map { "（\($0)）" } ?? ""), fields: fields)
            }
            return try reminderViews(where: "r.id = ?", [.integer(id)]).first!
        }
    }

    /// The latest nudge of each of `reminders`: when and by whom (one query, through the
    /// ledger's instance index).
    func latestNudges(of reminders: [Int64]) throws -> [Int64: (at: Date, by: String)] {
        guard !reminders.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: reminders.count).joined(separator: ",")
        var latest: [Int64: (at: Date, by: String)] = [:]
        for row in try db.query("""
            SELECT at, actor, CAST(json_extract(fields, '$.reminder') AS INTEGER) AS reminder FROM ledger
            WHERE instance IN (SELECT DISTINCT instance FROM reminder WHERE id IN (\(marks)))
            AND event = '\(LedgerEvent.reminderNudged.rawValue)' ORDER BY seq
            """, reminders.map { .integer($0) }) {
            latest[try row.int("reminder")] = (Millis.date(try row.int("at")), try row.text("actor"))
        }
        return latest
    }
}

extension WorkflowEngine {
    /// The instance a reminder belongs to, or nil when there is no such reminder.
    public func instanceOfReminder(_ id: Int64) throws(EngineError) -> Int64? {
        do { return try store.instanceOfReminder(id) } catch { throw EngineError(.storeError, "\(error)") }
    }
}
