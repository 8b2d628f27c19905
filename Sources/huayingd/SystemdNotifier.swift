import EventLoop
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd how the daemon is doing: the `sd_notify(3)` protocol, spoken directly (no
/// libsystemd), for a `Type=notify` service.
///
/// systemd passes `NOTIFY_SOCKET` (a datagram socket's path, or `@name` in the abstract
/// namespace) and, with `WatchdogSec=`, `WATCHDOG_USEC` (and sometimes `WATCHDOG_PID`). Each
/// message is one datagram of newline-separated `KEY=value` fields: `READY=1` once the loop
/// runs, `RELOADING=1` / `READY=1` around a reload, `STOPPING=1` when shutdown starts,
/// `WATCHDOG=1` every half watchdog interval from a loop timer, `STATUS=` text for
/// `systemctl status`. See sd_notify(3) and systemd.service(5) (`Type=notify`, `WatchdogSec=`).
///
/// Reading the variables also removes them from the environment, so plugins the daemon starts
/// do not inherit them (they would otherwise be able to notify, or ping the watchdog, for us).
/// Without `NOTIFY_SOCKET` every method does nothing. A failed send is logged once and never
/// stops the daemon: systemd's own timeouts report a daemon that cannot reach it.
///
/// - Important: Loop thread only.
final class SystemdNotifier {
    /// The variables systemd sets for the notify protocol; removed from the environment by `init`.
    static let environmentVariables = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]

    /// Where `NOTIFY_SOCKET` points, as a socket address.
    struct Destination {
        /// `NOTIFY_SOCKET` as given (`/run/systemd/notify`, `@name`).
        var text: String
        var address: sockaddr_un
        var length: socklen_t

        /// Parses `NOTIFY_SOCKET`: an absolute path, or `@` + a name in the abstract namespace.
        ///
        /// - Returns: nil with `reason` set when the value is not a socket address this can use.
        init?(_ value: String, reason: inout String) {
            let bytes = Array(value.utf8)
            guard let first = bytes.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "@") else {
                reason = "not an absolute path or an @abstract name"
                return nil
            }
            guard !bytes.contains(0), bytes.count > 1 else {
                reason = "not a valid socket address"
                return nil
            }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            let abstract = first == UInt8(ascii: "@")
            // A path needs its terminating NUL; an abstract name is exactly its bytes, the
            // leading NUL (written over the `@`) included.
            guard bytes.count + (abstract ? 0 : 1) <= capacity else {
                reason = "longer than a Unix socket address (\(capacity - 1) bytes)"
                return nil
            }
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                buffer.copyBytes(from: bytes)
                if abstract { buffer[0] = 0 } else { buffer[bytes.count] = 0 }
            }
            let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
            self.text = value
            self.address = address
            self.length = socklen_t(pathOffset + bytes.count + (abstract ? 0 : 1))
        }
    }

    private let logger: Logger
    private let destination: Destination?
    private var fd: Int32 = -1
    /// How often systemd expects `WATCHDOG=1`, in microseconds; nil when the watchdog is off or not ours.
    let watchdogMicroseconds: UInt64?
    private var watchdogTimer: TimerHandle?
    private var readyTimer: TimerHandle?
    private var sendFailureLogged = false
    private var isStopping = false
    private var isClosed = false

    /// Whether systemd is listening (`NOTIFY_SOCKET` was set and usable).
    var isEnabled: Bool { destination != nil }

    /// Reads the notify variables from `environment` and, when `unsetEnvironment` is true,
    /// removes them from the process environment (`unsetenv`).
    ///
    /// - Important: Call before starting any child process, on the loop thread.
    init(logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment,
         unsetEnvironment: Bool = true)
    {
        self.logger = logger
        if unsetEnvironment {
            for name in Self.environmentVariables { unsetenv(name) }
        }

        var destination: Destination?
        if let value = environment["NOTIFY_SOCKET"], !value.isEmpty {
            var reason = ""
            destination = Destination(value, reason: &reason)
            if destination == nil {
                logger.warning("NOTIFY_SOCKET ignored: \(reason)", metadata: ["notify.socket": "\(value)"])
            }
        }
        if destination != nil {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                logger.warning("cannot notify systemd", metadata: ["error": "\(UVError(operation: "socket(AF_UNIX, SOCK_DGRAM)", code: -errno))"])
                destination = nil
            }
        }
        self.destination = destination
        watchdogMicroseconds = destination == nil ? nil : Self.watchdogInterval(environment, logger: logger)
    }

    /// `WATCHDOG_USEC` when it is set, positive, and meant for this process (`WATCHDOG_PID`
    /// absent or our pid), as `sd_watchdog_enabled(3)` decides.
    private static func watchdogInterval(_ environment: [String: String], logger: Logger) -> UInt64? {
        guard let text = environment["WATCHDOG_USEC"] else { return nil }
        guard let microseconds = UInt64(text), microseconds > 0 else {
            logger.warning("WATCHDOG_USEC ignored: not a positive number of microseconds", metadata: ["watchdog.usec": "\(text)"])
            return nil
        }
        if let pidText = environment["WATCHDOG_PID"] {
            guard let pid = pid_t(pidText), pid > 0 else {
                logger.warning("WATCHDOG_PID ignored: not a process id; watchdog off", metadata: ["watchdog.pid": "\(pidText)"])
                return nil
            }
            guard pid == getpid() else {
                logger.debug("the systemd watchdog is for another process", metadata: ["watchdog.pid": "\(pid)"])
                return nil
            }
        }
        return microseconds
    }

    /// Once `loop` runs, sends `READY=1` with `status`; starts the watchdog pings (every half
    /// `WATCHDOG_USEC`, on a timer that does not keep the loop alive by itself).
    ///
    /// - Important: Loop thread only; call before ``EventLoop/run()``.
    func start(on loop: EventLoop, status: String) {
        guard isEnabled, !isClosed else { return }
        do {
            let timer = try TimerHandle(loop: loop)
            readyTimer = timer
            try timer.start(after: 0) { [unowned self] in
                self.readyTimer?.close()
                self.readyTimer = nil
                self.ready(status: status)
            }
        } catch {
            logger.warning("cannot wait for the loop to tell systemd READY=1; telling it now", metadata: ["error": "\(error)"])
            readyTimer?.close()
            readyTimer = nil
            ready(status: status)
        }
        guard let microseconds = watchdogMicroseconds else { return }
        let milliseconds = max(1, microseconds / 2 / 1000)
        do {
            let timer = try TimerHandle(loop: loop)
            watchdogTimer = timer
            try timer.start(after: milliseconds, repeating: milliseconds) { [unowned self] in
                self.send("WATCHDOG=1")
            }
            timer.unref()
            logger.debug("systemd watchdog on", metadata: ["watchdog.usec": "\(microseconds)", "watchdog.ping_ms": "\(milliseconds)"])
        } catch {
            logger.error("cannot start the systemd watchdog timer; systemd will restart the daemon when WatchdogSec= elapses",
                         metadata: ["error": "\(error)"])
            watchdogTimer?.close()
            watchdogTimer = nil
        }
    }

    /// `READY=1`: started, or done reloading. Not sent once stopping.
    func ready(status: String) {
        guard !isStopping else { return }
        send("READY=1\nSTATUS=\(Self.oneLine(status))")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (required for `Type=notify-reload` since systemd
    /// 253, ignored before); follow with ``ready(status:)`` when the reload is done.
    func reloading(status: String) {
        guard !isStopping else { return }
        send("RELOADING=1\nSTATUS=\(Self.oneLine(status))\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
    }

    /// `STOPPING=1`: shutdown has started. Later `READY=1` and `RELOADING=1` are not sent.
    func stopping(status: String) {
        guard !isStopping else { return }
        isStopping = true
        send("STOPPING=1\nSTATUS=\(Self.oneLine(status))")
    }

    /// `STATUS=`: a line for `systemctl status`.
    func status(_ text: String) {
        send("STATUS=\(Self.oneLine(text))")
    }

    /// Closes the timers and the socket (idempotent); nothing is sent afterwards.
    ///
    /// - Important: Loop thread only; before ``EventLoop/close()``, like every handle.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        readyTimer?.close()
        readyTimer = nil
        watchdogTimer?.close()
        watchdogTimer = nil
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Sends one datagram without blocking the loop (`MSG_DONTWAIT`): systemd reads its notify
    /// socket promptly, and a message it cannot take now is not worth stalling workflows for.
    private func send(_ message: String) {
        guard var destination, !isClosed, fd >= 0 else { return }
        let bytes = Array(message.utf8)
        var result: Int
        repeat {
            result = bytes.withUnsafeBytes { buffer in
                withUnsafePointer(to: &destination.address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                        sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), address, destination.length)
                    }
                }
            }
        } while result < 0 && errno == EINTR
        if result < 0 {
            let error = UVError(operation: "sendto(NOTIFY_SOCKET)", code: -errno)
            if !sendFailureLogged {
                sendFailureLogged = true
                logger.warning("cannot notify systemd; further failures are not logged", metadata: [
                    "notify.socket": "\(destination.text)", "error": "\(error)",
                    "notify.message": "\(message.replacingOccurrences(of: "\n", with: " "))",
                ])
            }
        } else if message != "WATCHDOG=1" {
            logger.debug("notified systemd", metadata: ["notify.message": "\(message.replacingOccurrences(of: "\n", with: " "))"])
        }
    }

    /// STATUS= ends at the first newline of the datagram.
    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// `CLOCK_MONOTONIC` in microseconds, as `MONOTONIC_USEC=` wants it.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}

@available(*, unavailable, message: "SystemdNotifier is confined to the loop thread")
extension SystemdNotifier: Sendable {}
