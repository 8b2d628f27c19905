import Foundation

/// What a time expression is evaluated against: one instance's parameters, start and step
/// completions, the workflow's calendar and default time, and the configured zone.
public struct TimeEnvironment: Sendable {
    public var calendar: WorkCalendar
    public var timeZone: TimeZone
    /// The time of day for date-only values (`default_time`).
    public var defaultTime: TimeOfDay
    /// When the instance started (`start`).
    public var start: Date?
    /// Values of `date` parameters.
    public var dates: [String: CivilDate]
    /// Values of `datetime` parameters.
    public var dateTimes: [String: LocalDateTime]
    /// When steps completed (`steps.<id>.done`).
    public var completions: [String: Date]
    /// Dates given with acknowledgements (`steps.<id>.fields.<name>`), keyed "id.name".
    public var fieldDates: [String: CivilDate] = [:]
    /// The deployment's settings (`settings.<name>` amounts, HuayingConfig.settings).
    public var settings: [String: Int] = [:]

    public init(calendar: WorkCalendar, timeZone: TimeZone, defaultTime: TimeOfDay, start: Date? = nil,
                dates: [String: CivilDate] = [:], dateTimes: [String: LocalDateTime] = [:], completions: [String: Date] = [:]) {
        self.calendar = calendar
        self.timeZone = timeZone
        self.defaultTime = defaultTime
        self.start = start
        self.dates = dates
        self.dateTimes = dateTimes
        self.completions = completions
    }
}

/// The value of a time expression in one environment.
public struct EvaluatedTime: Sendable, Equatable {
    public var instant: Date
    /// The same instant as a local date and time in the environment's zone.
    public var local: LocalDateTime
    /// The calendar does not cover a year the computation depended on (its statutory days off, or weekends only, were used; make-up workdays are unknown).
    public var provisional: Bool
    /// What kind of day the result falls on (a day off is worth showing).
    public var dayKind: DayKind
    /// Set when an adjustment moved the date: the date before the move.
    public var movedFrom: CivilDate?

    public var date: CivilDate { local.date }
    public var isDayOff: Bool { !dayKind.isWorkday }
}

/// Why a time expression has no value (yet) in an environment.
public enum TimeEvaluationError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingParameter(String)
    case stepNotDone(String)
    case noStart
    /// The offsets leave the calendar's years 1–9999 (`lint` refuses offsets over 100 years).
    case outOfRange(String)
    /// A `settings.<name>` amount the configuration does not give.
    case missingSetting(String)

    public var description: String {
        switch self {
        case let .outOfRange(expression): "'\(expression)' falls outside the years 1–9999"
        case let .missingParameter(name): "parameter '\(name)' has no date value"
        case let .stepNotDone(id): "step '\(id)' has not completed yet"
        case .noStart: "the instance has no start time"
        case let .missingSetting(name): "the deployment setting '\(name)' is not set in huaying.yaml (\(HuayingConfig.settingHelp(name)))"
        }
    }
}

