import FuzzSupport
import WorkflowModel

/// Bytes of a calendar file → a work calendar or findings; never a crash, a hang or a memory
/// bomb. An accepted calendar is also asked about every day of the years it covers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCalendarLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if case let .success(file) = FuzzInput.compose(FuzzInput.bytes(data, size)) {
        let result = CalendarFile.check(file)
        FuzzInput.requireReason(accepted: result.calendar != nil, diagnostics: result.diagnostics, what: "CalendarFile")
        if let calendar = result.calendar {
            for year in calendar.coveredYears.prefix(3) {
                _ = calendar.days(ofYear: year)
            }
        }
    }
    return 0
}
