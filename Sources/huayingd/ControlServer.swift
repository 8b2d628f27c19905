import ControlProtocol
import EventLoop
import Foundation
import Logging

/// The control socket: accepts connections on a Unix socket, splits each into request lines,
/// hands each request to the handler and writes one response line per request, in request
/// order, even when the handler answers a later request first.
///
/// Bad input never reaches the handler: an empty or malformed line (a duplicate key
/// included) gets a `malformed_request` response, another protocol version
/// `unsupported_version`, a line over `ControlProtocol.maxRequestBytes` gets
/// `request_too_large` and the connection is closed. A client that disconnects mid-line is
/// forgotten. None of this affects other clients.
///
/// No client can take the socket from the others (see ``Limits``): connections beyond a per-user
/// cap, or beyond the total minus a reserve kept for admins, are answered `busy` and closed; a
/// connection without a complete request for the idle timeout is closed; a client that does not
/// read its answers is not read from until it does (so the daemon's memory stays bounded), and
/// is closed when it stays full.
///
/// - Important: Loop thread only.
final class ControlServer {
    /// Answers one request, now or later, by calling `reply` exactly once on the loop thread.
    ///
    /// Calling `reply` twice is a programming error: caught by an assertion in debug builds,
    /// ignored in release builds. A reply for a connection that closed meanwhile is dropped.
    typealias Handler = (ControlRequest, Caller, _ reply: @escaping (ControlResponse) -> Void) -> Void

    /// What one client may hold.
    struct Limits {
        /// Connections open at once, all users together.
        var maxConnections = 256
        /// Connections one uid may hold open at once (admins too: nobody is locked out by another user).
        var maxConnectionsPerUser = 32
        /// Of `maxConnections`, how many only admins may take: root and the admin group get in
        /// even when everyone else together holds the rest.
        var adminReserve = 16
        /// A connection without a complete request for this long is closed (`idle_timeout`).
        var idleTimeoutMilliseconds: UInt64 = 60_000
        /// Answers queued for a client beyond this many bytes stop the reading of its requests.
        var maxUnsentOutputBytes = 4 << 20
        /// A client whose answers stay over `maxUnsentOutputBytes` this long is disconnected.
        var stalledOutputTimeoutMilliseconds: UInt64 = 30_000
        /// Requests of one connection waiting for their answer; beyond this its reading stops.
        var maxPendingAnswers = 256
    }

    /// Connections refused with `busy` that are still draining the client's request (at most
    /// this many; more are closed without an answer).
    static let maxLingering = 64
    static let lingerMilliseconds: UInt64 = 2000

    private let loop: EventLoop
    private let listener: PipeServer
    private let logger: Logger
    private let handler: Handler
    private let isAdmin: (Caller) -> Bool
    let limits: Limits
    private var sweepTimer: TimerHandle?
    private var connections: [Int: ControlConnection] = [:]
    /// Refused connections, kept until the client hung up or `lingerMilliseconds` passed, so the
    /// `busy` answer reaches a client that has already sent its request.
    private var lingering: [Int: (pipe: PipeConnection, until: UInt64)] = [:]
    private var nextConnectionID = 0
    private var lastSweepAt: UInt64?
    private var sweepPeriod: UInt64 {
        max(50, min(1000, min(limits.idleTimeoutMilliseconds, limits.stalledOutputTimeoutMilliseconds) / 4))
    }

    private(set) var requestsServed = 0
    private(set) var requestsRefused = 0
    private(set) var connectionsRefusedBusy = 0
    private(set) var connectionsClosedIdle = 0
    private(set) var connectionsClosedStalled = 0
    /// The largest output queue seen on any connection, in bytes.
    private(set) var unsentOutputPeakBytes = 0

    var openConnections: Int { connections.count }
    /// Connections whose reading is paused because their client does not read its answers.
    var pausedConnections: Int { connections.values.count { $0.outputFullSince != nil } }

    /// Status counters, by name.
    var counts: [String: Int] {
        [
            "requests_served": requestsServed,
            "requests_refused": requestsRefused,
            "open_connections": openConnections,
            "connections_refused_busy": connectionsRefusedBusy,
            "connections_closed_idle": connectionsClosedIdle,
            "connections_closed_stalled": connectionsClosedStalled,
            "connections_paused": pausedConnections,
            "unsent_output_peak_bytes": unsentOutputPeakBytes,
        ]
    }

