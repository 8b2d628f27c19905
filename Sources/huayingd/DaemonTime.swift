import Foundation

/// Instants on the wire: ISO 8601 with the configured zone's offset.
enum DaemonTime {
    static func iso8601(_ date: Date, zone: TimeZone = TimeZone(identifier: "UTC")!) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `2026-11-01T09:00+08:00`, `2026-11-01T09:00:00Z`, or a local `2026-11-01T09:00` in `zone`.
    static func parse(_ text: String, zone: TimeZone) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        // Seconds are optional in what people type: add them.
        if text.count >= 16, let date = formatter.date(from: String(text.prefix(16)) + ":00" + String(text.dropFirst(16))) { return date }
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = zone
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"] {
            local.dateFormat = format
            if let date = local.date(from: text) { return date }
        }
        return nil
    }
}
