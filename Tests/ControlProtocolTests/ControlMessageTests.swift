import Foundation
import Testing
import ControlProtocol

@Suite struct ControlMessageTests {
    @Test func requestRoundTripsAsOneLine() throws {
        let request = ControlRequest(command: "start", arguments: ["param": .object(["election_day": .string("2026-12-20")])], actAs: "li.ming")
        let line = try ControlCoding.encodeLine(request)
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false)
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains("\"act_as\":\"li.ming\""))
        #expect(try ControlCoding.decode(ControlRequest.self, from: Array(line.dropLast())) == request)
    }

    @Test func requestWithoutArgumentsDecodes() throws {
        let request = try ControlCoding.decode(ControlRequest.self, from: Array(#"{"version":1,"command":"status"}"#.utf8))
        #expect(request.command == "status")
        #expect(request.arguments.isEmpty)
        #expect(request.actAs == nil)
    }

    @Test func requestWithoutCommandIsRejected() {
        #expect(throws: DecodingError.self) {
            try ControlCoding.decode(ControlRequest.self, from: Array(#"{"version":1}"#.utf8))
        }
    }

    @Test func statusResultUsesSnakeCaseKeys() throws {
        let status = StatusResult(daemonVersion: "0.1.0", pid: 42, startedAt: "2026-11-26T08:00:00Z", uptimeSeconds: 1.5,
                                  clockMode: "real", now: "2026-11-26T16:00:01+08:00", timeZone: "Asia/Shanghai",
                                  statePath: "/s/state.db", socketPath: "/r/h.sock", configPath: "/e/h.yaml", counts: ["requests_served": 3])
        let value = try ControlCoding.value(status)
        #expect(value["clock_mode"] == .string("real"))
        #expect(value["state_path"] == .string("/s/state.db"))
        #expect(try ControlCoding.convert(value, to: StatusResult.self) == status)
    }

    @Test func errorsNameTheirCodeAndWhatWasExpected() {
        #expect(ControlError.unknownCommand("frob", known: ["status"]).message == "unknown command 'frob'; known commands: status")
        #expect(ControlError.unsupportedVersion(9).code == "unsupported_version")
        #expect(ControlError.malformed("empty line").message.contains("expected one JSON object per line"))
    }
}