    /// Binds `path` (mode 0660) and starts listening.
    /// - Parameter isAdmin: whether a caller may use the connections kept for admins.
    init(loop: EventLoop, path: String, limits: Limits = Limits(), logger: Logger,
         isAdmin: @escaping (Caller) -> Bool = { $0.uid == 0 }, handler: @escaping Handler) throws {
        self.loop = loop
        self.logger = logger
        self.handler = handler
        self.isAdmin = isAdmin
        self.limits = limits
        listener = try PipeServer(loop: loop)
        do {
            try listener.bind(path: path)
            // Owner and group may connect; the group is set by the service (issue: operations).
            chmod(path, 0o660)
            listener.onAcceptError = { [unowned self] error in
                self.logger.warning("control connection not accepted", metadata: ["error": "\(error)"])
            }
            try listener.listen { [unowned self] pipe in self.accept(pipe) }
            let timer = try TimerHandle(loop: loop)
            sweepTimer = timer
            let period = sweepPeriod
            try timer.start(after: period, repeating: period) { [unowned self] in self.sweep() }
            // The sweep alone must not keep the loop alive.
            timer.unref()
        } catch {
            sweepTimer?.close()
            listener.close()
            throw error
        }
    }

    /// Stops listening and closes every connection (idempotent). Answers still pending are dropped.
    func close() {
        listener.close()
        sweepTimer?.close()
        sweepTimer = nil
        for connection in connections.values { connection.close() }
        connections.removeAll()
        for (pipe, _) in lingering.values { pipe.close() }
        lingering.removeAll()
    }

    // MARK: Accepting

    private func accept(_ pipe: PipeConnection) {
        let caller: Caller
        do {
            let credentials = try pipe.peerCredentials()
            caller = Caller(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid)
        } catch {
            logger.warning("control connection dropped: no peer credentials", metadata: ["error": "\(error)"])
            pipe.close()
            return
        }
        if let refusal = refusal(for: caller) {
            refuseConnection(pipe, caller: caller, refusal)
            return
        }
        nextConnectionID += 1
        let id = nextConnectionID
        let connection = ControlConnection(id: id, pipe: pipe, caller: caller, now: loop.now)
        connections[id] = connection
        logger.debug("control client connected", metadata: ["client.id": "\(id)", "client.user": "\(caller)"])
        startReading(connection)
    }

    /// Why `caller` may not open another connection now, or nil.
    private func refusal(for caller: Caller) -> ControlError? {
        let mine = connections.values.count { $0.caller.uid == caller.uid }
        if mine >= limits.maxConnectionsPerUser {
            return ControlError(.busy, """
                \(caller.userName) already has \(mine) connections open to huayingd (at most \(limits.maxConnectionsPerUser) per user); \
                close some (another huaying still running?) and try again
                """)
        }
        let admin = isAdmin(caller)
        let cap = admin ? limits.maxConnections : max(0, limits.maxConnections - limits.adminReserve)
        if connections.count >= cap {
            let reserve = admin ? "" : " (the last \(limits.adminReserve) are kept for admins)"
            return ControlError(.busy, "too many clients connected (\(connections.count))\(reserve); try again in a moment")
        }
        return nil
    }

    /// Answers `busy`, then closes once the client hung up (or after a short linger): closing at
    /// once would reset a connection whose request is unread, losing the answer.
    private func refuseConnection(_ pipe: PipeConnection, caller: Caller, _ error: ControlError) {
        connectionsRefusedBusy += 1
        logger.warning("control connection refused: busy", metadata: ["client.user": "\(caller)", "reason": "\(error.message)"])
        guard lingering.count < Self.maxLingering else {
            pipe.close()
            return
        }
        nextConnectionID += 1
        let id = nextConnectionID
        lingering[id] = (pipe, loop.now + Self.lingerMilliseconds)
        let finish: (UVError?) -> Void = { [unowned self] _ in
            self.lingering.removeValue(forKey: id)?.pipe.close()
        }
        do {
            try pipe.startReading(onData: { _ in }, onEnd: finish)
        } catch {
            finish(nil)
            return
        }
        pipe.write(Self.encode(.failure(error)))
        pipe.shutdown()
    }

