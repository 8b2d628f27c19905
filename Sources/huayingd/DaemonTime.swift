import Foundation
import WorkflowModel

/// Instants on the wire: ISO 8601 with the configured zone's offset.
enum DaemonTime {
    static func iso8601(_ date: Date, zone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        // Milliseconds only when there are any, so whole-second instants print as they always did.
        let fraction = (date.timeIntervalSince1970 * 1000).rounded().truncatingRemainder(dividingBy: 1000) != 0
        formatter.formatOptions = fraction ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// What a person types for an instant (`--simulated-clock`, `clock set`): the forms of a
    /// workflow's `datetime` (`2026-11-01T09:00`, `…T09:00:30`, `…T09:00:00.250`, each with an
    /// optional `Z` or `+08:00`; a space may stand for the `T`), or a date alone (midnight).
    /// A time without an offset is local to `zone`; one in a daylight-saving gap moves forward.
    static func parse(_ text: String, zone: TimeZone) -> Date? {
        if let dateTime = LocalDateTime(text) { return dateTime.instant(in: zone) }
        if let date = CivilDate(text) { return LocalDateTime(date: date, time: .midnight).instant(in: zone) }
        return nil
    }
}
