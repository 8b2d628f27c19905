import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under the system's temporary directory, removed by `remove()`.
public struct ScratchDirectory: Sendable {
    public let path: String

    public init(_ label: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("huaying-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A test's failure to set something up, with what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The 企业微信 / 钉钉 robot stand-in (`Tests/NotifierTests/Fixtures/robot-server.py`): a real
/// HTTP server on 127.0.0.1 that records every POST and answers with what the test sets.
public final class RobotServer {
    /// The checkout (three levels above this file).
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    let scratch: ScratchDirectory
    let process: ChildProcess
    public let port: Int

    public init() throws {
        scratch = try ScratchDirectory("robot")
        let script = Self.checkout + "/Tests/NotifierTests/Fixtures/robot-server.py"
        process = try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", script, scratch.path],
                                   stdoutPath: scratch.path + "/server.out", stderrPath: scratch.path + "/server.err")
        let portFile = scratch.path + "/port"
        let deadline = Date().addingTimeInterval(30)
        var found: Int?
        while found == nil {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let number = Int(text) {
                found = number
            } else if Date() > deadline || !process.isRunning {
                let log = (try? String(contentsOfFile: scratch.path + "/server.err", encoding: .utf8)) ?? ""
                throw TestFailure("the robot stand-in did not start: \(log)")
            } else {
                usleep(10_000)
            }
        }
        port = found!
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// What the next requests are answered with: HTTP `status` and `body` (a JSON object, or raw text).
    public func reply(status: Int = 200, json: String) throws {
        let text = #"{"status": \#(status), "body": \#(json)}"#
        try text.write(toFile: scratch.path + "/reply.json", atomically: true, encoding: .utf8)
    }

    public func reply(status: Int = 200, raw: String) throws {
        let encoded = String(data: try JSONSerialization.data(withJSONObject: [raw], options: .fragmentsAllowed), encoding: .utf8)!
        try reply(status: status, json: String(encoded.dropFirst().dropLast()))
    }

    /// Every POST received so far: path, query and the parsed body.
    public func requests() throws -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: scratch.path + "/requests.jsonl", encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw TestFailure("the robot stand-in logged a line that is not an object: \(line)")
            }
            return object
        }
    }

    /// Waits until at least `count` POSTs arrived, at most `seconds`; returns them.
    public func waitForRequests(_ count: Int, seconds: Double = 30) throws -> [[String: Any]] {
        var received: [[String: Any]] = []
        try poll(seconds: seconds) {
            received = try requests()
            return received.count >= count
        }
        return received
    }

    public func stop() {
        process.send(SIGKILL)
        process.waitUntilExit()
        scratch.remove()
    }

    deinit { stop() }
}
