import ControlProtocol
import Foundation
import SQLiteStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The outbox across kill -9: rows not yet delivered and a row whose plugin was running when
/// the daemon died are each delivered after the restart, with the same idempotency key.
@Suite(.serialized) struct OutboxCrashTests {
    /// Logs each attempt (key, attempt, pid) to deliveries.log in its cwd (the state
    /// directory); while a file `hold` exists there it hangs, as a slow gateway would.
    static let plugin = """
        #!/usr/bin/python3
        import json, os, sys, time
        req = json.load(sys.stdin)
        with open("deliveries.log", "a") as log:
            log.write("%s %d %d\\n" % (req["idempotency_key"], req["attempt"], os.getpid()))
        while os.path.exists("hold"):
            time.sleep(0.05)
        print(json.dumps({"status": "completed", "output": {"message_id": req["idempotency_key"]}}))
        """

    static let workflow = """
        workflow: notify-sms
        title: 短信通知
        params:
          unit: { type: unit, title: 社区 }
        calendar: cn-mainland
        steps:
          - id: send
            title: 发送短信
            uses: sms
            with: { to: "13800000000", text: "{{unit.name}}：周五开会" }
          - id: logged
            title: 记录
            after: send
            uses: record
            with: { text: "已发送，编号{{steps.send.output.message_id}}" }
        """

    @Test func undeliveredAndRunningRowsAreDeliveredAfterSIGKILLWithTheirKeys() throws {
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["notify-sms.yaml": Self.workflow])
        defer { site.remove() }
        let folder = site.root.appendingPathComponent("plugins/sms").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "name: sms\nversion: 1.0.0\nprotocol: 1\nexecutable: sms.py\nconcurrency: 1\ntimeout: 120\n"
            .write(toFile: folder + "/plugin.yaml", atomically: true, encoding: .utf8)
        try Self.plugin.write(toFile: folder + "/sms.py", atomically: true, encoding: .utf8)
        #expect(chmod(folder + "/sms.py", 0o755) == 0)
        try FileManager.default.createDirectory(atPath: site.stateDirectory, withIntermediateDirectories: true)
        let hold = site.stateDirectory + "/hold"
        try "".write(toFile: hold, atomically: true, encoding: .utf8)
        let log = site.stateDirectory + "/deliveries.log"
        func deliveries() -> [(key: String, attempt: Int, pid: Int32)] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                guard parts.count == 3, let attempt = Int(parts[1]), let pid = Int32(parts[2]) else { return nil }
                return (String(parts[0]), attempt, pid)
            }
        }

        var daemon: TestDaemon? = try TestDaemon(site: site)
        let count = 4
        for _ in 0..<count {
            let started = try huaying(["--config", site.configPath, "start", "notify-sms", "--param", "unit=guqiao-shequ", "--allow-duplicate"])
            #expect(started.status == 0, "\(started.stderr)")
        }
        // One attempt runs (concurrency 1) and hangs; the other rows wait in the outbox.
        let deadline = Date().addingTimeInterval(30)
        while deliveries().isEmpty && Date() < deadline { usleep(20_000) }
        #expect(deliveries().count == 1)
        let status = try huaying(["--config", site.configPath, "status", "--json"])
        #expect(status.stdout.contains("\"outbox_pending\" : \(count)") || status.stdout.contains("\"outbox_pending\":\(count)"), "\(status.stdout)")
        daemon?.stop(signal: SIGKILL)
        daemon = nil
        // The orphaned plugin (its own process group) would finish on its own; end it as the crash did.
        if let running = deliveries().first { kill(running.pid, SIGKILL) }

        let db = try Database(path: site.databasePath)
        let states = try db.query("SELECT state, count(*) AS n FROM outbox GROUP BY state").map { (try $0.text("state"), try $0.int("n")) }
        #expect(states.map(\.0).sorted() == ["pending", "running"], "one running, the rest undelivered: \(states)")
        try db.close()

        try FileManager.default.removeItem(atPath: hold)
        daemon = try TestDaemon(site: site)
        let done = Date().addingTimeInterval(60)
        while Set(deliveries().map(\.key)).count < count || deliveries().count < count + 1, Date() < done { usleep(50_000) }
        var pending = -1
        while Date() < done {
            let answer = try huaying(["--config", site.configPath, "status", "--json"])
            if answer.stdout.contains("\"outbox_pending\" : 0") || answer.stdout.contains("\"outbox_pending\":0") { pending = 0; break }
            usleep(50_000)
        }
        #expect(pending == 0)
        #expect(daemon?.stop() == 0)

        let seen = deliveries()
        let keys = Set(seen.map(\.key))
        #expect(keys.count == count, "every effect delivered: \(seen)")
        let first = try #require(seen.first)
        #expect(seen.filter { $0.key == first.key }.map(\.attempt) == [1, 2], "the row running at the crash ran again with its key")
        #expect(seen.count == count + 1, "no other effect ran twice")
        let check = try Database(path: site.databasePath)
        #expect(try check.queryOne("SELECT count(*) AS n FROM outbox WHERE state = 'done'")?.int("n") == Int64(count))
        let recorded = try check.query("SELECT instance, count(*) AS n FROM ledger WHERE event = 'step.recorded' AND step = 'send' GROUP BY instance")
        #expect(recorded.count == count)
        #expect(try recorded.allSatisfy { try $0.int("n") == 1 }, "each step completed exactly once in the ledger")
        #expect(try check.queryOne("SELECT count(*) AS n FROM step WHERE step = 'logged' AND state = 'done'")?.int("n") == Int64(count))
        try check.close()
    }
}
