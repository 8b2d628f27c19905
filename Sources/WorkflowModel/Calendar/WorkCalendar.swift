/// A working-day calendar: which days are weekends, and per covered year the official
/// holidays and the make-up workdays (调休上班).
///
/// A year the calendar does not cover fails closed: when the calendar names a statutory rule
/// (`statutory_days_off:`), that year's days off are the ones 全国年节及纪念日放假办法 fixes
/// (`StatutoryHolidayRule`), otherwise weekends only; either way every date of that year is
/// *provisional* (the make-up workdays are unknown until the State Council's notice), and
/// callers show that (`isProvisional(_:)`, `yearsLacking(from:to:)`).
public struct WorkCalendar: Sendable, Equatable {
    /// One official holiday period, e.g. 国庆节 2026-10-01 … 2026-10-07.
    public struct Holiday: Sendable, Equatable, Codable {
        public var name: String
        public var daysOff: [CivilDate]
        public var makeUpWorkdays: [CivilDate]

        public init(name: String, daysOff: [CivilDate], makeUpWorkdays: [CivilDate]) {
            self.name = name
            self.daysOff = daysOff
            self.makeUpWorkdays = makeUpWorkdays
        }
    }

    /// The data for one year and the notice it comes from.
    public struct Year: Sendable, Equatable, Codable {
        public var year: Int
        public var source: String
        public var holidays: [Holiday]

        public init(year: Int, source: String, holidays: [Holiday]) {
            self.year = year
            self.source = source
            self.holidays = holidays
        }
    }

    /// The calendar's id, as named by `calendar:` in a workflow file.
    public var id: String
    public var title: String
    public var weekend: Set<Weekday>
    public private(set) var years: [Int: Year]
    /// The rule that gives the days off of years not in `years` (nil: weekends only).
    public private(set) var statutoryRule: StatutoryHolidayRule?
    private var daysOff: [CivilDate: String] = [:]
    private var makeUpWorkdays: [CivilDate: String] = [:]
    /// Days off computed by `statutoryRule`, used only for years not in `years`.
    private var statutoryDaysOff: [CivilDate: String] = [:]

    public init(id: String, title: String, weekend: Set<Weekday> = [.saturday, .sunday], years: [Year],
                statutoryRule: StatutoryHolidayRule? = nil) {
        self.id = id
        self.title = title
        self.weekend = weekend
        self.years = [:]
        self.statutoryRule = statutoryRule
        if let statutoryRule {
            for year in statutoryRule.years {
                for holiday in statutoryRule.holidays(year: year) ?? [] {
                    for day in holiday.daysOff { statutoryDaysOff[day] = holiday.name }
                }
            }
        }
        for year in years {
            self.years[year.year] = year
            for holiday in year.holidays {
                for day in holiday.daysOff { daysOff[day] = holiday.name }
                for day in holiday.makeUpWorkdays { makeUpWorkdays[day] = holiday.name }
            }
        }
    }

    /// Whether the file lists the official schedule of `year`.
    public func covers(year: Int) -> Bool { years[year] != nil }

    /// The covered years, ascending.
    public var coveredYears: [Int] { years.keys.sorted() }

    /// What kind of day `date` is, and why. In a year the file does not cover, a statutory day
    /// off of `statutoryRule` is a `.holiday` (and the answer is provisional).
    public func kind(of date: CivilDate) -> DayKind {
        if let name = makeUpWorkdays[date] { return .makeUpWorkday(holiday: name) }
        if let name = daysOff[date] { return .holiday(name: name) }
        if !covers(year: date.year), let name = statutoryDaysOff[date] { return .holiday(name: name) }
        if weekend.contains(date.weekday) { return .weekend }
        return .workday
    }

    /// The answer for one day, with the provisional flag.
    public func info(for date: CivilDate) -> DayInfo {
        DayInfo(date: date, kind: kind(of: date), provisional: isProvisional(date))
    }

    /// Whether the answer for `date` is provisional: its year has no official schedule in the
    /// file, so make-up workdays (and any bridge days) are unknown.
    public func isProvisional(_ date: CivilDate) -> Bool { !covers(year: date.year) }

    /// The years from `from` to `to` (inclusive, either order) that the file does not cover,
    /// ascending: what a daemon warns about once per year, and re-derives when the file gains one.
    public func yearsLacking(from: CivilDate, to: CivilDate) -> [Int] {
        (min(from.year, to.year)...max(from.year, to.year)).filter { !covers(year: $0) }
    }

