import Foundation

/// The `notifications:` section of the configuration: when chat notifications may go out and
/// how they are batched (docs/plugins.md, "Notifiers"). The inbox is never delayed.
///
/// ```yaml
/// notifications:
///   quiet_hours: "21:00-08:00"   # or off; the default
///   quiet_on_days_off: true      # days off of the calendar are quiet all day; the default
///   digest_window: 60 seconds    # notifications for one robot within this window go as one; 0: none
/// ```
public struct NotificationSettings: Sendable, Equatable {
    /// A daily window `start`–`end` (end excluded); it runs past midnight when `end <= start`.
    public struct QuietHours: Sendable, Equatable, CustomStringConvertible {
        public var start: TimeOfDay
        public var end: TimeOfDay

        public init(start: TimeOfDay, end: TimeOfDay) {
            self.start = start
            self.end = end
        }

        /// Whether the window runs past midnight (21:00–08:00).
        public var wrapsMidnight: Bool { end <= start }

        public func contains(_ time: TimeOfDay) -> Bool {
            wrapsMidnight ? (time >= start || time < end) : (time >= start && time < end)
        }

        /// `21:00-08:00`.
        public var description: String { "\(start)-\(end)" }

        /// Parses `HH:MM-HH:MM`; nil when it is not of that shape or both ends are equal.
        public init?(_ text: String) {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2,
                  let start = TimeOfDay(parts[0].trimmingCharacters(in: .whitespaces)),
                  let end = TimeOfDay(parts[1].trimmingCharacters(in: .whitespaces)),
                  start != end else { return nil }
            self.init(start: start, end: end)
        }
    }

    /// nil: no quiet hours (`quiet_hours: off`).
    public var quietHours: QuietHours?
    /// Days off of the calendar (weekends, holidays) are quiet all day.
    public var quietOnDaysOff: Bool
    /// Seconds; 0 sends each notification alone.
    public var digestWindow: Int

    /// 21:00–08:00, quiet on days off, a 60-second digest window.
    public static let `default` = NotificationSettings(
        quietHours: QuietHours(start: TimeOfDay(hour: 21, minute: 0)!, end: TimeOfDay(hour: 8, minute: 0)!),
        quietOnDaysOff: true, digestWindow: 60)

    /// The longest digest window accepted: an hour.
    public static let maximumDigestWindow = 3600

    public init(quietHours: QuietHours?, quietOnDaysOff: Bool, digestWindow: Int) {
        self.quietHours = quietHours
        self.quietOnDaysOff = quietOnDaysOff
        self.digestWindow = digestWindow
    }

    /// When a delayed notification goes out on a working morning: the end of the quiet hours,
    /// or 08:00 when there are none.
    public var morning: TimeOfDay { quietHours?.end ?? TimeOfDay(hour: 8, minute: 0)! }

    /// Reads the section; every problem is reported at its `file:line:col`.
    public static func read(_ reader: inout MappingReader) -> NotificationSettings {
        var settings = NotificationSettings.default
        if let text = reader.string("quiet_hours"), let node = reader.value("quiet_hours") {
            if ["off", "false", "no", "none"].contains(text.lowercased()) {
                settings.quietHours = nil
            } else if let hours = QuietHours(text) {
                settings.quietHours = hours
            } else {
                reader.report(.error, at: node, "'notifications.quiet_hours' must be HH:MM-HH:MM (such as \"21:00-08:00\") with different ends, or off; found '\(text)'")
            }
        }
        if let text = reader.string("quiet_on_days_off"), let node = reader.value("quiet_on_days_off") {
            switch text.lowercased() {
            case "true", "yes", "on": settings.quietOnDaysOff = true
            case "false", "no", "off": settings.quietOnDaysOff = false
            default: reader.report(.error, at: node, "'notifications.quiet_on_days_off' must be true or false; found '\(text)'")
            }
        }
        if let text = reader.string("digest_window"), let node = reader.value("digest_window") {
            if let seconds = Self.seconds(text), (0...maximumDigestWindow).contains(seconds) {
                settings.digestWindow = seconds
            } else {
                reader.report(.error, at: node, "'notifications.digest_window' must be a number of seconds or minutes from 0 to \(maximumDigestWindow / 60) minutes (such as \"60 seconds\" or \"2 minutes\"); found '\(text)'")
            }
        }
        return settings
    }

    /// `90`, `60 seconds`, `1 second`, `2 minutes`, `1 minute` → seconds: a bare number, or a
    /// duration of the workflow language in seconds or minutes.
    static func seconds(_ text: String) -> Int? {
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) { return Int(text) }
        guard let offset = try? TimeOffset.parse(text), offset.setting == nil else { return nil }
        switch offset.unit {
        case .seconds: return offset.amount
        case .minutes: return offset.amount.multipliedReportingOverflow(by: 60).overflow ? nil : offset.amount * 60
        default: return nil
        }
    }
}
