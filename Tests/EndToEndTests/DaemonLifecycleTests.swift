import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `huayingd` and `huaying` binaries, talking over a real Unix socket.
@Suite struct DaemonLifecycleTests {
    @Test func statusAnswersThroughTheCLIAndSIGTERMStopsCleanly() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)

        let json = try huaying(["--config", site.configPath, "status", "--json"])
        #expect(json.status == 0, "stderr: \(json.stderr)")
        let status = try JSONDecoder().decode(StatusResult.self, from: Data(json.stdout.utf8))
        #expect(status.pid == daemon.process.processIdentifier)
        #expect(status.clockMode == "real")
        #expect(status.statePath == site.stateDirectory + "/state.db")
        #expect(status.socketPath == site.socketPath)
        #expect(status.timeZone == "Asia/Shanghai")
        #expect(status.now.hasSuffix("+08:00"))
        #expect(status.counts["daemon_runs"] == 1)

        let table = try huaying(["--socket", site.socketPath, "status"])
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("huayingd 0.1.0 (protocol 1), pid \(daemon.process.processIdentifier)"))
        #expect(table.stdout.contains("clock     real"))

        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: site.socketPath), "the socket file must be removed on exit")
        #expect(daemon.log.contains("stopping reason=SIGTERM"))
        #expect(daemon.log.contains("stopped status=0"))
    }

    @Test func sigintAlsoStopsCleanly() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        #expect(daemon.stop(signal: SIGINT) == 0, "log: \(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: site.socketPath))
    }

    @Test func sighupIsLoggedAndTheDaemonKeepsRunning() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        kill(daemon.process.processIdentifier, SIGHUP)
        // The status reply is processed after the signal in the same loop, or soon after.
        var logged = false
        for _ in 0..<250 where !logged {
            logged = daemon.log.contains("SIGHUP received")
            if !logged { usleep(20_000) }
        }
        #expect(logged, "log: \(daemon.log)")
        #expect(try huaying(["--socket", site.socketPath, "status"]).status == 0)
        #expect(daemon.stop() == 0)
    }

    @Test func aSecondDaemonOnTheSameStateDirectoryRefuses() throws {
        let site = try TestSite()
        defer { site.remove() }
        let first = try TestDaemon(site: site)
        let second = try runProgram(Binaries.path("huayingd"),
                                    ["--config", site.configPath, "--socket", site.root.appendingPathComponent("other.sock").path])
        #expect(second.status == 1)
        #expect(second.stderr.contains("another huayingd (pid \(first.process.processIdentifier)) is already using this state directory"),
                "stderr: \(second.stderr)")
        #expect(try huaying(["--socket", site.socketPath, "status"]).status == 0, "the first daemon is unaffected")
        #expect(first.stop() == 0)
    }

    @Test func aSecondDaemonOnTheSameSocketRefuses() throws {
        let site = try TestSite()
        defer { site.remove() }
        let first = try TestDaemon(site: site)
        let second = try runProgram(Binaries.path("huayingd"),
                                    ["--config", site.configPath, "--state-dir", site.root.appendingPathComponent("state2").path])
        #expect(second.status == 1)
        #expect(second.stderr.contains("another daemon is listening on it"), "stderr: \(second.stderr)")
        #expect(FileManager.default.fileExists(atPath: site.socketPath), "the first daemon's socket must stay")
        #expect(try huaying(["--socket", site.socketPath, "status"]).status == 0)
        #expect(first.stop() == 0)
    }

    @Test func aStaleSocketFromAKilledDaemonIsReplacedAndTheCrashIsCounted() throws {
        let site = try TestSite()
        defer { site.remove() }
        let first = try TestDaemon(site: site)
        #expect(first.stop(signal: SIGKILL) == SIGKILL)
        #expect(FileManager.default.fileExists(atPath: site.socketPath), "SIGKILL leaves the socket file behind")

        let cli = try huaying(["--socket", site.socketPath, "status"])
        #expect(cli.status == 3)
        #expect(cli.stderr.contains("huayingd is not running"), "stderr: \(cli.stderr)")

        let second = try TestDaemon(site: site)
        #expect(second.log.contains("removed stale control socket"))
        #expect(second.log.contains("previous run did not stop cleanly"))
        let json = try huaying(["--socket", site.socketPath, "status", "--json"])
        let status = try JSONDecoder().decode(StatusResult.self, from: Data(json.stdout.utf8))
        #expect(status.counts["daemon_runs"] == 2)
        #expect(status.counts["crashed_runs"] == 1)
        #expect(second.stop() == 0)
    }

    @Test func aFileInTheSocketsPlaceIsNeverDeleted() throws {
        let site = try TestSite()
        defer { site.remove() }
        try FileManager.default.createDirectory(atPath: site.root.appendingPathComponent("run").path, withIntermediateDirectories: true)
        try "precious".write(toFile: site.socketPath, atomically: true, encoding: .utf8)
        let result = try runProgram(Binaries.path("huayingd"), ["--config", site.configPath])
        #expect(result.status == 1)
        #expect(result.stderr.contains("a file that is not a socket is in the way"), "stderr: \(result.stderr)")
        #expect(try String(contentsOfFile: site.socketPath, encoding: .utf8) == "precious")
    }

    @Test func theCLISaysWhenNoDaemonIsRunning() throws {
        let result = try huaying(["--socket", "/tmp/hy-none-\(UUID().uuidString.prefix(8)).sock", "status"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("huayingd is not running: no control socket at /tmp/hy-none-"))
        #expect(result.stdout.isEmpty)
    }
}
