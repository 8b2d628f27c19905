import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// No client can take the control socket from the others: a per-user connection cap, a
/// reserve for admins, an idle timeout, and a bound on answers queued for a client that does
/// not read them. Real daemon, real socket, real Unix users (as root).
@Suite(.serialized) struct ControlSocketLimitsTests {
    private static let status = ControlRequest(command: "status")

    private func counts(_ socketPath: String) throws -> [String: Int] {
        let response = try ControlClient(socketPath: socketPath).call(Self.status)
        return try ControlCoding.convert(try #require(response.result), to: StatusResult.self).counts
    }

    @Test func aUserOverThePerUserCapIsToldBusyAndGetsInAgainOnceOneCloses() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site, extraArguments: ["--max-connections-per-user", "3"])
        // Hold connections until one is refused: at most 3 get in (fewer when the daemon has not
        // yet seen the start-up probe's connection close; the cap counts what is open).
        var held: [ControlClient] = []
        var refused: ControlResponse?
        for _ in 0..<6 {
            let client = try ControlClient(socketPath: site.socketPath)
            let answer = try client.call(Self.status)
            guard answer.ok else {
                refused = answer
                break
            }
            held.append(client)
        }
        #expect(held.count >= 2 && held.count <= 3, "\(held.count) connections got in")
        let refusal = try #require(refused, "a fourth connection of the same user is refused")
        #expect(refusal.error?.code == "busy")
        #expect(refusal.error?.message.contains("at most 3 per user") == true, "\(String(describing: refusal.error))")
        // Fill the cap to exactly 3 (the probe's connection is gone by now, or soon).
        let fillDeadline = Date().addingTimeInterval(10)
        while held.count < 3, Date() < fillDeadline {
            let client = try ControlClient(socketPath: site.socketPath)
            if try client.call(Self.status).ok { held.append(client) }
        }
        #expect(held.count == 3)
        // The CLI reports the refusal, not a broken pipe.
        let cli = try huaying(["--socket", site.socketPath, "status"])
        #expect(cli.status == 4)
        #expect(cli.stderr.contains("[busy]") && !cli.stderr.contains("Broken pipe"), "\(cli.stderr)")

