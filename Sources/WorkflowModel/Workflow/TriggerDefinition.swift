import Foundation

/// `trigger:` — the daemon starts instances of this workflow by itself, on a calendar
/// schedule, one per unit of the given kinds (its `unit` parameter); every other parameter
/// needs a default.
///
/// ```yaml
/// trigger:
///   every: year          # year | quarter | month
///   on: "12-01"          # year: MM-DD; quarter and month: the day of the (first) month, "15"
///   at: "09:00"          # optional; default_time otherwise
///   units: [village, community]
/// ```
public struct TriggerDefinition: Hashable, Sendable {
    public enum Period: String, Hashable, Sendable, CaseIterable {
        case year, quarter, month
    }

    public var every: Period
    /// For `year`: the month (1–12); nil otherwise.
    public var month: Int?
    public var day: Int
    public var time: TimeOfDay?
    public var unitKinds: [UnitKind]
    public var location: SourceLocation
    /// `spread:` — the units under one parent (a township's villages) get a date parameter
    /// `every` apart, in org-chart order, instead of the same default (TriggerSchedule).
    public var spread: Spread? = nil

    public struct Spread: Hashable, Sendable {
        public var param: String
        public var every: TimeOffset
        public var location: SourceLocation

        public init(param: String, every: TimeOffset, location: SourceLocation) {
            self.param = param
            self.every = every
            self.location = location
        }
    }

    public init(every: Period, month: Int?, day: Int, time: TimeOfDay?, unitKinds: [UnitKind], location: SourceLocation) {
        self.every = every
        self.month = month
        self.day = day
        self.time = time
        self.unitKinds = unitKinds
        self.location = location
    }

    /// The first occurrence strictly after `instant` (days past a month's end fall on its last day).
    public func occurrence(after instant: Date, timeZone: TimeZone, defaultTime: TimeOfDay) -> LocalDateTime {
        let now = LocalDateTime(instant, in: timeZone)
        let time = self.time ?? defaultTime
        var year = now.date.year
        var month = now.date.month
        switch every {
        case .year: month = self.month ?? 1
        case .quarter: month = ((month - 1) / 3) * 3 + 1
        case .month: break
        }
        for _ in 0..<40 {
            let candidate = LocalDateTime(date: Self.date(year: year, month: month, day: day), time: time)
            if candidate.instant(in: timeZone) > instant { return candidate }
            let step = every == .year ? 12 : every == .quarter ? 3 : 1
            month += step
            while month > 12 { month -= 12; year += 1 }
        }
        return LocalDateTime(date: Self.date(year: year, month: month, day: day), time: time)
    }

    /// A key naming one occurrence, for "fired once" bookkeeping: "2026", "2026-Q4", "2026-12".
    public func key(of occurrence: LocalDateTime) -> String {
        let date = occurrence.date
        switch every {
        case .year: return "\(date.year)"
        case .quarter: return "\(date.year)-Q\((date.month - 1) / 3 + 1)"
        case .month: return "\(date.year)-\(date.month < 10 ? "0" : "")\(date.month)"
        }
    }

    private static func date(year: Int, month: Int, day: Int) -> CivilDate {
        var candidate = min(day, 31)
        while candidate > 28, CivilDate(year: year, month: month, day: candidate) == nil { candidate -= 1 }
        return CivilDate(year: year, month: month, day: candidate)!
    }
}

/// `then:` — what a completed instance starts: one instance of `start` per element of
/// `for_each` (a list written in an earlier step's acknowledgement fields, split at commas,
/// 、 or spaces), or a single one without `for_each`. `{{item}}` is the element.
///
/// ```yaml
/// then:
///   - start: pre-appointment-talk
///     for_each: "{{steps.announce-results.fields.heads}}"
///     params: { unit: "{{unit.id}}", cadre: "{{item}}", result_day: "{{new_committee_day}}" }
/// ```
public struct ChainDefinition: Hashable, Sendable {
    public var workflow: Located<String>
    public var forEach: String?
    /// Parameter name → template, in file order.
    public var params: [Located<String>: String]
    public var location: SourceLocation

    public init(workflow: Located<String>, forEach: String?, params: [Located<String>: String], location: SourceLocation) {
        self.workflow = workflow
        self.forEach = forEach
        self.params = params
        self.location = location
    }

    /// Splits a rendered `for_each` into its elements.
    public static func elements(of text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == "，" || $0 == "、" || $0 == ";" || $0 == "；" || $0.isWhitespace })
            .map(String.init).filter { !$0.isEmpty }
    }
}
