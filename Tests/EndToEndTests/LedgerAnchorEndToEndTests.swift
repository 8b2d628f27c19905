import ControlProtocol
import Foundation
import SQLiteStore
import Testing
@testable import WorkflowEngine
#if canImport(Glibc)
import Glibc
#endif

/// Issue 9, items 12, 13 and 25 with the real daemon: the ledger's head anchored outside the
/// database, the keyed chain, a clock that never moves backwards, and backup and restore.
@Suite struct LedgerAnchorEndToEndTests {
    static let end = "2026-11-12T09:00+08:00"

    /// A running daemon with more than 60 ledger rows: 6 drill instances run for 11 days of
    /// the simulated clock, some reminders acknowledged.
    private func siteWithHistory(_ site: TestSite, extraArguments: [String] = []) throws -> (TestDaemon, EngineCLI) {
        let daemon = try TestDaemon(site: site, extraArguments: ["--simulated-clock", "2026-11-01T09:00+08:00"] + extraArguments)
        let cli = EngineCLI(socket: site.socketPath)
        for (index, unit) in drillUnits.enumerated() {
            _ = try cli.start("drill", ["unit": unit.unit, "day": "2026-11-0\(5 + index)"])
        }
        _ = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-11-10"])
        try cli.setClock("2026-11-05T12:00")
        for reminder in try cli.inbox("zhaomin") { try cli.ack(reminder.id, as: "zhaomin", note: "已发") }
        try cli.setClock(Self.end)
        let rows = try cli.audit()
        try #require(rows.count > 60, "only \(rows.count) rows")
        return (daemon, cli)
    }

    private func drillSite(config extra: String = "") throws -> TestSite {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        if !extra.isEmpty {
            let config = try String(contentsOfFile: site.configPath, encoding: .utf8)
            try (config + "\n" + extra).write(toFile: site.configPath, atomically: true, encoding: .utf8)
        }
        return site
    }

    /// Runs huayingd expecting it to refuse to start; returns its exit status and log.
    private func refusedStart(_ site: TestSite, _ arguments: [String]) throws -> ProgramResult {
        try runProgram(Binaries.path("huayingd"), ["--config", site.configPath] + arguments, timeout: 60)
    }

    @Test(arguments: [1, 30, Int.max])
    func deletingTheLastRowsWhileStoppedRefusesTheNextStartNamingTheMissingTail(count: Int) throws {
        let site = try drillSite()
        defer { site.remove() }
        let (daemon, cli) = try siteWithHistory(site)
        let total = try cli.audit().count
        #expect(daemon.stop() == 0, "log: \(daemon.log)")

        let deleted = min(count, total)
        let db = try Database(path: site.databasePath)
        try Tamper.deleteLast(deleted, db)
        try db.close()

        let start = try refusedStart(site, ["--simulated-clock", Self.end])
        #expect(start.status == 1)
        let missing = deleted == 1 ? "row \(total) is missing" : "rows \(total - deleted + 1)–\(total) are missing"
        #expect(start.stderr.contains("CRITICAL") && start.stderr.contains(missing), "stderr: \(start.stderr)")
        #expect(start.stderr.contains("--accept-restore"), "stderr: \(start.stderr)")
    }