extension TimeExpression {
    /// Evaluates the formula.
    /// - Throws: `TimeEvaluationError` when a value it reads is not known.
    public func evaluate(in environment: TimeEnvironment) throws(TimeEvaluationError) -> EvaluatedTime {
        let zone = environment.timeZone
        let calendar = environment.calendar
        var local: LocalDateTime
        switch base {
        case let .date(date):
            local = LocalDateTime(date: date, time: environment.defaultTime)
        case let .dateTime(dateTime):
            local = dateTime.inZone(zone)
        case .start:
            guard let start = environment.start else { throw .noStart }
            local = LocalDateTime(start, in: zone)
        case let .param(name):
            if let date = environment.dates[name] {
                local = LocalDateTime(date: date, time: environment.defaultTime)
            } else if let dateTime = environment.dateTimes[name] {
                local = dateTime.inZone(zone)
            } else {
                throw .missingParameter(name)
            }
        case let .stepDone(id):
            guard let done = environment.completions[id] else { throw .stepNotDone(id) }
            local = LocalDateTime(done, in: zone)
        case let .stepFieldDate(id, field):
            guard let done = environment.completions[id] else { throw .stepNotDone(id) }
            let date = environment.fieldDates["\(id).\(field)"] ?? LocalDateTime(done, in: zone).date
            local = LocalDateTime(date: date, time: environment.defaultTime)
        }
        var provisional = false
        for var offset in offsets {
            if let setting = offset.setting {
                guard let amount = environment.settings[setting] else { throw .missingSetting(setting) }
                offset.amount = offset.amount < 0 || offset.negative ? -amount : amount
            }
            switch offset.unit {
            case .seconds, .minutes, .hours:
                let seconds = Double(offset.amount * offset.unit.seconds!)
                local = LocalDateTime(local.instant(in: zone).addingTimeInterval(seconds), in: zone)
            case .days:
                local.date = local.date.adding(days: offset.amount)
            case .weeks:
                local.date = local.date.adding(days: 7 * offset.amount)
            case .months:
                let year = (local.date.year * 12 + local.date.month - 1 + offset.amount) / 12
                guard (1...9999).contains(year) else { throw .outOfRange(description) }
                local.date = local.date.adding(months: offset.amount)
            case .workdays:
                let before = local.date
                local.date = calendar.adding(workdays: offset.amount, to: before)
                provisional = provisional || calendar.isProvisional(from: before, to: local.date)
            }
            guard (1...9999).contains(local.date.year) else { throw .outOfRange(description) }
        }
        if let timeOfDay { local = LocalDateTime(date: local.date, time: timeOfDay) }
        var movedFrom: CivilDate?
        if let adjustment {
            let before = local.date
            switch adjustment {
            case .nextWorkday:
                local.date = calendar.workday(onOrAfter: before)
            case .previousWorkday:
                local.date = calendar.workday(onOrBefore: before)
            case .civilDeadline:
                local.date = calendar.workday(onOrAfter: before)
                if timeOfDay == nil { local = LocalDateTime(date: local.date, time: .endOfDay) }
            }
            if local.date != before { movedFrom = before }
            provisional = provisional || calendar.isProvisional(from: before, to: local.date)
        }
        provisional = provisional || !calendar.covers(year: local.date.year)
        // A wall time that a daylight-saving change skips is shown as the instant it became.
        let instant = local.instant(in: zone)
        local = LocalDateTime(instant, in: zone)
        return EvaluatedTime(
            instant: instant,
            local: local,
            provisional: provisional,
            dayKind: calendar.kind(of: local.date),
            movedFrom: movedFrom
        )
    }
}

extension TimeOffset {
    /// Adds this offset (a duration) to an instant; workdays keep the time of day.
    public func added(to instant: Date, calendar: WorkCalendar, timeZone: TimeZone) -> Date {
        var local = LocalDateTime(instant, in: timeZone)
        switch unit {
        case .seconds, .minutes, .hours: return instant.addingTimeInterval(Double(amount * unit.seconds!))
        case .days: local.date = local.date.adding(days: amount)
        case .weeks: local.date = local.date.adding(days: 7 * amount)
        case .months: local.date = local.date.adding(months: amount)
        case .workdays: local.date = calendar.adding(workdays: amount, to: local.date)
        }
        return local.instant(in: timeZone)
    }

    /// Adds this offset to a date (seconds, minutes and hours count whole days only, from midnight).
    public func added(to date: CivilDate, calendar: WorkCalendar) -> CivilDate {
        switch unit {
        case .seconds: date.adding(days: Int((Double(amount) / 86_400).rounded(.down)))
        case .minutes: date.adding(days: Int((Double(amount) / 1440).rounded(.down)))
        case .hours: date.adding(days: Int((Double(amount) / 24).rounded(.down)))
        case .days: date.adding(days: amount)
        case .weeks: date.adding(days: 7 * amount)
        case .months: date.adding(months: amount)
        case .workdays: calendar.adding(workdays: amount, to: date)
        }
    }
}

extension TimeUnit {
    /// The length in seconds of the units that are fixed durations; nil for calendar units.
    public var seconds: Int? {
        switch self {
        case .seconds: 1
        case .minutes: 60
        case .hours: 3600
        case .days, .weeks, .months, .workdays: nil
        }
    }
}

extension LocalDateTime {
    /// The same instant as a wall time in `zone` (itself when it carries no UTC offset).
    func inZone(_ zone: TimeZone) -> LocalDateTime {
        utcOffset == nil ? self : LocalDateTime(instant(in: zone), in: zone)
    }
}