        held.removeLast()  // closes it
        var answered = false
        let deadline = Date().addingTimeInterval(10)
        while !answered, Date() < deadline {
            answered = (try? ControlClient(socketPath: site.socketPath).call(Self.status))?.ok == true
        }
        #expect(answered, "a slot freed by a closed connection is usable again")
        #expect(daemon.log.contains("control connection refused: busy"))
        #expect(daemon.stop() == 0)
    }

    /// Opens `count` connections as `user` (perl, from perl-base, under setpriv) and holds them;
    /// each line of its output is one connection's answer to `status`: `ok` or the refusal code.
    private final class Holder {
        let process: ChildProcess
        let output: String

        init(user: String, group: String, socketPath: String, count: Int, directory: URL) throws {
            output = directory.appendingPathComponent("holder-\(user).out").path
            let script = """
                use IO::Socket::UNIX; $| = 1; my ($path, $n) = @ARGV; my @keep;
                for (1..$n) {
                  my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path) or do { print "connect-failed\\n"; next };
                  print $s "{\\"version\\":1,\\"command\\":\\"status\\"}\\n"; my $line = <$s>;
                  if (!defined $line) { print "closed\\n" } elsif ($line =~ /"ok":true/) { print "ok\\n" }
                  elsif ($line =~ /"code":"(\\w+)"/) { print "$1\\n" } else { print "other\\n" }
                  push @keep, $s;
                }
                print "ready\\n"; sleep 600;
                """
            process = try ChildProcess(
                executable: "/usr/bin/setpriv",
                arguments: ["--reuid", user, "--regid", group, "--clear-groups", "/usr/bin/perl", "-e", script, socketPath, "\(count)"],
                stdoutPath: output)
        }

        /// The answers, once the holder has opened every connection (waits for the process, not a clock).
        func answers() throws -> [String] {
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let lines = ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                if lines.last == "ready" { return Array(lines.dropLast()) }
                if !process.isRunning { throw Failure("the connection holder exited: \(lines)") }
                usleep(20_000)
            }
            throw Failure("the connection holder did not finish within 20 s")
        }

        func stop() {
            process.send(SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test func adminsGetInThroughTheReserveWhenOtherUsersHoldTheRest() throws {
        try AuthorizationTests.ensureUsers()
        let site = try TestSite()
        defer { site.remove() }
        var config = try String(contentsOfFile: site.configPath, encoding: .utf8)
        config += "\naccess:\n  socket_group: \(AuthorizationTests.group)\n"
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        chmod(site.root.path, 0o755)
        // 6 in all, 2 kept for admins, 3 per user.
        let daemon = try TestDaemon(site: site, extraArguments: [
            "--max-connections", "6", "--admin-connection-reserve", "2", "--max-connections-per-user", "3",
        ])

        let stranger = try Holder(user: AuthorizationTests.stranger, group: AuthorizationTests.group,
                                  socketPath: site.socketPath, count: 4, directory: site.root)
        defer { stranger.stop() }
        #expect(try stranger.answers() == ["ok", "ok", "ok", "busy"], "the fourth is over the per-user cap")
        let secretary = try Holder(user: AuthorizationTests.secretary, group: AuthorizationTests.group,
                                   socketPath: site.socketPath, count: 2, directory: site.root)
        defer { secretary.stop() }
        #expect(try secretary.answers() == ["ok", "busy"], "non-admins together may hold 6 - 2 = 4")

        // Root (an admin) still gets the two reserved connections, and no more.
        let first = try ControlClient(socketPath: site.socketPath)
        #expect(try first.call(Self.status).ok)
        let second = try ControlClient(socketPath: site.socketPath)
        let answer = try second.call(Self.status)
        #expect(answer.ok, "\(String(describing: answer.error))")
        let third = try ControlClient(socketPath: site.socketPath).call(Self.status)
        #expect(third.error?.code == "busy")
        #expect(third.error?.message.contains("too many clients") == true)
        stranger.stop()
        secretary.stop()
        #expect(daemon.stop() == 0)
    }

    @Test func aConnectionWithoutACompleteRequestIsClosedAfterTheIdleTimeout() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site, extraArguments: ["--idle-timeout", "0.5"])
        let started = Date()
        let idle = try ControlClient(socketPath: site.socketPath)
        idle.setReceiveTimeout(seconds: 20)  // fails the test instead of hanging it
        let slow = try ControlClient(socketPath: site.socketPath)
        slow.setReceiveTimeout(seconds: 20)
        try slow.send(raw: Array("{\"version\":1,\"comm".utf8))  // a request that never ends

        for client in [idle, slow] {
            let line = try #require(try client.readLine())
            let response = try ControlCoding.decode(ControlResponse.self, from: line)
            #expect(response.error?.code == "idle_timeout")
            #expect(try client.readLine() == nil, "then the connection is closed")
        }
        #expect(Date().timeIntervalSince(started) >= 0.4)
        // A connection that keeps asking is not idle.
        let busy = try ControlClient(socketPath: site.socketPath)
        for _ in 0..<3 { #expect(try busy.call(Self.status).ok) }
        #expect(try counts(site.socketPath)["connections_closed_idle"] ?? 0 >= 2)
        #expect(daemon.stop() == 0)
    }

    /// A raw client socket that writes without blocking and never reads.
    private final class NonReadingClient {
        let fd: Int32

        init(path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard fd >= 0, result == 0 else { throw Failure("connect \(path): \(String(cString: strerror(errno)))") }
        }

        /// Bytes the kernel took (0 when its buffers are full).
        func send(_ bytes: [UInt8]) -> Int {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            return max(sent, 0)
        }

        /// Waits up to `milliseconds` for room to write.
        func waitWritable(milliseconds: Int32) {
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&entry, 1, milliseconds)
        }

        deinit { close(fd) }
    }

    @Test func aClientThatDoesNotReadStopsBeingReadAndIsDisconnectedWhenItStaysFull() throws {
        let site = try TestSite()
        defer { site.remove() }
        let bound = 64 * 1024
        let daemon = try TestDaemon(site: site, extraArguments: ["--max-unsent-output", "\(bound)", "--stalled-output-timeout", "2"])
        let client = try NonReadingClient(path: site.socketPath)
        let batch = Array(repeating: try ControlCoding.encodeLine(Self.status), count: 200).flatMap { $0 }
        var sentBytes = 0
        var paused = false
        let deadline = Date().addingTimeInterval(30)
        while !paused, Date() < deadline {
            let sent = client.send(batch)
            sentBytes += sent
            if sent == 0 {
                paused = try counts(site.socketPath)["connections_paused"] == 1
                if !paused { client.waitWritable(milliseconds: 100) }
            }
        }
        #expect(paused, "the daemon stopped reading the client after \(sentBytes) bytes of requests")
        let during = try counts(site.socketPath)
        let peak = try #require(during["unsent_output_peak_bytes"])
        // One answer may go past the bound before reading stops (a status answer is about 2 KiB).
        #expect(peak > bound / 2 && peak <= bound + 8 * 1024, "peak \(peak) bytes of unsent answers for a bound of \(bound)")
        let requestBytes = try ControlCoding.encodeLine(Self.status).count
        #expect(sentBytes / requestBytes * 1024 > 16 * bound, "the answers owed to the client far exceed the bound")

        var disconnected = false
        let closeDeadline = Date().addingTimeInterval(20)
        while !disconnected, Date() < closeDeadline {
            disconnected = try counts(site.socketPath)["connections_closed_stalled"] == 1
        }
        #expect(disconnected, "a client that stays full is disconnected")
        let after = try counts(site.socketPath)
        #expect(after["connections_paused"] == 0)
        #expect(daemon.log.contains("it has not read its answers"))
        #expect(daemon.stop() == 0)
    }
}
