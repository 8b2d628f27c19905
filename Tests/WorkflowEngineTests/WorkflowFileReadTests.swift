import Foundation
import Testing
import WorkflowEngine
import WorkflowModel

/// The daemon reads a workflow file as `huaying lint` does: bounded, and what it cannot read
/// named at `file:line:col` (the journal and `huaying workflows` show these findings).
@Suite struct WorkflowFileReadTests {
    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("read-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func aByteThatIsNotUTF8IsReportedAtItsLineAndColumn() throws {
        let harness = try EngineHarness()
        let workflows = try folder()
        defer { try? FileManager.default.removeItem(at: workflows) }
        let file = workflows.appendingPathComponent("notice.yaml")
        var bytes = Data(noticeWorkflow.replacingOccurrences(of: "title: 测试通知", with: "title: 测试通知X").utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "X"))!] = 0xFF
        try bytes.write(to: file)
        #expect(harness.engine.loadDefinitions(directory: workflows.path).failed == [file.path])
        let line = noticeWorkflow.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("title: 测试通知") }! + 1
        #expect(harness.engine.loadErrors[file.path]?.map(\.description)
                == ["\(file.path):\(line):12: error: byte 0xFF is not UTF-8 text; expected the file to be saved as UTF-8"])
    }

    @Test func aFileLargerThanTheLimitIsRefusedAtItsStartAndTheLastGoodVersionStays() throws {
        let harness = try EngineHarness()
        let workflows = try folder()
        defer { try? FileManager.default.removeItem(at: workflows) }
        let file = workflows.appendingPathComponent("notice.yaml")
        try noticeWorkflow.write(to: file, atomically: true, encoding: .utf8)
        #expect(harness.engine.loadDefinitions(directory: workflows.path).loaded == ["notice"])
        let good = try #require(harness.engine.definitions.first?.version)

        let padding = String(repeating: "# " + String(repeating: "x", count: 1000) + "\n", count: YAMLFile.maximumBytes / 1000)
        try (noticeWorkflow + padding).write(to: file, atomically: true, encoding: .utf8)
        #expect(harness.engine.loadDefinitions(directory: workflows.path).failed == [file.path])
        #expect(harness.engine.loadErrors[file.path]?.map(\.description) == [
            "\(file.path):1:1: error: the file is larger than 1048576 bytes (1 MiB), the most a Huaying file may have; expected a smaller file (a long workflow split into workflows that start each other with 'then:')",
        ])
        #expect(harness.engine.definitions.first?.version == good)
    }
}
