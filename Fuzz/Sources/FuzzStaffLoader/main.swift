import FuzzSupport
import WorkflowModel

/// Bytes of a staff file → an org chart or findings; never a crash, a hang or a memory bomb.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStaffLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if case let .success(file) = FuzzInput.compose(FuzzInput.bytes(data, size)) {
        let result = OrgChartFile.check(file)
        FuzzInput.requireReason(accepted: result.chart != nil, diagnostics: result.diagnostics, what: "OrgChartFile")
    }
    return 0
}