    /// The holidays of `year`: the file's, or for a year it does not cover the statutory ones
    /// (provisional, no make-up workdays), or none.
    public func holidays(ofYear year: Int) -> [Holiday] {
        if let listed = years[year] { return listed.holidays }
        return statutoryRule?.holidays(year: year) ?? []
    }

    /// How the days of an uncovered year are counted, for warnings:
    /// "the statutory days off of 全国年节及纪念日放假办法（2024年修订） without make-up workdays",
    /// or "weekends only" when the year is outside the rule (or there is none).
    public func provisionalBasis(year: Int) -> String {
        if let statutoryRule, statutoryRule.years.contains(year) {
            return "the statutory days off of \(statutoryRule.title) without make-up workdays"
        }
        return "weekends only"
    }

    public func isWorkday(_ date: CivilDate) -> Bool { kind(of: date).isWorkday }

    /// The `count`-th workday after `date` (`date` itself is not counted); a negative count
    /// goes backwards; zero returns `date` unchanged.
    ///
    /// For a workday `d`, `adding(workdays: -n, to: adding(workdays: n, to: d)) == d`.
    public func adding(workdays count: Int, to date: CivilDate) -> CivilDate {
        var day = date
        var left = abs(count)
        let step = count < 0 ? -1 : 1
        while left > 0 {
            day = day.adding(days: step)
            if isWorkday(day) { left -= 1 }
        }
        return day
    }

    /// `date` when it is a workday, else the first workday after it.
    public func workday(onOrAfter date: CivilDate) -> CivilDate {
        var day = date
        while !isWorkday(day) { day = day.adding(days: 1) }
        return day
    }

    /// `date` when it is a workday, else the last workday before it.
    public func workday(onOrBefore date: CivilDate) -> CivilDate {
        var day = date
        while !isWorkday(day) { day = day.adding(days: -1) }
        return day
    }

    /// Whether any day from `from` to `to` (inclusive, either order) lies in an uncovered year.
    public func isProvisional(from: CivilDate, to: CivilDate) -> Bool {
        let years = min(from.year, to.year)...max(from.year, to.year)
        return years.contains { !covers(year: $0) }
    }

    /// Every day of a year with its kind.
    public func days(ofYear year: Int) -> [DayInfo] {
        CivilDate.days(ofYear: year).map(info(for:))
    }

    public static func == (lhs: WorkCalendar, rhs: WorkCalendar) -> Bool {
        lhs.id == rhs.id && lhs.title == rhs.title && lhs.weekend == rhs.weekend && lhs.years == rhs.years
            && lhs.statutoryRule == rhs.statutoryRule
    }
}

/// Why a day is or is not a workday.
public enum DayKind: Sendable, Equatable, Hashable {
    /// An ordinary weekday.
    case workday
    /// A weekend day that is a workday because of 调休 for a holiday.
    case makeUpWorkday(holiday: String)
    /// An ordinary weekend day.
    case weekend
    /// A day off of an official holiday (including the weekend days inside it).
    case holiday(name: String)

    public var isWorkday: Bool {
        switch self {
        case .workday, .makeUpWorkday: true
        case .weekend, .holiday: false
        }
    }

    /// "workday", "make-up workday", "weekend", "holiday": a stable word for JSON.
    public var code: String {
        switch self {
        case .workday: "workday"
        case .makeUpWorkday: "make-up-workday"
        case .weekend: "weekend"
        case .holiday: "holiday"
        }
    }

    /// The holiday's name for holidays and make-up workdays.
    public var holidayName: String? {
        switch self {
        case let .makeUpWorkday(name), let .holiday(name): name
        case .workday, .weekend: nil
        }
    }

    /// A short explanation for people: "国庆节 holiday", "make-up workday for 国庆节 (调休上班)".
    public var explanation: String {
        switch self {
        case .workday: "an ordinary workday"
        case let .makeUpWorkday(name): "a make-up workday for \(name) (调休上班)"
        case .weekend: "a weekend day"
        case let .holiday(name): "a day off for \(name) (法定节假日)"
        }
    }
}

/// One day's answer from a calendar.
public struct DayInfo: Sendable, Equatable {
    public var date: CivilDate
    public var kind: DayKind
    /// The calendar does not cover this year: only weekends and statutory days off were taken
    /// into account (make-up workdays are unknown).
    public var provisional: Bool
}
