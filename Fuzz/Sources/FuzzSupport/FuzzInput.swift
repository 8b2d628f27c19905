import Foundation
import WorkflowModel

/// What every harness shares: the repository's shipped files, and the one way a loader turns
/// bytes into a composed file or a finding (the same steps as `YAMLFile(path:)`).
public enum FuzzInput {
    /// The repository checkout, found from this source file (Fuzz/Sources/FuzzSupport/…).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The file name used in findings; it never exists on disk.
    public static let path = "fuzz-input.yaml"

    /// The bytes libFuzzer hands over, copied (the buffer is only valid during the call).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Decodes and composes the bytes as `YAMLFile(path:)` does for a file on disk.
    public static func compose(_ bytes: [UInt8]) -> Result<YAMLFile, Diagnostic> {
        do {
            return .success(try YAMLFile(path: path, text: try YAMLFile.decode(Data(bytes), path: path)))
        } catch {
            // A byte that is not UTF-8 is named at its line and column, like any other finding.
            if error.line == nil { fatalError("a finding without a position: \(error)") }
            return .failure(error)
        }
    }

    /// A loader that refuses a file must say why: no result and no error is a finding.
    /// Traps (so libFuzzer saves the input) when the contract is broken.
    public static func requireReason(accepted: Bool, diagnostics: [Diagnostic], what: String) {
        if !accepted && !diagnostics.contains(where: { $0.severity == .error }) {
            fatalError("\(what) refused the input without an error finding: \(diagnostics)")
        }
        for diagnostic in diagnostics where diagnostic.message.isEmpty {
            fatalError("\(what) produced a finding without a message: \(diagnostic)")
        }
    }

    /// The shipped calendars and staff list, loaded once per process.
    public static let calendars: CalendarLibrary = CalendarLibrary.load(directory: repositoryRoot + "/etc/calendars").library
    public static let orgChart: OrgChart? = try? OrgChartFile.load(path: repositoryRoot + "/etc/staff.yaml")
}
