import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying report INSTANCE --html FILE`: the instance's 工作台账 as a printable A4 page.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractReport(),
        discussion: """
            The page has a header (unit, workflow, version, params), every step with its legal \
            basis (the 依据 its reminder cites), due time, statutory deadline, when it was done \
            and by whom, the note and recorded values, escalations and late marks, then the \
            instance's ledger rows with their hashes and the result of checking the whole \
            chain (admins; for staff the page says it was not checked). Self-contained: no \
            scripts, fonts or images from the network; prints on A4.
            """)

    @OptionGroup var globals: GlobalOptions

    @Argument(help: ArgumentHelp("The instance id.", valueName: "id"))
    var id: Int

    @Option(name: .long, help: ArgumentHelp("Write the page to this file.", valueName: "file"))
    var html: String

    func run() throws {
        let detail = try EngineOutput.call("show", arguments: ["id": .number(Double(id))], globals: globals, as: InstanceDetail.self)
        var rows: [LedgerRow] = []
        var after = 0
        repeat {
            let page = try EngineOutput.call("audit", arguments: ["instance": .number(Double(id)), "after_seq": .number(Double(after))],
                                             globals: globals, as: AuditResult.self)
            rows += page.rows
            guard let last = page.rows.last, page.rows.count >= Audit.pageSize else { break }
            after = last.seq
        } while true
        // The whole chain is for admins; a staff member's page says it was not checked.
        var verification: Result<LedgerVerification, ControlError>
        switch try requestDaemon("audit", arguments: ["verify": .bool(true), "rows": .bool(false)], globals: globals) {
        case let .success(value):
            let result = try EngineOutput.decode(value, as: AuditResult.self, command: "audit")
            verification = result.verification.map { .success($0) } ?? .failure(ControlError(.unknown, "no verification in the answer"))
        case let .failure(error):
            verification = .failure(error)
        }
        try HTMLPage.write(Self.page(detail, rows: rows, verification: verification, printedAt: Date()), to: html, command: "report")
        print(Message.pageWritten(html))
    }

    /// The legal basis a reminder's text cites: from `依据：` to the end of that sentence.
    static func basis(in text: String) -> String? {
        guard let start = text.range(of: "依据：") else { return nil }
        let rest = text[start.upperBound...]
        let end = rest.firstIndex(of: "。").map { rest[..<$0] } ?? rest
        return String(end).trimmingCharacters(in: .whitespaces)
    }

    static func page(_ detail: InstanceDetail, rows: [LedgerRow], verification: Result<LedgerVerification, ControlError>,
                     printedAt: Date) -> String {
        let e = HTMLPage.escape
        var body = "<h1>\(e(Message.reportTitle(detail.title)))</h1>\n"
        var meta: [[String]] = [
            [Message.showUnit(), detail.unit ?? "-"],
            [Message.headerWorkflow(), "\(detail.workflow) · \(detail.title)"],
            [Message.headerVersion(), detail.version],
            [Message.showState(), Catalogue.instanceState(detail.state)],
            [Message.showStarted(), Message.showStartedBy(EngineOutput.time(detail.startedAt), detail.startedBy)],
        ]
        for name in detail.params.keys.sorted() { meta.append([Message.showParam(), "\(name) = \(detail.params[name]!)"]) }
        if let ended = detail.endedAt { meta.append([Message.showEnded(), EngineOutput.time(ended)]) }
        if let reason = detail.cancelReason { meta.append([Message.showCancelled(), reason]) }
        body += "<table class=\"meta\"><tbody>\n"
        body += meta.map { "<tr><th>\(e($0[0]))</th><td>\(e($0[1]))</td></tr>" }.joined(separator: "\n")
        body += "\n</tbody></table>\n"

        body += "<h2>\(e(Message.reportSteps()))</h2>\n"
        var stepRows: [[String]] = []
        for step in detail.steps {
            let reminders = detail.reminders.filter { $0.step == step.id }
            let legalBasis = reminders.lazy.compactMap { Self.basis(in: $0.message) }.first
                ?? rows.lazy.filter { $0.step == step.id }.compactMap { Self.basis(in: $0.text) }.first
            let escalations = rows.filter { $0.step == step.id && $0.event == LedgerEvent.reminderEscalated.rawValue }
            var done = e(step.doneAt.map(EngineOutput.time) ?? "—")
            if let by = step.ackedBy { done += "<br>" + e(Message.reportAckedBy(by)) }
            var notes: [String] = []
            if let note = step.note, !note.isEmpty { notes.append(e(note)) }
            for reminder in reminders where !reminder.fields.isEmpty { notes.append(e(EngineOutput.pairs(reminder.fields))) }
            if let failure = step.failure { notes.append("<span class=\"overdue\">\(e(failure))</span>") }
            var marks: [String] = []
            if step.lateBySeconds > 0 { marks.append("<span class=\"late\">\(e(Message.showLate(TextFormatting.duration(seconds: step.lateBySeconds))))</span>") }
            for escalation in escalations {
                marks.append("<span class=\"escalated\">\(e(Message.escalated())) \(e(EngineOutput.time(escalation.at)))</span>")
            }
            if reminders.contains(where: { $0.overdue }) { marks.append("<span class=\"overdue\">\(e(Message.overdue()))</span>") }
            stepRows.append([
                "<b>\(e(step.title))</b><br><span class=\"small\">\(e(step.id)) · \(e(Catalogue.stepState(step.state)))</span>",
                e(legalBasis ?? "—"), e(ProvisionalMark.time(step.due, step.provisionalYears)),
                e(step.deadline.map { ProvisionalMark.time($0, step.provisionalYears) } ?? "—"),
                done,
                notes.joined(separator: "<br>"), marks.joined(separator: "<br>"),
            ])
        }
        body += HTMLPage.table([Message.headerStep(), Message.reportBasis(), Message.headerDue(), Message.headerDeadline(),
                                Message.reportDone(), Message.reportNotes(), Message.reportMarks()], stepRows)

        body += "\n<h2>\(e(Message.reportLedger()))</h2>\n"
        body += HTMLPage.table([Message.headerSeq(), Message.headerAt(), Message.headerActor(), Message.headerStep(),
                                Message.headerEvent(), Message.headerText(), "sha256"],
                               rows.map { row in
                                   [String(row.seq), e(EngineOutput.time(row.at)), e(row.actor), e(row.step ?? "-"), e(row.event),
                                    e(row.text + (row.fields.isEmpty ? "" : " [\(EngineOutput.pairs(row.fields))]")),
                                    "<span class=\"hash\">\(e(row.hash))</span>"]
                               })
        switch verification {
        case let .success(check) where check.ok:
            body += "\n<p class=\"ok\">\(e(check.rowsChecked == 1 ? Message.auditVerifiedOne() : Message.auditVerified(check.rowsChecked)))</p>\n"
        case let .success(check):
            body += "\n<p class=\"overdue\">\(e(Audit.verdict(check)))</p>\n"
        case let .failure(error):
            body += "\n<p class=\"small\">\(e(Message.reportNotVerified(refusalReason(error))))</p>\n"
        }
        let stamp = ISO8601DateFormatter().string(from: printedAt)
        body += "<footer>\(e(Message.reportFooter(detail.id, stamp)))</footer>"
        return HTMLPage.document(title: Message.reportTitle(detail.title), language: .current, body: body)
    }
}
