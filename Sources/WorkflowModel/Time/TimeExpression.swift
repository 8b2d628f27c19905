/// A due time written as a formula, kept as written so it can be evaluated again when a
/// parameter changes (DESIGN.md §4).
///
/// Grammar (words are case-sensitive; `+` and `-` need a space on each side):
///
/// ```
/// expression := base { ("+" | "-") amount unit } [ "at" HH:MM ] [ adjustment ]
/// base       := YYYY-MM-DD | datetime | start | steps.<step-id>.done | <param>
/// datetime   := YYYY-MM-DDTHH:MM [ ":" SS [ "." fraction ] ] [ "Z" | ("+" | "-") HH:MM ]
/// unit       := second(s) | minute(s) | hour(s) | day(s) | week(s) | month(s) | workday(s)
/// adjustment := next-workday | previous-workday | civil-deadline
/// ```
///
/// Example: `election_day - 20 days at 18:00 previous-workday`. The canonical text
/// (`description`) parses back to an equal value.
public struct TimeExpression: Hashable, Sendable, Codable, CustomStringConvertible {
    /// What the offsets are counted from.
    public enum Base: Hashable, Sendable, Codable {
        /// A date literal; its time of day is the workflow's `default_time`.
        case date(CivilDate)
        /// A date and time literal, in the configured zone.
        case dateTime(LocalDateTime)
        /// The instant the instance started.
        case start
        /// A `date` or `datetime` parameter of the instance.
        case param(String)
        /// The instant a step of the same instance completed (`steps.<id>.done`).
        case stepDone(String)
        /// A date given with a step's acknowledgement (`steps.<id>.fields.<name>`, e.g. the day
        /// a list was posted), at `default_time`; when the field was not given, the date the
        /// step completed. Like `steps.<id>.done`, it waits for the step.
        case stepFieldDate(step: String, field: String)
    }

    public var base: Base
    /// Applied left to right.
    public var offsets: [TimeOffset]
    /// `at HH:MM`: the time of day after the offsets; nil keeps the base's time.
    public var timeOfDay: TimeOfDay?
    public var adjustment: DateAdjustment?

    public init(base: Base, offsets: [TimeOffset] = [], timeOfDay: TimeOfDay? = nil, adjustment: DateAdjustment? = nil) {
        self.base = base
        self.offsets = offsets
        self.timeOfDay = timeOfDay
        self.adjustment = adjustment
    }

    /// Parses the text of a time expression.
    /// - Throws: `TimeExpressionError` with the offset (in Unicode scalars) of the bad part.
    public static func parse(_ text: String) throws(TimeExpressionError) -> TimeExpression {
        var parser = TimeExpressionParser(text)
        return try parser.parseExpression()
    }

    /// The parameters the formula reads.
    public var parameters: [String] {
        if case let .param(name) = base { return [name] }
        return []
    }

    /// The steps whose completion the formula reads.
    public var steps: [String] {
        if case let .stepDone(id) = base { return [id] }
        if case let .stepFieldDate(id, _) = base { return [id] }
        return []
    }

    /// Whether the formula counts backwards (a latest date before its base, e.g. E−20).
    public var countsBackwards: Bool { offsets.contains { $0.amount < 0 || $0.negative } }

    /// The deployment settings the formula reads (`settings.<name>` amounts).
    public var settings: [String] { offsets.compactMap(\.setting) }

    /// About how many days the offsets move the base, at most (a workday taken as 1.5 days,
    /// a month as 31), for `lint`'s bound on offsets.
    public var spanInDays: Double {
        offsets.reduce(0) { $0 + abs(Double($1.amount)) * $1.unit.daysAtMost }
    }

    /// The most the offsets of one expression may move it: 100 years. More is a typo, and
    /// would leave the calendar's years 1–9999.
    public static let maximumSpanInDays = 36_525.0

