import ControlProtocol
import EventLoop
import Foundation
import Logging

/// The control socket: accepts connections on a Unix socket, splits each into request lines,
/// and writes one response line per request, in order.
///
/// Bad input never reaches the handler: an empty or malformed line gets a `malformed_request`
/// response, another protocol version `unsupported_version`, a line over
/// `ControlProtocol.maxRequestBytes` gets `request_too_large` and the connection is closed.
/// A client that disconnects mid-line is forgotten. None of this affects other clients.
///
/// - Important: Loop thread only.
final class ControlServer {
    typealias Handler = (ControlRequest, Caller) -> ControlResponse

    /// More simultaneous clients than this are answered `busy` and closed.
    static let maxConnections = 256

    private let listener: PipeServer
    private let logger: Logger
    private let handler: Handler
    private var connections: [Int: ControlConnection] = [:]
    private var nextConnectionID = 0
    private(set) var requestsServed = 0
    private(set) var requestsRefused = 0

    var openConnections: Int { connections.count }

    init(loop: EventLoop, path: String, logger: Logger, handler: @escaping Handler) throws {
        self.logger = logger
        self.handler = handler
        listener = try PipeServer(loop: loop)
        do {
            try listener.bind(path: path)
            // Owner and group may connect; the group is set by the service (issue: operations).
            chmod(path, 0o660)
            try listener.listen { [unowned self] pipe in self.accept(pipe) }
        } catch {
            listener.close()
            throw error
        }
    }

    /// Stops listening and closes every connection (idempotent).
    func close() {
        listener.close()
        for connection in connections.values { connection.pipe.close() }
        connections.removeAll()
    }

    private func accept(_ pipe: PipeConnection) {
        guard connections.count < Self.maxConnections else {
            logger.warning("control connection refused: too many clients", metadata: ["limit": "\(Self.maxConnections)"])
            let busy = ControlResponse.failure(ControlError(code: "busy", message: "too many clients connected; try again"))
            pipe.write((try? ControlCoding.encodeLine(busy)) ?? []) { _ in pipe.close() }
            return
        }
        let caller: Caller
        do {
            let credentials = try pipe.peerCredentials()
            caller = Caller(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid)
        } catch {
            logger.warning("control connection dropped: no peer credentials", metadata: ["error": "\(error)"])
            pipe.close()
            return
        }
        nextConnectionID += 1
        let id = nextConnectionID
        let connection = ControlConnection(id: id, pipe: pipe, caller: caller)
        connections[id] = connection
        logger.debug("control client connected", metadata: ["client.id": "\(id)", "client.user": "\(caller)"])
        do {
            try pipe.startReading(
                onData: { [unowned self] bytes in self.received(bytes, on: id) },
                onEnd: { [unowned self] error in self.ended(id, error: error) })
        } catch {
            logger.warning("control connection dropped: cannot read", metadata: ["error": "\(error)"])
            drop(id)
        }
    }

    private func received(_ bytes: [UInt8], on id: Int) {
        guard let connection = connections[id] else { return }
        for event in connection.framer.append(bytes) {
            switch event {
            case let .line(line):
                respond(on: connection, with: response(to: line, from: connection.caller))
            case .tooLong:
                requestsRefused += 1
                logger.warning("control request too large; closing connection",
                               metadata: ["client.id": "\(id)", "client.user": "\(connection.caller)", "limit": "\(ControlProtocol.maxRequestBytes)"])
                connection.pipe.stopReading()
                connections[id] = nil
                let pipe = connection.pipe
                pipe.write((try? ControlCoding.encodeLine(ControlResponse.failure(.tooLarge))) ?? []) { _ in pipe.close() }
                return
            }
        }
    }

    private func response(to line: [UInt8], from caller: Caller) -> ControlResponse {
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
            return refuse(.malformed("empty line"), caller)
        }
        let request: ControlRequest
        do {
            request = try ControlCoding.decode(ControlRequest.self, from: line)
        } catch let error as DecodingError {
            return refuse(.malformed(Self.explain(error)), caller)
        } catch {
            return refuse(.malformed("not valid JSON"), caller)
        }
        guard request.version == ControlProtocol.version else {
            return refuse(.unsupportedVersion(request.version), caller)
        }
        let response = handler(request, caller)
        if response.ok {
            requestsServed += 1
        } else {
            requestsRefused += 1
        }
        return response
    }

    private func refuse(_ error: ControlError, _ caller: Caller) -> ControlResponse {
        requestsRefused += 1
        logger.notice("control request refused", metadata: ["client.user": "\(caller)", "reason": "\(error.code)"])
        return .failure(error)
    }

    private func respond(on connection: ControlConnection, with response: ControlResponse) {
        do {
            connection.pipe.write(try ControlCoding.encodeLine(response))
        } catch {
            logger.error("cannot encode control response", metadata: ["error": "\(error)"])
            drop(connection.id)
        }
    }

    private func ended(_ id: Int, error: UVError?) {
        guard let connection = connections[id] else { return }
        if connection.framer.hasPartialLine {
            logger.debug("control client disconnected mid-request", metadata: ["client.id": "\(id)"])
        } else if let error {
            logger.debug("control client connection ended", metadata: ["client.id": "\(id)", "error": "\(error)"])
        }
        drop(id)
    }

    private func drop(_ id: Int) {
        connections.removeValue(forKey: id)?.pipe.close()
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

/// One client's connection and its partial input.
private final class ControlConnection {
    let id: Int
    let pipe: PipeConnection
    let caller: Caller
    var framer = LineFramer()

    init(id: Int, pipe: PipeConnection, caller: Caller) {
        self.id = id
        self.pipe = pipe
        self.caller = caller
    }
}
