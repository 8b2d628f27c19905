import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying audit [--instance ID] [--verify] [--export csv]`: the ledger, and a check of its hash chain.
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractAudit(),
        discussion: """
            Every row is chained to the one before by a sha256 hash (an HMAC when the ledger is \
            keyed), so an edited or deleted row breaks the chain. --verify checks the whole chain, \
            the end against the head the daemon committed (naming a missing tail), that time never \
            goes backwards, and the instance and reminder tables against the ledger; it prints \
            "ledger verified: N rows" (exit 0) or "ledger verification FAILED at row SEQ: reason" \
            (exit 1). --export csv \
            prints the rows as RFC 4180 CSV (UTF-8, CRLF line ends) with the columns \
            seq,at,actor,instance,step,event,text,hash. With --verify and --export or --json, \
            the rows are printed and the exit code still says whether the chain holds.
            """
    )

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
        case csv
    }

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print the rows (and the verification) as JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Only the rows of this instance.", valueName: "id"))
    var instance: Int?

    @Flag(name: .long, help: "Check the hash chain of the whole ledger.")
    var verify = false

    @Option(name: .long, help: ArgumentHelp("Print the rows in this format instead of a table: csv.", valueName: "format"))
    var export: ExportFormat?

    func validate() throws {
        if json, export != nil { throw ValidationError("--json and --export are alternatives; give one") }
    }

    func run() throws {
        let result = try fetch()
        var verification: LedgerVerification?
        if verify {
            guard let found = result.verification else {
                printError("huaying: audit: the daemon did not verify the ledger (no \"verification\" in its answer)")
                throw ExitCode(ExitStatus.unavailable)
            }
            verification = found
        }
        if json {
            try printJSON(result)
        } else if export == .csv {
            // Swift.print: the cells are already made safe, and CR LF must stay.
            Swift.print(result.csv(), terminator: "")
            if let verification { printError(Self.verdict(verification)) }
        } else if let verification {
            print(Self.verdict(verification))
        } else if result.rows.isEmpty {
            print(instance.map { Message.auditNoRows($0) } ?? Message.auditEmpty())
        } else {
            print(Self.render(result.rows))
        }
        if let verification, !verification.ok { throw ExitCode(ExitStatus.failed) }
    }

    /// The rows page by page (the daemon answers at most a few thousand per request), and the
    /// verification when asked; a plain `--verify` fetches no rows.
    private func fetch() throws -> AuditResult {
        let wantRows = !verify || json || export != nil
        var rows: [LedgerRow] = []
        var verification: LedgerVerification?
        var after = 0
        repeat {
            var arguments: [String: JSONValue] = ["verify": .bool(verify && verification == nil), "rows": .bool(wantRows),
                                                  "after_seq": .number(Double(after))]
            if let instance { arguments["instance"] = .number(Double(instance)) }
            let page = try EngineOutput.call("audit", arguments: arguments, globals: globals, as: AuditResult.self)
            if verify && verification == nil { verification = page.verification }
            rows += page.rows
            guard wantRows, let last = page.rows.last, page.rows.count >= Self.pageSize else { break }
            after = last.seq
        } while true
        var result = AuditResult(rows: rows, verification: verification)
        if verify, verification == nil { result.verification = nil }
        return result
    }

    /// The daemon's page size (`EngineCommandHandlers.auditPageLimit`): a shorter page is the last.
    static let pageSize = 5000

    /// `ledger verified: N rows` or `ledger verification FAILED at row SEQ: reason`.
    static func verdict(_ verification: LedgerVerification) -> String {
        if verification.ok {
            return verification.rowsChecked == 1 ? Message.auditVerifiedOne() : Message.auditVerified(verification.rowsChecked)
        }
        let reason = verification.reason ?? Message.auditNoReason()
        return verification.firstBadSeq.map { Message.auditFailedAt($0, reason) } ?? Message.auditFailed(reason)
    }

    static func render(_ rows: [LedgerRow]) -> String {
        var table = [[Message.headerSeq(), Message.headerAt(), Message.headerActor(), Message.headerInstance(), Message.headerStep(),
                      Message.headerEvent(), Message.headerText()]]
        for row in rows {
            var text = row.text
            if !row.fields.isEmpty { text += " [\(EngineOutput.pairs(row.fields))]" }
            table.append([
                String(row.seq), EngineOutput.time(row.at), row.actor, row.instance.map(String.init) ?? "-",
                row.step ?? "-", row.event, TextFormatting.truncate(text, toWidth: 60),
            ])
        }
        return TextFormatting.table(table)
    }
}

extension AuditResult {
    /// The columns of `huaying audit --export csv`, in order.
    static let csvHeader = ["seq", "at", "actor", "instance", "step", "event", "text", "hash"]

    /// The rows as RFC 4180 CSV: a header line, then one record per row, CRLF line ends, fields
    /// quoted when they contain a comma, a quote or a line break, formula-like fields defused
    /// (``TextFormatting/csvField(_:)``). An absent instance or step is an empty field; `fields`
    /// are not exported (they are in `--json`).
    func csv() -> String {
        var records = [Self.csvHeader]
        for row in rows {
            records.append([String(row.seq), row.at, row.actor, row.instance.map(String.init) ?? "", row.step ?? "",
                            row.event, row.text, row.hash])
        }
        return TextFormatting.csv(records)
    }
}