    /// The canonical text: single spaces, singular units for ±1, `at` before the adjustment.
    public var description: String {
        var text: String
        switch base {
        case let .date(date): text = date.description
        case let .dateTime(dateTime): text = dateTime.description
        case .start: text = "start"
        case let .param(name): text = name
        case let .stepDone(id): text = "steps.\(id).done"
        case let .stepFieldDate(id, field): text = "steps.\(id).fields.\(field)"
        }
        for offset in offsets {
            text += offset.amount < 0 || offset.negative ? " - " : " + "
            var magnitude = TimeOffset(amount: abs(offset.amount), unit: offset.unit)
            magnitude.setting = offset.setting
            text += magnitude.description
        }
        if let timeOfDay { text += " at \(timeOfDay)" }
        if let adjustment { text += " \(adjustment.rawValue)" }
        return text
    }
}

/// A unit of a time offset or duration.
public enum TimeUnit: String, Hashable, Sendable, Codable, CaseIterable {
    case seconds, minutes, hours, days, weeks, months, workdays

    /// The singular word ("day").
    public var singular: String { String(rawValue.dropLast()) }

    /// About how many calendar days one of this unit is, at most.
    var daysAtMost: Double {
        switch self {
        case .seconds: 1.0 / 86_400
        case .minutes: 1.0 / 1440
        case .hours: 1.0 / 24
        case .days: 1
        case .weeks: 7
        case .months: 31
        case .workdays: 1.5
        }
    }

    /// Accepts singular and plural words.
    public init?(word: String) {
        if let unit = TimeUnit(rawValue: word) {
            self = unit
        } else if let unit = TimeUnit.allCases.first(where: { $0.singular == word }) {
            self = unit
        } else {
            return nil
        }
    }
}

/// A signed amount of a unit: `-20 days`, `3 workdays`. Also used for durations
/// (`within: 2 days`, `every: 1 workday`), which are never negative.
public struct TimeOffset: Hashable, Sendable, Codable, CustomStringConvertible {
    public var amount: Int
    public var unit: TimeUnit
    /// `settings.<name> days`: the amount is the deployment's setting (HuayingConfig.settings),
    /// read when the expression is evaluated; `amount` is then 0 and `negative` its sign.
    public var setting: String? = nil
    public var negative = false

    public init(amount: Int, unit: TimeUnit) {
        self.amount = amount
        self.unit = unit
    }

    /// `20 days`, `1 workday`, `-3 hours`, `settings.candidate_list_lead_days days`.
    public var description: String {
        if let setting { return "\(negative ? "-" : "")settings.\(setting) \(unit.rawValue)" }
        return "\(amount) \(abs(amount) == 1 ? unit.singular : unit.rawValue)"
    }

    /// Parses a duration such as `2 days`, `1 workday`, `-5 workdays` (negative only when
    /// `allowNegative`).
    /// - Throws: `TimeExpressionError` saying what was expected.
    public static func parse(_ text: String, allowNegative: Bool = false) throws(TimeExpressionError) -> TimeOffset {
        var parser = TimeExpressionParser(text)
        return try parser.parseDuration(allowNegative: allowNegative)
    }
}

/// Moves a computed date onto a workday.
public enum DateAdjustment: String, Hashable, Sendable, Codable, CaseIterable {
    /// A day off moves forward to the next workday.
    case nextWorkday = "next-workday"
    /// A day off moves back to the previous workday (for "no later than" dates counted backwards).
    case previousWorkday = "previous-workday"
    /// 民法典 art. 203: when the last day of a forward period is a statutory day off (法定休假日:
    /// a weekend day or holiday that is not a make-up workday) the period ends on the first
    /// workday after it; and the deadline runs to the end of that day (23:59) unless `at`
    /// gives a time.
    case civilDeadline = "civil-deadline"
}

/// A time expression that does not parse: where, and what was expected.
public struct TimeExpressionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Offset in Unicode scalars from the start of the text.
    public var offset: Int
    public var message: String

    public init(offset: Int, _ message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { message }
}
