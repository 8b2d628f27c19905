import ControlProtocol
import Foundation
import SQLiteStore
import Testing
import WorkflowEngine
#if canImport(Glibc)
import Glibc
#endif

/// The state database never vanishes silently: not replaced by an empty one at start, not
/// lost unnoticed while running, not readable by everyone, and a database that cannot be used
/// is named with what to do.
@Suite struct StateSafetyTests {
    private func startFails(_ site: TestSite, _ arguments: [String] = []) throws -> ProgramResult {
        let result = try runProgram(Binaries.path("huayingd"), ["--config", site.configPath] + arguments, timeout: 60)
        #expect(result.status == 1, "huayingd should refuse to start: \(result.stderr)")
        return result
    }

    private func removeDatabase(_ site: TestSite) {
        for suffix in ["", "-wal", "-shm"] { unlink(site.databasePath + suffix) }
    }

    @Test func aMissingOrEmptyDatabaseInAUsedStateDirectoryIsRefusedUnlessInitState() throws {
        let site = try TestSite()
        defer { site.remove() }
        #expect(try TestDaemon(site: site).stop() == 0)
        #expect(FileManager.default.fileExists(atPath: site.stateDirectory + "/state.runs"))

        removeDatabase(site)
        let missing = try startFails(site)
        #expect(missing.stderr.contains("state database \(site.databasePath) is missing, but this state directory was used before"), "\(missing.stderr)")
        #expect(missing.stderr.contains("huayingd --init-state") && missing.stderr.contains("docs/operations.md"))
        #expect(!FileManager.default.fileExists(atPath: site.databasePath), "no empty database was created")

        FileManager.default.createFile(atPath: site.databasePath, contents: Data())
        let empty = try startFails(site)
        #expect(empty.stderr.contains("is empty (0 bytes)"), "\(empty.stderr)")

        let fresh = try TestDaemon(site: site, extraArguments: ["--init-state"])
        #expect(fresh.log.contains("creating a new, empty state database as asked (--init-state)"))
        #expect(fresh.stop() == 0)
        // From then on an ordinary start is fine again.
        #expect(try TestDaemon(site: site).stop() == 0)
    }

    private var drillStart: [String] { ["--simulated-clock", "2026-11-01T09:00+08:00"] }

    @Test func initStateBeginsANewHistoryWhereTheLostDatabaseHadLedgerRows() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let first = try TestDaemon(site: site, extraArguments: drillStart)
        let cli = EngineCLI(socket: site.socketPath)
        _ = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-11-10"])
        let head = try #require(try cli.audit().last)
        #expect(first.stop() == 0)
        removeDatabase(site)

        // The anchor alone shows that the directory was used.
        let anchor = site.stateDirectory + "/ledger-head.json"
        let hidden = ["huayingd.lock", "state.runs"].map { site.stateDirectory + "/" + $0 }
        for path in hidden { #expect(rename(path, path + ".hidden") == 0) }
        let anchorOnly = try startFails(site, drillStart)
        #expect(anchorOnly.stderr.contains("is missing, but this state directory was used before (\(anchor) exist)"), "\(anchorOnly.stderr)")
        #expect(!FileManager.default.fileExists(atPath: site.databasePath), "no empty database was created")
        for path in hidden { #expect(rename(path + ".hidden", path) == 0) }

        let fresh = try TestDaemon(site: site, extraArguments: drillStart + ["--init-state"])
        #expect(fresh.log.contains("creating a new, empty state database as asked (--init-state)"), "\(fresh.log)")
        #expect(fresh.log.contains("NOTICE --init-state: the old anchored ledger head was moved aside (it named row \(head.seq), hash \(head.hash))"),
                "\(fresh.log)")
        let aside = try FileManager.default.contentsOfDirectory(atPath: site.stateDirectory).filter { $0.hasPrefix("ledger-head.json.before-init-") }
        #expect(aside.count == 1, "\(aside)")
        #expect(try cli.audit().isEmpty)
        _ = try cli.start("drill", ["unit": "xijie", "day": "2026-11-11"])
        #expect(try cli.run(["audit", "--verify"]).status == 0)
        #expect(fresh.stop() == 0)
        // The new history is anchored: an ordinary start follows it.
        let next = try TestDaemon(site: site, extraArguments: drillStart)
        #expect(!next.log.contains("CRITICAL"), "\(next.log)")
        #expect(next.stop() == 0)
    }

