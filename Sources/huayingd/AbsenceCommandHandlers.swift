import ControlProtocol
import Foundation
import WorkflowEngine
import WorkflowModel

/// `away`, `absences` and `nudge`: substitutes during leave (请假/代理) and 催办.
///
/// - `away` records a window for the grant's user: staff for themselves, an admin for anyone
///   (`--as`). Without `substitute` it ends that person's windows on those days.
/// - `absences` lists the windows that have not ended: a staff member's own and those they
///   stand in for; an admin's, everyone's (or one person's with `--as`).
/// - `nudge` sends an open reminder again; anyone who can see its instance may (an admin, a
///   supervisor of its unit, a recipient).
extension EngineCommandHandlers {
    static let absenceCommands = ["away", "absences", "nudge"]

    func handleAbsenceCommand(_ command: String, _ arguments: Arguments, grant: Authorization.Grant, actor: String) throws -> JSONValue {
        switch command {
        case "away":
            let from = try day(arguments, "from"), until = try day(arguments, "until")
            let substitute = arguments.optionalString("substitute")
            if let substitute, let chart = engine.support.orgChart, chart.member(user: substitute) == nil {
                throw ControlError(.unknownUser, "away: --substitute \(substitute) is not a `user:` of the org chart; check the spelling (the Unix user name)")
            }
            let absence = try engine.recordAbsence(user: grant.user, substitute: substitute, from: from, until: until, actor: actor)
            return try encode(info(absence))
        case "absences":
            let today = LocalDateTime(engine.clock.now, in: timeZone).date
            let everyone = grant.units == nil && grant.user == grant.actor
            var windows = try engine.absences(user: everyone ? nil : grant.user, endingOnOrAfter: today)
            if !everyone {
                windows += try engine.absences(endingOnOrAfter: today).filter { $0.substitute == grant.user && $0.user != grant.user }
            }
            var listed = windows.map(info)
            // Leave written in staff.yaml (`away:`), listed with id 0 and recorded by staff.yaml.
            for member in engine.support.orgChart?.staff ?? [] {
                for leave in member.away where leave.until >= today
                    && (everyone || member.user == grant.user || leave.substitute == grant.user) {
                    listed.append(AbsenceInfo(id: 0, user: member.user, substitute: leave.substitute, from: leave.from.description,
                                              until: leave.until.description, recordedBy: "staff.yaml", recordedAt: time(engine.clock.now)))
                }
            }
            return try encode(listed.sorted { ($0.from, $0.id) < ($1.from, $1.id) })
        case "nudge":
            let id = try arguments.int("id")
            let note = arguments.optionalString("note")
            if let note, note.count > Self.maxNoteCharacters {
                throw ControlError(.noteTooLong, "the note has \(note.count) characters; at most \(Self.maxNoteCharacters) are kept in the ledger")
            }
            guard let instance = try engine.instanceOfReminder(id) else { throw ControlError(.unknownReminder, "no reminder \(id)") }
            let unit = try engine.unit(ofInstance: instance)
            guard try visible(instance, unit: unit, grant) else {
                throw ControlError(.notVisible, "reminder \(id) belongs to a unit you do not oversee, and it is not addressed to you")
            }
            return try encode(reminder(try engine.nudge(reminder: id, actor: actor, note: note)))
        default:
            throw ControlError.unknownCommand(command, known: Self.commands)
        }
    }

    private func day(_ arguments: Arguments, _ key: String) throws -> CivilDate {
        let text = try arguments.string(key)
        guard let date = CivilDate(text) else {
            throw ControlError(.badArguments, "away: --\(key) '\(text)' is not a date (YYYY-MM-DD)")
        }
        return date
    }

    private func info(_ absence: Absence) -> AbsenceInfo {
        AbsenceInfo(id: Int(absence.id), user: absence.user, substitute: absence.substitute, from: absence.from.description,
                    until: absence.until.description, recordedBy: absence.recordedBy, recordedAt: time(absence.recordedAt))
    }
}
