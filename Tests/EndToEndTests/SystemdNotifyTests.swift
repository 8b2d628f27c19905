import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify protocol as systemd sees it: the real `huayingd` with `NOTIFY_SOCKET`
/// pointing at a datagram socket the test reads.
///
/// The watchdog is systemd's real-time watchdog, not the workflow clock, so these tests wait
/// a little real time for its pings (100 ms apart with `WATCHDOG_USEC=200000`).
@Suite struct SystemdNotifyTests {
    @Test func readyWatchdogReloadingAndStoppingReachTheNotifySocket() throws {
        let site = try TestSite()
        defer { site.remove() }
        let notify = try NotifySocket()
        let daemon = try TestDaemon(site: site, environment: ["NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "200000"])

        let ready = try notify.next { $0.fields["READY"] != nil }
        #expect(ready.skipped.isEmpty, "nothing may come before READY=1: \(ready.skipped)")
        #expect(ready.message.lines == ["READY=1", "STATUS=running; control socket \(site.socketPath)"])

        // Pings queued since READY=1, then three fresh ones: 100 ms apart, they take about 200 ms.
        // A loose lower bound catches a timer in the wrong unit; an upper bound would be flaky
        // (the receive timeout catches pings that stop).
        let queued = notify.discardQueued()
        #expect(queued.allSatisfy { $0.lines == ["WATCHDOG=1"] }, "only watchdog pings while idle: \(queued)")
        let pingsStarted = Date()
        for _ in 0..<3 {
            let message = try notify.receive()
            #expect(message.lines == ["WATCHDOG=1"], "only watchdog pings while idle")
        }
        #expect(Date().timeIntervalSince(pingsStarted) >= 0.1)

        kill(daemon.process.processIdentifier, SIGHUP)
        let reloading = try notify.next { $0.lines != ["WATCHDOG=1"] }
        #expect(reloading.message.fields["RELOADING"] == "1", "got \(reloading.message.lines)")
        #expect(reloading.message.fields["STATUS"] == "reloading (SIGHUP)")
        let monotonic = UInt64(reloading.message.fields["MONOTONIC_USEC"] ?? "") ?? 0
        let now = NotifySocket.monotonicMicroseconds()
        #expect(monotonic > 0 && monotonic <= now && now - monotonic < 30_000_000,
                "MONOTONIC_USEC must be CLOCK_MONOTONIC in µs: \(monotonic) vs \(now)")
        let reloaded = try notify.next { $0.lines != ["WATCHDOG=1"] }
        #expect(reloaded.message.fields["READY"] == "1", "got \(reloaded.message.lines)")
        #expect(reloaded.message.fields["STATUS"]?.hasPrefix("running") == true)
        let watchdogAfterReload = try notify.next { $0.lines == ["WATCHDOG=1"] }
        #expect(watchdogAfterReload.skipped.isEmpty)

        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        let stopping = try notify.next { $0.lines != ["WATCHDOG=1"] }
        #expect(stopping.message.lines == ["STOPPING=1", "STATUS=stopping (SIGTERM)"])
        let rest = notify.drain()
        #expect(rest.allSatisfy { $0.lines == ["WATCHDOG=1"] }, "after STOPPING=1 at most pings: \(rest)")
    }

    @Test func anAbstractSocketWorksAndAWatchdogForAnotherPidIsNotPinged() throws {
        let site = try TestSite()
        defer { site.remove() }
        let notify = try NotifySocket(abstract: true)
        #expect(notify.address.hasPrefix("@"))
        // WATCHDOG_PID names another process (pid 1): sd_watchdog_enabled(3) says "not for us".
        let daemon = try TestDaemon(site: site, environment: [
            "NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "20000", "WATCHDOG_PID": "1",
        ])
        let ready = try notify.next { $0.fields["READY"] != nil }
        #expect(ready.skipped.isEmpty)
        // Pinging every 10 ms by mistake would put dozens of WATCHDOG=1 in the socket meanwhile.
        usleep(300_000)
        #expect(try huaying(["--socket", site.socketPath, "status"]).status == 0)
        #expect(daemon.stop(signal: SIGINT) == 0, "log: \(daemon.log)")
        let rest = notify.drain()
        #expect(rest.map(\.lines) == [["STOPPING=1", "STATUS=stopping (SIGINT)"]])
        #expect(daemon.log.contains("the systemd watchdog is for another process"))
    }

    @Test func anUnreachableNotifySocketIsLoggedOnceAndNeverFatal() throws {
        let site = try TestSite()
        defer { site.remove() }
        let nowhere = "/tmp/hy-n-\(UUID().uuidString.prefix(8)).sock"
        let daemon = try TestDaemon(site: site, environment: ["NOTIFY_SOCKET": nowhere, "WATCHDOG_USEC": "20000"])
        usleep(200_000)  // about twenty failed pings
        #expect(try huaying(["--socket", site.socketPath, "status"]).status == 0)
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        let warnings = daemon.log.components(separatedBy: "\n").filter { $0.contains("cannot notify systemd") }
        #expect(warnings.count == 1, "log: \(daemon.log)")
        #expect(warnings.first?.contains("sendto(NOTIFY_SOCKET): ENOENT") == true, "\(warnings)")
        #expect(warnings.first?.contains("notify.message=\"READY=1 STATUS=running;") == true, "\(warnings)")
    }

    @Test func aNotifySocketThatIsNotAnAddressIsIgnoredWithAWarning() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site, environment: ["NOTIFY_SOCKET": "relative/notify.sock"])
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        #expect(daemon.log.contains("NOTIFY_SOCKET ignored: not an absolute path or an @abstract name"), "log: \(daemon.log)")
    }
}