    @Test func aFirstStartInAnUnusedStateDirectoryNeedsNoFlag() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        #expect(!daemon.log.contains("--init-state"))
        #expect(daemon.stop() == 0)
    }

    private func status(_ site: TestSite) throws -> (ProgramResult, StatusResult?) {
        let result = try huaying(["--socket", site.socketPath, "status", "--json"])
        return (result, try? JSONDecoder().decode(StatusResult.self, from: Data(result.stdout.utf8)))
    }

    private func expectStateLost(_ site: TestSite, _ daemon: TestDaemon, naming fragment: String) throws {
        // Checked before each write command, so no clock or timer is involved.
        let start = try huaying(["--socket", site.socketPath, "start", "drill", "--param", "unit=guqiao-shequ", "--param", "day=2026-11-10"])
        #expect(start.status == 4)
        #expect(start.stderr.contains("[state_lost]") && start.stderr.contains(fragment), "\(start.stderr)")
        let reload = try huaying(["--socket", site.socketPath, "reload"])
        #expect(reload.stderr.contains("[state_lost]"), "\(reload.stderr)")
        // Leave and nudges write to the database too.
        let away = try huaying(["--socket", site.socketPath, "--as", "zhaomin", "away", "--from", "2026-11-10", "--until", "2026-11-11", "--substitute", "sunli"])
        #expect(away.stderr.contains("[state_lost]"), "\(away.stderr)")
        let nudge = try huaying(["--socket", site.socketPath, "nudge", "1"])
        #expect(nudge.stderr.contains("[state_lost]"), "\(nudge.stderr)")
        // Reading still works, and status says what happened (exit 1).
        #expect(try huaying(["--socket", site.socketPath, "instances"]).status == 0)
        let (result, status) = try status(site)
        #expect(result.status == 1)
        #expect(status?.stateError?.contains(fragment) == true, "\(result.stdout)")
        #expect(status?.counts["state_lost"] == 1)
        let human = try huaying(["--socket", site.socketPath, "status"])
        #expect(human.stdout.hasPrefix("CRITICAL  state database lost"), "\(human.stdout)")
        #expect(daemon.log.contains("CRITICAL state database lost: "), "\(daemon.log)")
        #expect(daemon.log.contains(fragment))
    }

    @Test func deletingTheDatabaseWhileRunningStopsEveryWriteLoudly() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        #expect(try huaying(["--socket", site.socketPath, "start", "drill", "--param", "unit=guqiao-shequ", "--param", "day=2026-11-10"]).status == 0)
        #expect(unlink(site.databasePath) == 0)
        try expectStateLost(site, daemon, naming: "\(site.databasePath) was deleted")
        #expect(daemon.stop() == 0)
        // And the next start refuses to begin an empty history in its place.
        let next = try startFails(site)
        #expect(next.stderr.contains("is missing, but this state directory was used before"))
    }

    @Test func deletingTheWALWhileRunningIsCaughtToo() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        #expect(FileManager.default.fileExists(atPath: site.databasePath + "-wal"))
        #expect(unlink(site.databasePath + "-wal") == 0)
        try expectStateLost(site, daemon, naming: "\(site.databasePath)-wal was deleted")
        #expect(daemon.stop() == 0)
    }

    /// Issue 9 item 10, "checked each batch": a database deleted in the middle of a clock
    /// advance through 30,000 due steps takes at most the one batch whose commit noticed it.
    /// The daemon is frozen (SIGSTOP) while the test counts the committed rows and deletes the
    /// file, so the deletion falls between two known batches; every commit logs its head.
    @Test func aDatabaseDeletedDuringAClockAdvanceTakesAtMostOneMoreBatch() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["burst.yaml": BacklogResponsivenessTests.workflow])
        defer { site.remove() }
        let daemon = try TestDaemon(site: site, extraArguments: ["--simulated-clock", "2026-11-02T09:00+08:00"])
        let instances = 3000
        try BacklogResponsivenessTests.startMany(instances, socket: site.socketPath)
        let reader = try Database(path: site.databasePath)
        let committed = { () throws -> Int64 in try reader.queryOne("SELECT count(*) AS n FROM ledger")?.int("n") ?? 0 }
        let before = try committed()
        let all = before + Int64(instances * BacklogResponsivenessTests.steps)

        let advance = try BackgroundProgram(Binaries.path("huaying"), ["--socket", site.socketPath, "clock", "advance", "2m"])
        let deadline = Date().addingTimeInterval(60)
        while try committed() == before, Date() < deadline { usleep(2_000) }
        kill(daemon.process.processIdentifier, SIGSTOP)
        let deletedAt = try committed()
        try reader.close()
        #expect(unlink(site.databasePath) == 0)
        kill(daemon.process.processIdentifier, SIGCONT)
        try #require(deletedAt > before && deletedAt < all, "the advance was under way when the database was deleted (\(before) → \(deletedAt) of \(all))")

        let answer = advance.wait()
        #expect(answer.status != 0, "the advance did not finish: \(answer.stdout)")
        // Named for what happened, not "the daemon is stopping".
        #expect(answer.stderr.contains("[state_lost]") && answer.stderr.contains("the clock stopped at"), "\(answer.stderr)")
        let headsAfter = daemon.log.split(separator: "\n").compactMap { line -> Int64? in
            guard line.contains(" ledger head "), let seq = line.split(separator: " ").first(where: { $0.hasPrefix("ledger.seq=") }) else { return nil }
            return Int64(seq.dropFirst("ledger.seq=".count)).flatMap { $0 > deletedAt ? $0 : nil }
        }
        #expect(headsAfter.count <= 1, "batches committed into the deleted file: \(headsAfter.count) (ledger heads \(headsAfter))")
        #expect(daemon.log.contains("CRITICAL state database lost: \(site.databasePath) was deleted"), "\(daemon.log.suffix(2000))")
        #expect(daemon.stop() == 0)
    }

    /// Issue 9 item 11, the crash half: the WAL's confirmed work is gone after a SIGKILL, and
    /// the anchor names exactly the rows that went with it.
    @Test func aWALDeletedWhileRunningThenACrashRefusesTheNextStartNamingTheLostRows() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let cli = EngineCLI(socket: site.socketPath)
        // A clean stop copies the WAL into state.db: these rows survive.
        let first = try TestDaemon(site: site, extraArguments: drillStart)
        _ = try cli.start("drill", ["unit": "guqiao-shequ", "day": "2026-11-10"])
        let kept = try cli.audit().count
        #expect(first.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: site.databasePath + "-wal"))

        let daemon = try TestDaemon(site: site, extraArguments: drillStart)
        _ = try cli.start("drill", ["unit": "xijie", "day": "2026-11-11"])
        try cli.advance("5d")
        let total = try cli.audit().count
        try #require(total > kept + 1)
        // The anchor is written by a thread of its own: wait until it names the last row.
        let anchor = site.stateDirectory + "/ledger-head.json"
        poll(seconds: 10, every: 10_000) { (try? LedgerAnchor.read(path: anchor))?.head.seq == Int64(total) }
        #expect(try LedgerAnchor.read(path: anchor)?.head.seq == Int64(total))

        #expect(unlink(site.databasePath + "-wal") == 0)
        daemon.stop(signal: SIGKILL)
        let next = try startFails(site, ["--simulated-clock", "2026-11-06T09:00+08:00"])
        #expect(next.stderr.contains("CRITICAL") && next.stderr.contains("the ledger does not reach its anchored head"), "\(next.stderr)")
        #expect(next.stderr.contains("rows \(kept + 1)–\(total) are missing"), "\(next.stderr)")
    }

    @Test func replacingTheDatabaseWhileRunningIsCaught() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        let copy = site.databasePath + ".copy"
        try FileManager.default.copyItem(atPath: site.databasePath, toPath: copy)
        #expect(rename(copy, site.databasePath) == 0)
        try expectStateLost(site, daemon, naming: "was replaced by another file")
        #expect(daemon.stop() == 0)
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0o7777 }
        return info.st_mode & 0o777
    }

    @Test func stateFilesAreNotWorldReadableWhateverTheUmask() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site, umask: 0)
        #expect(mode(site.stateDirectory) == 0o750)
        for name in ["state.db", "state.db-wal", "state.db-shm", "huayingd.lock", "state.runs", "ledger-head.json"] {
            let path = site.stateDirectory + "/" + name
            #expect(mode(path) == 0o640, "\(name) is \(String(mode(path), radix: 8))")
        }
        #expect(mode(site.socketPath) == 0o660)
        #expect(daemon.stop() == 0)
    }

    @Test func aCorruptDatabaseIsNamedWithWhatToDo() throws {
        let site = try TestSite()
        defer { site.remove() }
        #expect(try TestDaemon(site: site).stop() == 0)
        removeDatabase(site)
        try Data(repeating: UInt8(ascii: "x"), count: 8192).write(to: URL(fileURLWithPath: site.databasePath))
        let result = try startFails(site)
        #expect(result.stderr.contains("state database \(site.databasePath) is damaged or is not a Huaying database"), "\(result.stderr)")
        #expect(result.stderr.contains("restore") && result.stderr.contains("docs/operations.md"))
    }

    @Test func aReadOnlyDatabaseLeadsWithTheRealCauseAndTheRemedy() throws {
        try AuthorizationTests.ensureUsers()
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        #expect(try TestDaemon(site: site).stop() == 0)
        // The daemon's user may use the directory, but state.db belongs to root (mode 0644).
        let user = AuthorizationTests.stranger
        guard let entry = getpwnam(user) else { throw Failure("no user \(user)") }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        chmod(site.root.path, 0o755)
        for path in [site.stateDirectory, site.stateDirectory + "/huayingd.lock", site.stateDirectory + "/state.runs",
                     site.root.appendingPathComponent("run").path] {
            chown(path, uid, gid)
        }
        chmod(site.databasePath, 0o644)
        let result = try runProgram("/usr/bin/setpriv", ["--reuid", user, "--regid", "\(gid)", "--clear-groups",
                                                         Binaries.path("huayingd"), "--config", site.configPath], timeout: 60)
        #expect(result.status == 1)
        #expect(result.stderr.contains("state database \(site.databasePath) is read-only for huayingd"), "\(result.stderr)")
        #expect(result.stderr.contains("chmod 0640"))
        #expect(!result.stderr.contains("workflow file not loaded"), "the real cause comes first, alone")
    }
}