    @Test func deletingTheLastRowsWhileRunningIsNamedByAuditVerify() throws {
        let site = try drillSite()
        defer { site.remove() }
        let (daemon, cli) = try siteWithHistory(site)
        let total = try cli.audit().count

        let db = try Database(path: site.databasePath)
        try Tamper.deleteLast(30, db)
        try db.close()

        let verify = try cli.run(["audit", "--verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("FAILED at row \(total - 29): rows \(total - 29)–\(total) are missing"), "stdout: \(verify.stdout)")
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
    }

    @Test func aMissingAnchorWhereStateRunsShowsEarlierRunsRefusesTheStartUnlessAcceptRestore() throws {
        let site = try drillSite()
        defer { site.remove() }
        let (daemon, cli) = try siteWithHistory(site)
        let total = try cli.audit().count
        #expect(daemon.stop() == 0, "log: \(daemon.log)")

        // The anchor deleted, and with it the ledger's last rows: nothing else would notice.
        let anchor = site.stateDirectory + "/ledger-head.json"
        #expect(unlink(anchor) == 0)
        let db = try Database(path: site.databasePath)
        try Tamper.deleteLast(5, db)
        try db.close()

        let refused = try refusedStart(site, ["--simulated-clock", Self.end])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("CRITICAL cannot start: the anchored ledger head \(anchor) is missing, but state.runs shows earlier runs"),
                "stderr: \(refused.stderr)")
        #expect(refused.stderr.contains("start once with --accept-restore"), "stderr: \(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: anchor), "a refused start anchors nothing")

        let accepted = try TestDaemon(site: site, extraArguments: ["--simulated-clock", Self.end, "--accept-restore"])
        let record = try #require(try cli.audit().last)
        #expect(record.event == "state.restored")
        #expect(record.fields["anchor"] == "missing" && record.fields["restored.seq"] == "\(total - 5)", "\(record.fields)")
        #expect(try cli.run(["audit", "--verify"]).status == 0)
        #expect(accepted.stop() == 0)
        let next = try simulatedDaemon(site, at: Self.end)
        #expect(!next.log.contains("CRITICAL"), "\(next.log)")
        #expect(next.stop() == 0)
    }

    @Test func aStateDirectoryWithoutStateRunsIsAnchoredAtItsHeadOnce() throws {
        let site = try drillSite()
        defer { site.remove() }
        let (daemon, cli) = try siteWithHistory(site)
        let head = try #require(try cli.audit().last)
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        let anchor = site.stateDirectory + "/ledger-head.json"
        #expect(unlink(anchor) == 0 && unlink(site.stateDirectory + "/state.runs") == 0)

        let first = try simulatedDaemon(site, at: Self.end)
        #expect(first.log.contains("NOTICE no anchored ledger head yet; anchoring the database's head"), "\(first.log)")
        #expect(try LedgerAnchor.read(path: anchor)?.head.seq == Int64(head.seq))
        #expect(first.stop() == 0)
    }

    @Test func everyCommitLogsTheNewLedgerHead() throws {
        let site = try drillSite()
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        _ = try cli.start("drill", ["unit": "xijie", "day": "2026-11-20"])
        let started = try #require(try cli.audit().last)
        try cli.setClock("2026-11-15T12:00")
        let advanced = try #require(try cli.audit().last)
        #expect(advanced.seq > started.seq)
        for row in [started, advanced] {
            #expect(daemon.log.contains("INFO ledger head ledger.hash=\(row.hash) ledger.seq=\(row.seq)\n"), "log: \(daemon.log)")
        }
        #expect(daemon.stop() == 0)
    }

    @Test func aRealClockBehindTheStatesLatestTimeIsLoggedAtStart() throws {
        let site = try drillSite()
        defer { site.remove() }
        // A simulated run far ahead leaves a high-water mark the wall clock has not reached.
        let ahead = try simulatedDaemon(site, at: "2036-11-01T09:00+08:00")
        try EngineCLI(socket: site.socketPath).setClock("2036-11-02T09:00")
        #expect(ahead.stop() == 0)

        let real = try TestDaemon(site: site)
        #expect(real.log.contains("WARNING the wall clock is behind the latest time this state has seen"), "log: \(real.log)")
        #expect(real.log.contains("high_water=2036-11-02T01:00:00Z"), "log: \(real.log)")
        #expect(real.stop() == 0)
    }

    @Test func reChainingAfterAnEditWhileStoppedRefusesTheNextStart() throws {
        let site = try drillSite()
        defer { site.remove() }
        let (daemon, _) = try siteWithHistory(site)
        #expect(daemon.stop() == 0, "log: \(daemon.log)")

        let db = try Database(path: site.databasePath)
        try Tamper.dropTriggers(db)
        try db.execute("UPDATE ledger SET text = '已确认（改）' WHERE seq = 20")
        try Tamper.rechain(from: 20, db)
        try db.close()

        let start = try refusedStart(site, ["--simulated-clock", Self.end])
        #expect(start.status == 1)
        #expect(start.stderr.contains("re-chained or replaced"), "stderr: \(start.stderr)")
    }

    @Test func aForgedAppendedAcknowledgementWithACorrectHashIsCaughtWithTheKey() throws {
        let keyDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: keyDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: keyDirectory) }
        let keyPath = keyDirectory.appendingPathComponent("ledger.key").path
        try Data((0..<32).map { UInt8($0 * 7 & 0xff) }).write(to: URL(fileURLWithPath: keyPath))
        chmod(keyPath, 0o600)
        let site = try drillSite(config: "ledger:\n  hmac_key_file: \(keyPath)\n")
        defer { site.remove() }
        let (daemon, cli) = try siteWithHistory(site)
        #expect(try cli.audit().first?.event == "ledger.keyed")
        #expect(try cli.run(["audit", "--verify"]).status == 0)
        #expect(daemon.stop() == 0, "log: \(daemon.log)")

