import FuzzSupport
import WorkflowModel

/// Bytes of huaying.yaml → a configuration or findings; never a crash, a hang or a memory bomb.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if case let .success(file) = FuzzInput.compose(FuzzInput.bytes(data, size)) {
        do {
            _ = try HuayingConfig.parse(file, absolutePath: "/etc/huaying/huaying.yaml")
        } catch {
            FuzzInput.requireReason(accepted: false, diagnostics: error.diagnostics, what: "HuayingConfig")
        }
    }
    return 0
}
