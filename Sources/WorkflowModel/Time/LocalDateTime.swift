import Foundation

/// A local date and time, to the millisecond, in the configured zone or at a written UTC
/// offset; and the conversions to and from an instant.
///
/// Printed as today's minute form when seconds and milliseconds are zero (`2026-10-08T09:00`),
/// else with `:SS` or `:SS.mmm`, then the offset if one was written (`Z`, `+08:00`).
public struct LocalDateTime: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var date: CivilDate
    /// The hour and minute. Setting it leaves `second` and `millisecond` as they are.
    public var time: TimeOfDay
    /// 0–59.
    public var second: Int
    /// 0–999.
    public var millisecond: Int
    /// Seconds east of UTC when the text gave an offset (`Z` is 0); nil: the configured zone.
    public var utcOffset: Int?

    public init(date: CivilDate, time: TimeOfDay, second: Int = 0, millisecond: Int = 0, utcOffset: Int? = nil) {
        precondition((0...59).contains(second) && (0...999).contains(millisecond), "second 0–59, millisecond 0–999")
        self.date = date
        self.time = time
        self.second = second
        self.millisecond = millisecond
        self.utcOffset = utcOffset
    }

    /// The local date and time of an instant in a zone, to the (nearest) millisecond.
    public init(_ instant: Date, in zone: TimeZone) {
        let millis = Int((instant.timeIntervalSince1970 * 1000).rounded())
        let local = millis + zone.secondsFromGMT(for: instant) * 1000
        let day = Int((Double(local) / 86_400_000).rounded(.down))
        let rest = local - day * 86_400_000
        self.date = CivilDate(dayNumber: day)
        self.time = TimeOfDay(hour: rest / 3_600_000, minute: (rest % 3_600_000) / 60_000)!
        self.second = (rest % 60_000) / 1000
        self.millisecond = rest % 1000
        self.utcOffset = nil
    }

    /// Milliseconds since 1970-01-01T00:00 of the wall clock (no zone applied).
    private var localMillis: Int {
        ((date.dayNumber * 86_400 + time.minutesSinceMidnight * 60 + second) * 1000) + millisecond
    }

    /// The same value with seconds and milliseconds set to zero.
    public var wholeMinute: LocalDateTime { LocalDateTime(date: date, time: time, utcOffset: utcOffset) }

    /// The instant this local time names: at its own UTC offset when it has one, else in
    /// `zone`. A time that a daylight-saving change skips (02:30 when clocks go from 02:00 to
    /// 03:00) moves forward by the length of the gap (03:30), as calendars do; a time that
    /// happens twice (when clocks go back) is the first of the two.
    public func instant(in zone: TimeZone) -> Date {
        let local = localMillis
        if let utcOffset { return Self.date(millis: local - utcOffset * 1000) }
        // The offsets in force well before and well after (the instant is within 18 h of the
        // wall time read as UTC, and zones do not change twice in two days).
        let day = 86_400_000
        let before = zone.secondsFromGMT(for: Self.date(millis: local - day)) * 1000
        let after = zone.secondsFromGMT(for: Self.date(millis: local + day)) * 1000
        let readsBack = [local - before, local - after].filter { zone.secondsFromGMT(for: Self.date(millis: $0)) * 1000 + $0 == local }
        if let first = readsBack.min() { return Self.date(millis: first) }
        // In a gap neither offset reads back as this wall time: the offset in force before the
        // change (the smaller one) lands after it, by the gap's length.
        return Self.date(millis: local - min(before, after))
    }

    private static func date(millis: Int) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        (lhs.date, lhs.time, lhs.second, lhs.millisecond, lhs.utcOffset ?? Int.min)
            < (rhs.date, rhs.time, rhs.second, rhs.millisecond, rhs.utcOffset ?? Int.min)
    }

    /// The time of day as the description writes it: `09:00`, `09:00:30`, `09:00:00.250`.
    public var clockText: String {
        var text = time.description
        if second != 0 || millisecond != 0 { text += ":" + Self.padded(second, 2) }
        if millisecond != 0 { text += "." + Self.padded(millisecond, 3) }
        return text
    }

    /// `2026-10-08T09:00`, `2026-10-08T09:00:30`, `2026-10-08T09:00:00.250+08:00`.
    public var description: String {
        var text = "\(date)T\(clockText)"
        if let utcOffset {
            if utcOffset == 0 {
                text += "Z"
            } else {
                let minutes = abs(utcOffset) / 60
                text += (utcOffset < 0 ? "-" : "+") + Self.padded(minutes / 60, 2) + ":" + Self.padded(minutes % 60, 2)
            }
        }
        return text
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Parses `YYYY-MM-DDTHH:MM`, optionally with `:SS` and a fraction `.f` (1–9 digits;
    /// kept to the millisecond), then optionally `Z` or an offset `±HH:MM`. A space may stand
    /// for the `T`.
    public init?(_ text: some StringProtocol) {
        if let canonical = Self.canonical(Array(text.utf8)) {
            self = canonical
            return
        }
        self.init(general: text)
    }

    /// The same grammar read character by character: every form the fast path below does not
    /// take (a one-digit hour, an invalid date …), and every rejection.
    init?(general text: some StringProtocol) {
        let separators: Set<Character> = ["T", " "]
        guard let index = text.firstIndex(where: { separators.contains($0) }),
              let date = CivilDate(text[..<index]) else { return nil }
        var rest = Substring(text[text.index(after: index)...])
        var utcOffset: Int?
        if rest.hasSuffix("Z") {
            utcOffset = 0
            rest = rest.dropLast()
        } else if let sign = rest.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let parts = rest[rest.index(after: sign)...].split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
                  let hours = Int(parts[0]), let minutes = Int(parts[1]), hours <= 18, minutes <= 59 else { return nil }
            utcOffset = (rest[sign] == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
            rest = rest[..<sign]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let time = TimeOfDay(parts[0] + ":" + parts[1]) else { return nil }
        var second = 0
        var millisecond = 0
        if parts.count == 3 {
            let pieces = parts[2].split(separator: ".", omittingEmptySubsequences: false)
            guard pieces.count <= 2, pieces[0].count == 2, pieces[0].allSatisfy(\.isASCIIDigit),
                  let seconds = Int(pieces[0]), seconds <= 59 else { return nil }
            second = seconds
            if pieces.count == 2 {
                let fraction = pieces[1]
                guard (1...9).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
                millisecond = Int(String((fraction + "00").prefix(3)))!
            }
        }
        self.init(date: date, time: time, second: second, millisecond: millisecond, utcOffset: utcOffset)
    }

    /// The canonical form in bytes — `YYYY-MM-DDTHH:MM[:SS[.f…]][Z|±HH:MM]`, a space allowed for
    /// the `T` — parsed without Unicode character handling (a start binds several of these, and
    /// the character-wise parse was most of binding's time). Nil for anything else, which the
    /// general parse then decides.
    static func canonical(_ b: [UInt8]) -> LocalDateTime? {
        func digit(_ i: Int) -> Int? {
            guard i < b.count, b[i] >= 0x30, b[i] <= 0x39 else { return nil }
            return Int(b[i] - 0x30)
        }
        func number(_ i: Int, _ width: Int) -> Int? {
            var value = 0
            for k in i..<(i + width) {
                guard let d = digit(k) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard b.count >= 16, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "), b[13] == UInt8(ascii: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2),
              let date = CivilDate(year: year, month: month, day: day), let time = TimeOfDay(hour: hour, minute: minute) else { return nil }
        var i = 16
        var second = 0, millisecond = 0
        if i < b.count, b[i] == UInt8(ascii: ":") {
            guard let seconds = number(i + 1, 2), seconds <= 59 else { return nil }
            second = seconds
            i += 3
            if i < b.count, b[i] == UInt8(ascii: ".") {
                var digits = 0
                var fraction = 0
                i += 1
                while let d = digit(i) {
                    if digits < 3 { fraction = fraction * 10 + d }
                    digits += 1
                    i += 1
                }
                guard (1...9).contains(digits) else { return nil }
                if digits < 3 { for _ in digits..<3 { fraction *= 10 } }
                millisecond = fraction
            }
        }
        var utcOffset: Int?
        if i < b.count {
            if b[i] == UInt8(ascii: "Z"), i + 1 == b.count {
                utcOffset = 0
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
                      let hours = number(i + 1, 2), let minutes = number(i + 4, 2), hours <= 18, minutes <= 59 {
                utcOffset = (b[i] == UInt8(ascii: "-") ? -1 : 1) * (hours * 3600 + minutes * 60)
            } else {
                return nil
            }
        }
        return LocalDateTime(date: date, time: time, second: second, millisecond: millisecond, utcOffset: utcOffset)
    }

    private enum CodingKeys: String, CodingKey {
        case date, time, second, millisecond, utcOffset = "utc_offset"
    }

    /// Decodes what older versions wrote (date and time only) as well.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let second = try container.decodeIfPresent(Int.self, forKey: .second) ?? 0
        let millisecond = try container.decodeIfPresent(Int.self, forKey: .millisecond) ?? 0
        guard (0...59).contains(second), (0...999).contains(millisecond) else {
            throw DecodingError.dataCorruptedError(forKey: .second, in: container, debugDescription: "expected second 0–59 and millisecond 0–999")
        }
        self.init(date: try container.decode(CivilDate.self, forKey: .date), time: try container.decode(TimeOfDay.self, forKey: .time),
                  second: second, millisecond: millisecond, utcOffset: try container.decodeIfPresent(Int.self, forKey: .utcOffset))
    }

    /// Writes seconds, milliseconds and an offset only when present, so whole-minute values
    /// encode as before.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(date, forKey: .date)
        try container.encode(time, forKey: .time)
        if second != 0 { try container.encode(second, forKey: .second) }
        if millisecond != 0 { try container.encode(millisecond, forKey: .millisecond) }
        try container.encodeIfPresent(utcOffset, forKey: .utcOffset)
    }
}