        // The forger acknowledges an open reminder in its table and appends a row with a
        // correct sha256 hash after the head, as a crash-window row would be.
        let db = try Database(path: site.databasePath)
        let open = try #require(try db.queryOne("SELECT id, instance, step FROM reminder WHERE state = 'open' ORDER BY id LIMIT 1"))
        let reminder = try open.int("id")
        try db.execute("UPDATE reminder SET state = 'acked', acked_by = 'linfeng', acked_at = 0 WHERE id = ?", [.integer(reminder)])
        let headAt = try #require(try db.queryOne("SELECT max(at) AS at FROM ledger")?.int("at"))
        let forged = try Tamper.append(db, at: headAt, actor: "linfeng", instance: try open.int("instance"), step: try open.text("step"),
                                       event: "reminder.acknowledged", text: "已确认", fields: ["reminder": "\(reminder)"])
        try db.close()

        let restarted = try simulatedDaemon(site, at: Self.end)
        #expect(restarted.log.contains("CRITICAL") && restarted.log.contains("broken at row \(forged)"), "log: \(restarted.log)")
        let verify = try cli.run(["audit", "--verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("FAILED at row \(forged): the row has a plain sha256 hash"), "stdout: \(verify.stdout)")
        #expect(restarted.stop() == 0)
    }

    @Test func aKeyFileOthersCanReadRefusesTheStart() throws {
        let keyPath = "/tmp/hy-key-\(UUID().uuidString.prefix(8))"
        try Data(repeating: 5, count: 32).write(to: URL(fileURLWithPath: keyPath))
        defer { unlink(keyPath) }
        chmod(keyPath, 0o644)
        let site = try drillSite(config: "ledger:\n  hmac_key_file: \(keyPath)\n")
        defer { site.remove() }
        let start = try refusedStart(site, ["--simulated-clock", Self.end])
        #expect(start.status == 1)
        #expect(start.stderr.contains("ledger key \(keyPath): has mode 644; only its owner may read it: chmod 0600"), "stderr: \(start.stderr)")
        let check = try refusedStart(site, ["--check-config"])
        #expect(check.status == 2 && check.stderr.contains("chmod 0600"), "stderr: \(check.stderr)")
    }

    @Test func anEarlierSimulatedClockIsRefused() throws {
        let site = try drillSite()
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let cli = EngineCLI(socket: site.socketPath)
        _ = try cli.start("drill", ["unit": "xijie", "day": "2026-11-20"])
        // A clock move without any ledger row counts too.
        try cli.setClock("2026-11-03T09:00")
        #expect(daemon.stop() == 0)

        let earlier = try refusedStart(site, ["--simulated-clock", "2026-11-02T09:00+08:00"])
        #expect(earlier.status == 1)
        #expect(earlier.stderr.contains("is earlier than the latest time this state has seen, 2026-11-03T01:00:00Z"), "stderr: \(earlier.stderr)")

        let same = try simulatedDaemon(site, at: "2026-11-03T09:00+08:00")
        #expect(try cli.now() == shanghaiTime("2026-11-03T09:00"))
        #expect(same.stop() == 0)
    }

    @Test func aBackupWhileTheDaemonRunsRestoresWithAcceptRestore() throws {
        let site = try drillSite()
        defer { site.remove() }
        let (daemon, cli) = try siteWithHistory(site)

        // Acknowledgements and clock moves keep arriving while the backup is written.
        let busy = try BackgroundProgram("/bin/sh", ["-c", """
            for i in $(seq 24); do "$0" --socket "$1" clock advance 1h >/dev/null || exit 1; done
            """, Binaries.path("huaying"), site.socketPath])
        let file = site.root.appendingPathComponent("backup-1.db").path
        let backup = try cli.run(["backup", file, "--json"])
        #expect(busy.wait().status == 0)
        #expect(backup.status == 0, "stdout: \(backup.stdout) stderr: \(backup.stderr)")
        let status = try JSONDecoder().decode(BackupStatus.self, from: Data(backup.stdout.utf8))
        #expect(status.state == "done" && status.rowsVerified > 60 && status.ledgerHeadSeq == status.rowsVerified)
        var info = stat()
        #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o640)
        #expect(!FileManager.default.fileExists(atPath: file + ".partial"))

        // The copy verifies on its own; a second backup never overwrites it.
        let copy = try Database(path: file)
        let copyRows = try #require(try copy.queryOne("SELECT count(*) AS n FROM ledger")?.int("n"))
        #expect(copyRows == Int64(status.rowsVerified))
        try copy.close()
        let again = try cli.run(["backup", file])
        #expect(again.status == 4 && again.stderr.contains("file_exists"), "stderr: \(again.stderr)")
        let human = try cli.run(["backup", site.root.appendingPathComponent("backup-2.db").path])
        #expect(human.status == 0 && human.stdout.contains("backup written: ") && human.stdout.contains("its ledger verified: "), "\(human.stdout)\(human.stderr)")

        // More happens after the backup (a new instance: repeats end by themselves, so a clock
        // move alone may write nothing); then the disk is lost and the backup put in place.
        _ = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-12-20"])
        _ = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-12-21"])
        try cli.advance("1d")
        let head = try #require(try cli.audit().last)
        let clock = try cli.now()
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        for suffix in ["", "-wal", "-shm"] { unlink(site.databasePath + suffix) }
        try FileManager.default.copyItem(atPath: file, toPath: site.databasePath)

        let refused = try refusedStart(site, ["--simulated-clock", shanghaiISO(clock)])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("rows \(status.rowsVerified + 1)–\(head.seq) are missing") && refused.stderr.contains("--accept-restore"),
                "stderr: \(refused.stderr)")

        let restored = try TestDaemon(site: site, extraArguments: ["--simulated-clock", shanghaiISO(clock), "--accept-restore"])
        let rows = try cli.audit()
        let record = try #require(rows.last)
        #expect(record.event == "state.restored")
        #expect(record.fields["anchor.seq"] == "\(head.seq)" && record.fields["anchor.hash"] == head.hash)
        #expect(record.fields["restored.seq"] == "\(status.rowsVerified)")
        let verify = try cli.run(["audit", "--verify"])
        #expect(verify.status == 0, "stdout: \(verify.stdout)")
        #expect(restored.stop() == 0)

        // The restore is accepted once: the next start needs no flag.
        let next = try simulatedDaemon(site, at: shanghaiISO(clock))
        #expect(next.stop() == 0)
    }
}
