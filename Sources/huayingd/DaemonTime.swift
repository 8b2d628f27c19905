import Foundation
import WorkflowModel

/// Instants on the wire: ISO 8601 with the configured zone's offset.
enum DaemonTime {
    static func iso8601(_ date: Date, zone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        // Milliseconds only when there are any, so whole-second instants print as they always did.
        let fraction = (date.timeIntervalSince1970 * 1000).rounded().truncatingRemainder(dividingBy: 1000) != 0
        return formatter(zone: zone, fraction: fraction).string(from: date)
    }

    /// Formatters by zone and precision, made once: making an ISO8601DateFormatter costs tens of
    /// microseconds, which was most of the time of a large `instances` or `audit` answer.
    /// - Important: Loop thread only (the daemon's one thread that answers requests).
    nonisolated(unsafe) private static var formatters: [String: ISO8601DateFormatter] = [:]

    private static func formatter(zone: TimeZone, fraction: Bool) -> ISO8601DateFormatter {
        let key = zone.identifier + (fraction ? ".ms" : "")
        if let cached = formatters[key] { return cached }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = fraction ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        formatters[key] = formatter
        return formatter
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
