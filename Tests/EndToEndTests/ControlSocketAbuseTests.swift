import ControlProtocol
import Foundation
import Testing

/// Bad input on the control socket gets an error response (or a closed connection) and the
/// daemon keeps answering everyone else.
@Suite struct ControlSocketAbuseTests {
    private func response(to raw: String, on client: ControlClient) throws -> ControlResponse? {
        try client.send(raw: Array(raw.utf8))
        guard let line = try client.readLine() else { return nil }
        return try ControlCoding.decode(ControlResponse.self, from: line)
    }

    private func expectStatusAnswers(_ socketPath: String) throws {
        let response = try ControlClient(socketPath: socketPath).call(ControlRequest(command: "status"))
        #expect(response.ok)
    }

    @Test func malformedLinesGetNamedErrorsOnTheSameConnection() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        let client = try ControlClient(socketPath: site.socketPath)

        let cases: [(String, String, String)] = [
            ("garbage\n", "malformed_request", "not valid JSON"),
            ("\n", "malformed_request", "empty line"),
            ("[1,2]\n", "malformed_request", "expected a JSON object"),
            ("{\"version\":1}\n", "malformed_request", "missing key 'command'"),
            ("{\"version\":\"one\",\"command\":\"status\"}\n", "malformed_request", "wrong type at 'version'"),
            ("{\"version\":99,\"command\":\"status\"}\n", "unsupported_version", "protocol version 99"),
            ("{\"version\":1,\"command\":\"frobnicate\"}\n", "unknown_command", "unknown command 'frobnicate'"),
            ("\u{00}\u{ff}\u{fe}\n", "malformed_request", "not valid JSON"),
            // JSONDecoder would silently keep one of two equal keys.
            ("{\"version\":1,\"command\":\"status\",\"command\":\"cancel\"}\n", "malformed_request", "duplicate key 'command'"),
            ("{\"version\":1,\"command\":\"ack\",\"arguments\":{\"id\":1,\"note\":\"a\",\"note\":\"b\"}}\n",
             "malformed_request", "duplicate key 'arguments.note'"),
        ]
        for (raw, code, fragment) in cases {
            let answer = try response(to: raw, on: client)
            #expect(answer?.ok == false, "for \(raw.debugDescription)")
            #expect(answer?.error?.code == code, "for \(raw.debugDescription)")
            #expect(answer?.error?.message.contains(fragment) == true, "for \(raw.debugDescription): \(String(describing: answer))")
        }
        // The same connection still works after all of that.
        #expect(try client.call(ControlRequest(command: "status")).ok)
        #expect(daemon.stop() == 0)
    }

    @Test func aTenMegabyteLineIsRefusedAndTheConnectionClosed() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        let client = try ControlClient(socketPath: site.socketPath)
        let huge = [UInt8](repeating: UInt8(ascii: "x"), count: 10 * 1024 * 1024) + [UInt8(ascii: "\n")]
        // The daemon may close before it has read all 10 MB; a write error then is expected.
        try? client.send(raw: huge)
        let line = try #require(try client.readLine(), "the daemon answers before closing")
        #expect(try ControlCoding.decode(ControlResponse.self, from: line).error?.code == "request_too_large")
        let after = try? client.readLine()
        #expect(after == nil, "the connection is closed after the refusal")
        try expectStatusAnswers(site.socketPath)
        #expect(daemon.log.contains("control request too large"))
        #expect(daemon.stop() == 0)
    }

    @Test func aClientThatDisconnectsMidLineIsForgotten() throws {
        let site = try TestSite()
        defer { site.remove() }
        let daemon = try TestDaemon(site: site)
        for _ in 0..<20 {
            let client = try ControlClient(socketPath: site.socketPath)
            try client.send(raw: Array("{\"version\":1,\"comm".utf8))
        }
        // Half-closed: the request line never ends, the daemon must not answer or wait forever.
        let halfClosed = try ControlClient(socketPath: site.socketPath)
        try halfClosed.send(raw: Array("{\"version\":1,\"command\":\"sta".utf8))
        halfClosed.shutdownWrite()
        #expect(try halfClosed.readLine() == nil)

        try expectStatusAnswers(site.socketPath)
        // The previous status connection's close reaches the daemon a moment after its answer:
        // ask until only the asking connection is left (waiting for the daemon, not a timer).
        var open: Int?
        let deadline = Date().addingTimeInterval(10)
        repeat {
            let status = try ControlCoding.convert(
                try ControlClient(socketPath: site.socketPath).call(ControlRequest(command: "status")).result ?? .null,
                to: StatusResult.self)
            open = status.counts["open_connections"]
        } while open != 1 && Date() < deadline
        #expect(open == 1, "only the asking connection is still open")
        #expect(daemon.stop() == 0)
    }

    @Test func manyClientsAtOnceAllGetAnswers() throws {
        let site = try TestSite()
        defer { site.remove() }
        // All 50 are this test's user: lift the per-user cap (32 by default) above them.
        let daemon = try TestDaemon(site: site, extraArguments: ["--max-connections-per-user", "64"])
        let clients = try (0..<50).map { _ in try ControlClient(socketPath: site.socketPath) }
        for client in clients { try client.send(raw: ControlCoding.encodeLine(ControlRequest(command: "status"))) }
        for client in clients {
            let line = try #require(try client.readLine())
            #expect(try ControlCoding.decode(ControlResponse.self, from: line).ok)
        }
        #expect(daemon.stop() == 0)
    }
}