    private func startReading(_ connection: ControlConnection) {
        let id = connection.id
        do {
            try connection.pipe.startReading(
                onData: { [unowned self] bytes in self.received(bytes, on: id) },
                onEnd: { [unowned self] error in self.ended(id, error: error) })
            connection.isReading = true
        } catch {
            logger.warning("control connection dropped: cannot read", metadata: ["error": "\(error)"])
            drop(id)
        }
    }

    // MARK: Requests

    private func received(_ bytes: [UInt8], on id: Int) {
        guard let connection = connections[id] else { return }
        connection.inbox.append(contentsOf: connection.framer.append(bytes))
        process(connection)
    }

    /// Handles the connection's queued lines until it must wait (answers piling up), then
    /// pauses or resumes its reading to match.
    private func process(_ connection: ControlConnection) {
        guard !connection.processing else { return }
        connection.processing = true
        defer { connection.processing = false }
        while connection.isOpen, !mustWait(connection), let event = connection.nextInboxEvent() {
            switch event {
            case let .line(line):
                connection.lastRequestAt = loop.now
                let sequence = connection.assignSequence()
                if let request = parse(line, from: connection.caller, sequence: sequence, on: connection) {
                    handler(request, connection.caller, reply(on: connection, sequence: sequence))
                }
            case .tooLong:
                requestsRefused += 1
                logger.warning("control request too large; closing connection",
                               metadata: ["client.id": "\(connection.id)", "client.user": "\(connection.caller)", "limit": "\(ControlProtocol.maxRequestBytes)"])
                connections[connection.id] = nil
                connection.isOpen = false
                let pipe = connection.pipe
                pipe.stopReading()
                pipe.write(Self.encode(.failure(.tooLarge))) { _ in pipe.close() }
                return
            }
        }
        adjustReading(connection)
    }