/// One sd_notify datagram: newline-separated `KEY=value` lines.
struct NotifyMessage: CustomStringConvertible {
    var lines: [String]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    var fields: [String: String] {
        var result: [String: String] = [:]
        for line in lines {
            guard let equals = line.firstIndex(of: "=") else { continue }
            result[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return result
    }

    var description: String { lines.joined(separator: "|") }
}

/// The systemd side of `NOTIFY_SOCKET`: a bound `AF_UNIX` datagram socket, a path under
/// /tmp (short: `sun_path` holds 107 bytes) or a name in the abstract namespace.
///
/// Every read has a timeout (`SO_RCVTIMEO`), so a daemon that never notifies fails the test
/// instead of hanging it.
final class NotifySocket {
    /// The value for `NOTIFY_SOCKET`.
    let address: String
    private let fd: Int32
    private let path: String?

    init(abstract: Bool = false, timeoutSeconds: Int = 10) throws {
        let name = "hy-n-\(UUID().uuidString.prefix(8))"
        address = abstract ? "@\(name)" : "/tmp/\(name).sock"
        path = abstract ? nil : address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(address.utf8)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            if abstract { buffer[0] = 0 } else { buffer[bytes.count] = 0 }
        }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        guard bound == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw Failure("bind \(address): \(message)")
        }
        setTimeout(seconds: timeoutSeconds, microseconds: 0)
    }

    deinit {
        Glibc.close(fd)
        if let path { unlink(path) }
    }

    private func setTimeout(seconds: Int, microseconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: microseconds)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram; throws when none arrives within the timeout.
    func receive() throws -> NotifyMessage {
        guard let message = try receiveOrTimeout() else {
            throw Failure("no sd_notify message on \(address) within the timeout")
        }
        return message
    }

    /// The next datagram, or nil after the timeout (at once with `MSG_DONTWAIT`).
    private func receiveOrTimeout(flags: Int32 = 0) throws -> NotifyMessage? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, flags) }
            if count >= 0 { return NotifyMessage(String(decoding: buffer[..<count], as: UTF8.self)) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            throw Failure("recv on \(address): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads until a message matches; returns it and the ones read before it.
    func next(_ matches: (NotifyMessage) -> Bool) throws -> (message: NotifyMessage, skipped: [NotifyMessage]) {
        var skipped: [NotifyMessage] = []
        while true {
            let message = try receive()
            if matches(message) { return (message, skipped) }
            skipped.append(message)
        }
    }

    /// What is queued now, without waiting.
    func discardQueued() -> [NotifyMessage] {
        var messages: [NotifyMessage] = []
        while let message = try? receiveOrTimeout(flags: Int32(MSG_DONTWAIT)) { messages.append(message) }
        return messages
    }

    /// Everything still queued (for a daemon that has exited), waiting at most 100 ms per read.
    func drain() -> [NotifyMessage] {
        setTimeout(seconds: 0, microseconds: 100_000)
        var messages: [NotifyMessage] = []
        while let message = try? receiveOrTimeout() { messages.append(message) }
        return messages
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}
