import ControlProtocol
import Foundation
import SQLiteStore
import Testing

/// Editing or deleting a ledger row in the SQLite file (behind the daemon's back) makes
/// `huaying audit --verify` fail, naming that row.
@Suite struct LedgerTamperTests {
    /// A stopped site with some ledger history: 3 drill instances run for a week of the
    /// simulated clock (records, reminders, repeats, escalations, acknowledgements).
    private func siteWithHistory() throws -> (TestSite, [LedgerRow]) {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        for (unit, day) in [("guqiao-shequ", "2026-11-08"), ("xijie", "2026-11-09"), ("huangjue", "2026-11-10")] {
            _ = try cli.start("drill", ["unit": unit, "day": day])
        }
        try cli.setClock("2026-11-04T12:00")
        for reminder in try cli.inbox("zhaomin") { try cli.ack(reminder.id, as: "zhaomin", note: "已发") }
        try cli.setClock("2026-11-08T09:00")
        let rows = try cli.audit()
        #expect(rows.count > 20)
        #expect(Set(rows.map(\.event)).isSuperset(of: ["instance.started", "step.recorded", "reminder.sent", "reminder.repeated",
                                                        "reminder.escalated", "reminder.acknowledged"]))
        let verify = try cli.run(["audit", "--verify"])
        #expect(verify.status == 0 && verify.stdout.contains("ledger verified: \(rows.count) rows"), "\(verify.stdout)\(verify.stderr)")
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        return (site, rows)
    }

    @Test func editingOneRowsTextFailsVerificationAtThatRow() throws {
        let (site, rows) = try siteWithHistory()
        defer { site.remove() }
        let target = rows[rows.count / 2]

        let db = try Database(path: site.databasePath)
        // The ledger refuses an UPDATE through its trigger; a tamperer drops it first.
        #expect(throws: (any Error).self) {
            try db.execute("UPDATE ledger SET text = '篡改' WHERE seq = ?", [.integer(Int64(target.seq))])
        }
        try db.execute("DROP TRIGGER ledger_no_update")
        try db.execute("UPDATE ledger SET text = ? WHERE seq = ?", [.text(target.text + "（已篡改）"), .integer(Int64(target.seq))])
        #expect(db.changes == 1)
        try db.close()

        let daemon = try simulatedDaemon(site, at: "2026-11-08T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        let verify = try cli.run(["audit", "--verify"])
        #expect(verify.status == 1, "stdout: \(verify.stdout) stderr: \(verify.stderr)")
        #expect(verify.stdout.contains("ledger verification FAILED at row \(target.seq):"), "stdout: \(verify.stdout)")

        let json = try cli.run(["audit", "--verify", "--json"])
        #expect(json.status == 1)
        let result = try JSONDecoder().decode(AuditResult.self, from: Data(json.stdout.utf8))
        #expect(result.verification?.ok == false)
        #expect(result.verification?.firstBadSeq == target.seq)
        #expect(result.verification?.rowsChecked == target.seq - 1)
        #expect(result.verification?.reason?.contains("edited") == true, "\(result.verification?.reason ?? "-")")
        #expect(result.rows.first { $0.seq == target.seq }?.text == target.text + "（已篡改）")

        // The daemon keeps working and appending; the chain stays broken at that row.
        try EngineCLI(socket: site.socketPath).advance("1d")
        let again = try cli.run(["audit", "--verify", "--json"])
        #expect(again.status == 1)
        #expect(try JSONDecoder().decode(AuditResult.self, from: Data(again.stdout.utf8)).verification?.firstBadSeq == target.seq)
        // CSV export with --verify: the verdict on standard error, the exit code still 1.
        let csv = try cli.run(["audit", "--verify", "--export", "csv"])
        #expect(csv.status == 1 && csv.stderr.contains("row \(target.seq)"), "stderr: \(csv.stderr)")
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    @Test func deletingARowFailsVerificationNamingTheMissingRow() throws {
        let (site, rows) = try siteWithHistory()
        defer { site.remove() }
        let target = rows[rows.count / 3]

        let db = try Database(path: site.databasePath)
        try db.execute("DROP TRIGGER ledger_no_delete")
        try db.execute("DELETE FROM ledger WHERE seq = ?", [.integer(Int64(target.seq))])
        try db.close()

        let daemon = try simulatedDaemon(site, at: "2026-11-08T09:00+08:00")
        let verify = try EngineCLI(socket: site.socketPath).run(["audit", "--verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("ledger verification FAILED at row \(target.seq + 1): row \(target.seq) is missing"),
                "stdout: \(verify.stdout) stderr: \(verify.stderr)")
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    @Test func editingAFieldOtherThanTheTextIsCaughtToo() throws {
        let (site, rows) = try siteWithHistory()
        defer { site.remove() }
        // Backdate an acknowledgement: the kind of edit someone might want to hide.
        let target = try #require(rows.first { $0.event == "reminder.acknowledged" })

        let db = try Database(path: site.databasePath)
        try db.execute("DROP TRIGGER ledger_no_update")
        try db.execute("UPDATE ledger SET at = at - 86400000 WHERE seq = ?", [.integer(Int64(target.seq))])
        try db.close()

        let daemon = try simulatedDaemon(site, at: "2026-11-08T09:00+08:00")
        let verify = try EngineCLI(socket: site.socketPath).run(["audit", "--verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("FAILED at row \(target.seq):"), "stdout: \(verify.stdout)")
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }
}