    /// Decodes a line; a line that is not a request is answered here (in its turn) and gives nil.
    private func parse(_ line: [UInt8], from caller: Caller, sequence: Int, on connection: ControlConnection) -> ControlRequest? {
        func refused(_ error: ControlError) -> ControlRequest? {
            requestsRefused += 1
            logger.notice("control request refused", metadata: ["client.user": "\(caller)", "reason": "\(error.code)"])
            deliver(.failure(error), sequence: sequence, on: connection)
            return nil
        }
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
            return refused(.malformed("empty line"))
        }
        let request: ControlRequest
        do {
            request = try ControlCoding.decode(ControlRequest.self, from: line)
        } catch let error as DecodingError {
            return refused(.malformed(Self.explain(error)))
        } catch {
            return refused(.malformed("not valid JSON"))
        }
        // JSONDecoder keeps one of two equal keys silently; a request must mean one thing.
        if let key = JSONDuplicateKeys.first(in: line) {
            return refused(.malformed("duplicate key '\(key)'"))
        }
        guard request.version == ControlProtocol.version else {
            return refused(.unsupportedVersion(request.version))
        }
        return request
    }

    /// The reply closure for one request: counts the answer and delivers it in its turn.
    private func reply(on connection: ControlConnection, sequence: Int) -> (ControlResponse) -> Void {
        let once = ReplyOnce()
        return { [weak self, weak connection] response in
            guard !once.replied else {
                assertionFailure("ControlServer: a request was answered twice")
                return
            }
            once.replied = true
            guard let self, let connection, connection.isOpen else { return }
            if response.ok {
                self.requestsServed += 1
            } else {
                self.requestsRefused += 1
            }
            self.deliver(response, sequence: sequence, on: connection)
        }
    }

    /// Stores an answer and writes every answer whose turn has come.
    private func deliver(_ response: ControlResponse, sequence: Int, on connection: ControlConnection) {
        guard connection.isOpen else { return }
        connection.park(Self.encode(response), sequence: sequence)
        let id = connection.id
        while let bytes = connection.takeNextToWrite() {
            connection.pipe.write(bytes) { [weak self] _ in self?.wrote(on: id) }
        }
        unsentOutputPeakBytes = max(unsentOutputPeakBytes, connection.pipe.writeQueueSize)
        if !connection.processing { adjustReading(connection) }
    }

    /// An answer went out (or failed): the client may be readable again.
    private func wrote(on id: Int) {
        guard let connection = connections[id] else { return }
        if connection.hasQueuedLines {
            process(connection)
        } else {
            adjustReading(connection)
        }
    }

    /// Whether to handle no more of the connection's requests for now: its unsent answers, the
    /// ones written and the ones parked behind a slower earlier request, are over the bound.
    private func mustWait(_ connection: ControlConnection) -> Bool {
        connection.unsentBytes > limits.maxUnsentOutputBytes || connection.pendingAnswers >= limits.maxPendingAnswers
    }

    /// Pauses reading while the client's answers pile up; resumes once they drained to half the
    /// bound; finishes a connection whose client stopped sending and has all its answers.
    private func adjustReading(_ connection: ControlConnection) {
        guard connection.isOpen else { return }
        let queued = connection.pipe.writeQueueSize
        if queued > limits.maxUnsentOutputBytes {
            if connection.outputFullSince == nil {
                connection.outputFullSince = loop.now
                logger.notice("control client does not read its answers; not reading its requests until it does",
                              metadata: ["client.id": "\(connection.id)", "client.user": "\(connection.caller)", "unsent.bytes": "\(queued)"])
            }
        } else if queued <= limits.maxUnsentOutputBytes / 2 {
            connection.outputFullSince = nil
        }
        // Answers parked behind a slow request pause reading too, but do not start the stall
        // timer: the client may be reading all it has been sent.
        let pause = connection.outputFullSince != nil || mustWait(connection) || connection.hasQueuedLines
        if pause, connection.isReading {
            connection.pipe.stopReading()
            connection.isReading = false
        } else if !pause, !connection.isReading, !connection.inputEnded {
            startReading(connection)
        }
        if connection.inputEnded, !connection.hasQueuedLines, connection.pendingAnswers == 0 {
            // Every request of a half-closed client is answered: send what is queued, then close.
            connections[connection.id] = nil
            connection.isOpen = false
            let pipe = connection.pipe
            pipe.shutdown { _ in pipe.close() }
        }
    }

    private func ended(_ id: Int, error: UVError?) {
        guard let connection = connections[id] else { return }
        connection.isReading = false
        if connection.framer.hasPartialLine {
            logger.debug("control client disconnected mid-request", metadata: ["client.id": "\(id)"])
        }
        if let error {
            logger.debug("control client connection ended", metadata: ["client.id": "\(id)", "error": "\(error)"])
            drop(id)
            return
        }
        // End of file: the client may still read the answers to what it sent.
        connection.inputEnded = true
        adjustReading(connection)
    }

    private func drop(_ id: Int) {
        connections.removeValue(forKey: id)?.close()
    }

    // MARK: Timeouts

    /// Closes idle connections, connections whose client stopped reading for too long, and
    /// refused connections that lingered long enough.
    private func sweep() {
        let now = loop.now
        defer { lastSweepAt = now }
        // After a callback that held the loop (a long `clock advance`), timers run before the
        // input that waited is read: a client that did send would look idle. Judge next round.
        if let last = lastSweepAt, now - last > 2 * sweepPeriod { return }
        for (id, connection) in connections {
            if let since = connection.outputFullSince, now - since >= limits.stalledOutputTimeoutMilliseconds {
                connectionsClosedStalled += 1
                logger.warning("control client disconnected: it has not read its answers", metadata: [
                    "client.id": "\(id)", "client.user": "\(connection.caller)",
                    "unsent.bytes": "\(connection.pipe.writeQueueSize)", "seconds": "\((now - since) / 1000)",
                ])
                drop(id)
            } else if connection.pendingAnswers == 0, !connection.hasQueuedLines, connection.pipe.writeQueueSize == 0,
                      now - connection.lastRequestAt >= limits.idleTimeoutMilliseconds {
                connectionsClosedIdle += 1
                logger.info("control client disconnected: idle", metadata: [
                    "client.id": "\(id)", "client.user": "\(connection.caller)",
                    "seconds": "\(limits.idleTimeoutMilliseconds / 1000)",
                ])
                connections[id] = nil
                connection.isOpen = false
                let pipe = connection.pipe
                pipe.stopReading()
                let idle = ControlError(.idleTimeout, """
                    no complete request for \(limits.idleTimeoutMilliseconds / 1000) s; the connection is closed
                    """)
                pipe.write(Self.encode(.failure(idle))) { _ in pipe.close() }
            }
        }
        for (id, entry) in lingering where now >= entry.until {
            lingering[id] = nil
            entry.pipe.close()
        }
    }

    // MARK: Helpers

    private static func encode(_ response: ControlResponse) -> [UInt8] {
        do {
            return try ControlCoding.encodeLine(response)
        } catch {
            // Only a non-finite number could fail here; say so rather than send nothing.
            let fallback = ControlResponse.failure(ControlError(.internalError, "cannot encode the answer: \(error)"))
            return (try? ControlCoding.encodeLine(fallback)) ?? Array("{\"ok\":false,\"version\":1}\n".utf8)
        }
    }

    private static func explain(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, _): "missing key '\(key.stringValue)'"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            context.codingPath.isEmpty
                ? "expected a JSON object"
                : "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        case .dataCorrupted: "not valid JSON"
        @unknown default: "not valid JSON"
        }
    }
}

