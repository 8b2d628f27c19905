import Foundation
import FuzzSupport
import WorkflowModel

/// Bytes → `TimeExpression.parse` → (when it parses) the printed form parses back to the same
/// expression, and evaluation against the shipped calendar returns an instant or an error;
/// never a crash or a hang. Every parameter and step the expression reads is given a value,
/// so evaluation runs to the end.
private let calendar = FuzzInput.calendars["cn-mainland"] ?? WorkCalendar(id: "weekends", title: "weekends", years: [])
private let zone = TimeZone(identifier: "Asia/Shanghai")!
private let start = Date(timeIntervalSince1970: 1_772_323_200) // 2026-03-01T00:00:00Z

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimeExpression(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let text = String(data: Data(FuzzInput.bytes(data, size)), encoding: .utf8) else { return 0 }
    let expression: TimeExpression
    do {
        expression = try TimeExpression.parse(text)
    } catch {
        if error.offset < 0 || error.offset > text.unicodeScalars.count {
            fatalError("error offset \(error.offset) outside the text (\(text.unicodeScalars.count) scalars): \(error)")
        }
        return 0
    }
    let printed = expression.description
    guard let reparsed = try? TimeExpression.parse(printed), reparsed == expression else {
        fatalError("'\(text)' parses, but its printed form '\(printed)' does not parse back to it")
    }
    var environment = TimeEnvironment(calendar: calendar, timeZone: zone, defaultTime: TimeOfDay(hour: 9, minute: 0)!, start: start)
    for name in expression.parameters { environment.dates[name] = CivilDate(year: 2026, month: 5, day: 1) }
    for id in expression.steps { environment.completions[id] = start.addingTimeInterval(86_400) }
    _ = try? expression.evaluate(in: environment)
    return 0
}
