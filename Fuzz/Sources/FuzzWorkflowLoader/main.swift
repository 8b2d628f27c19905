import FuzzSupport
import WorkflowModel

/// Bytes of a workflow file → the checker's findings; never a crash, a hang or a memory bomb.
/// The file is checked against the shipped calendars and staff list, as the daemon does.
private let checker = WorkflowChecker(calendars: FuzzInput.calendars, orgChart: FuzzInput.orgChart)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorkflowLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    switch FuzzInput.compose(FuzzInput.bytes(data, size)) {
    case .failure:
        break
    case let .success(file):
        let result = checker.check(file)
        FuzzInput.requireReason(accepted: result.definition != nil, diagnostics: result.diagnostics, what: "WorkflowChecker")
        if let definition = result.definition, definition.steps.isEmpty {
            fatalError("WorkflowChecker accepted a workflow without steps")
        }
    }
    return 0
}