@available(*, unavailable)
extension ControlServer: Sendable {}

/// Whether a request's reply closure has run.
private final class ReplyOnce {
    var replied = false
}

/// One client's connection: its partial input, the requests read but not yet handled, and the
/// answers that are ready but wait for an earlier one.
private final class ControlConnection {
    let id: Int
    let pipe: PipeConnection
    let caller: Caller
    var framer = LineFramer()
    /// Lines read but not handled yet (reading paused while answers pile up).
    var inbox: [LineFramer.Event] = []
    private var inboxIndex = 0
    /// The sequence number the next request gets.
    private var nextSequence = 0
    /// The sequence number of the next answer to write.
    private(set) var nextToWrite = 0
    /// Answers that came before their turn, and their bytes.
    private var ready: [Int: [UInt8]] = [:]
    private(set) var readyBytes = 0
    /// When the last complete request came (or the connection was made), in loop milliseconds.
    var lastRequestAt: UInt64
    /// Since when the unsent output is over the bound (nil when under it).
    var outputFullSince: UInt64?
    var isReading = false
    var processing = false
    /// The client shut its side down: answer what it sent, then close.
    var inputEnded = false
    /// False once closed or handed over to be closed; answers for it are then dropped.
    var isOpen = true

    init(id: Int, pipe: PipeConnection, caller: Caller, now: UInt64) {
        self.id = id
        self.pipe = pipe
        self.caller = caller
        lastRequestAt = now
    }

    /// Requests handed to the handler (or refused) whose answer is not written yet.
    var pendingAnswers: Int { nextSequence - nextToWrite }
    /// Answers not yet sent: queued for the socket, and parked until their turn.
    var unsentBytes: Int { pipe.writeQueueSize + readyBytes }

    /// Keeps an answer until every earlier one is written.
    func park(_ bytes: [UInt8], sequence: Int) {
        ready[sequence] = bytes
        readyBytes += bytes.count
    }

    /// The next answer in request order, when it is ready.
    func takeNextToWrite() -> [UInt8]? {
        guard let bytes = ready.removeValue(forKey: nextToWrite) else { return nil }
        nextToWrite += 1
        readyBytes -= bytes.count
        return bytes
    }
    var hasQueuedLines: Bool { inboxIndex < inbox.count }

    func assignSequence() -> Int {
        defer { nextSequence += 1 }
        return nextSequence
    }

    func nextInboxEvent() -> LineFramer.Event? {
        guard inboxIndex < inbox.count else { return nil }
        let event = inbox[inboxIndex]
        inboxIndex += 1
        if inboxIndex == inbox.count {
            inbox.removeAll(keepingCapacity: true)
            inboxIndex = 0
        }
        return event
    }

    func close() {
        isOpen = false
        ready.removeAll()
        readyBytes = 0
        pipe.close()
    }
}
