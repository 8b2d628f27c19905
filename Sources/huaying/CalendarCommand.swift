import ArgumentParser
import ControlProtocol
import Foundation
import WorkflowModel

/// `huaying calendar add | is-workday | list`: date arithmetic on the working-day calendar.
struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: Message.abstractCalendar(),
        discussion: """
            The calendars come from the configured calendars folder (paths.calendars). Years \
            a calendar does not list are counted from the statutory days off of \
            全国年节及纪念日放假办法 (or weekends only, outside the rule's years) without make-up \
            workdays; answers about them say so on standard error ("provisional").
            """,
        subcommands: [Add.self, IsWorkday.self, List.self]
    )
}

/// Options shared by the calendar subcommands.
struct CalendarOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The calendar id (default: cn-mainland, or the only calendar).", valueName: "id"))
    var calendar: String?

    @Flag(name: .long, help: "Print the answer as JSON.")
    var json = false

    /// Loads the chosen calendar, printing problems and exiting 2 when it cannot be used.
    func load(_ globals: GlobalOptions) throws -> WorkCalendar {
        let config = try globals.loadConfig()
        let (library, diagnostics) = CalendarLibrary.load(directory: config.calendarsDirectory)
        for diagnostic in diagnostics where diagnostic.severity == .error { printError(OfflineOutput.text(of: diagnostic)) }
        let id = calendar ?? (library.ids.count == 1 ? library.ids[0] : "cn-mainland")
        guard let found = library[id] else {
            let known = library.ids.isEmpty ? "none could be loaded" : library.ids.joined(separator: ", ")
            printError("error: unknown calendar '\(id)' in \(OfflineOutput.shortPath(config.calendarsDirectory)); expected one of: \(known)")
            throw ExitCode(ExitStatus.usage)
        }
        return found
    }

    static func parseDate(_ text: String) throws -> CivilDate {
        guard let date = CivilDate(text) else {
            throw ValidationError("'\(text)' is not a date; expected YYYY-MM-DD such as 2026-09-30")
        }
        return date
    }

    static func warnIfProvisional(_ calendar: WorkCalendar, _ dates: CivilDate...) {
        let years = Set(dates.map(\.year)).filter { !calendar.covers(year: $0) }.sorted()
        guard !years.isEmpty else { return }
        let covered = calendar.coveredYears.map(String.init).joined(separator: ", ")
        for year in years {
            printError("warning: calendar '\(calendar.id)' does not cover \(year) (it covers \(covered)); the answer counts \(calendar.provisionalBasis(year: year)) and is provisional")
        }
    }
}

extension CalendarCommand {
    /// `huaying calendar add DATE "N workdays"`.
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: Message.abstractCalendarAdd(),
            discussion: """
                AMOUNT is a whole number and a unit: workdays, days, weeks or months, e.g. \
                "5 workdays" (the 5th workday after DATE, DATE itself not counted). A negative \
                amount counts back; write it after `--` so it is not taken for an option: \
                huaying calendar add -- 2026-10-13 "-5 workdays".
                """
        )

        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: CalendarOptions

        @Argument(help: ArgumentHelp("The date to start from.", valueName: "date"))
        var date: String

        @Argument(help: ArgumentHelp("The amount, e.g. \"5 workdays\" (may also be given as two words).", valueName: "amount"))
        var amount: [String]

        struct Output: Encodable {
            var from: String
            var amount: String
            var date: String
            var weekday: String
            var kind: String
            var provisional: Bool
        }

        func validate() throws {
            _ = try CalendarOptions.parseDate(date)
            _ = try parsedAmount()
        }

        func parsedAmount() throws -> TimeOffset {
            let text = amount.joined(separator: " ")
            do {
                return try TimeOffset.parse(text, allowNegative: true)
            } catch {
                throw ValidationError("cannot read amount '\(text)': \(error.message)")
            }
        }

        func run() throws {
            let calendar = try options.load(globals)
            let start = try CalendarOptions.parseDate(date)
            let offset = try parsedAmount()
            let result = offset.added(to: start, calendar: calendar)
            CalendarOptions.warnIfProvisional(calendar, start, result)
            if options.json {
                try printJSON(Output(
                    from: start.description, amount: offset.description, date: result.description,
                    weekday: result.weekday.rawValue, kind: calendar.kind(of: result).code,
                    provisional: calendar.isProvisional(from: start, to: result)
                ))
            } else {
                print(result.description)
            }
        }
    }

    /// `huaying calendar is-workday DATE`.
    struct IsWorkday: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "is-workday",
            abstract: Message.abstractCalendarIsWorkday(),
            discussion: """
                Exits 0 for a workday (including a make-up workday), 1 for a day off (weekend or \
                holiday), and 3 for any answer in a year the calendar does not cover \
                (provisional: the statutory days off are known, the make-up workdays are not).
                """
        )

        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: CalendarOptions

        @Argument(help: ArgumentHelp("The date to check.", valueName: "date"))
        var date: String

        struct Output: Encodable {
            var date: String
            var weekday: String
            var workday: Bool
            var kind: String
            @NullEncoded var holiday: String?
            var provisional: Bool
            var explanation: String
        }

        func validate() throws { _ = try CalendarOptions.parseDate(date) }

        func run() throws {
            let calendar = try options.load(globals)
            let day = try CalendarOptions.parseDate(date)
            let info = calendar.info(for: day)
            CalendarOptions.warnIfProvisional(calendar, day)
            if options.json {
                try printJSON(Output(
                    date: day.description, weekday: day.weekday.rawValue, workday: info.kind.isWorkday,
                    kind: info.kind.code, holiday: info.kind.holidayName, provisional: info.provisional,
                    explanation: info.kind.explanation
                ))
            } else {
                let verdict = info.kind.isWorkday ? Message.calendarIsWorkday : Message.calendarNotWorkday
                print(verdict(OfflineOutput.day(day), Catalogue.explanation(info.kind), info.provisional ? Message.calendarProvisional() : ""))
            }
            if info.provisional { throw ExitCode(ExitStatus.provisional) }
            if !info.kind.isWorkday { throw ExitCode(ExitStatus.failed) }
        }
    }

    /// `huaying calendar list YEAR`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: Message.abstractCalendarHolidays(),
            discussion: "For admins checking the calendar data against the State Council notice."
        )

        @OptionGroup var globals: GlobalOptions
        @OptionGroup var options: CalendarOptions

        @Argument(help: ArgumentHelp("The year.", valueName: "year"))
        var year: Int

        @Flag(name: .long, help: "List every day of the year with its kind.")
        var all = false

        struct Output: Encodable {
            struct Holiday: Encodable {
                var name: String
                var off: [String]
                var workdays: [String]
            }

            struct Day: Codable, Equatable, Sendable {
                var date: String
                var weekday: String
                var kind: String
                @NullEncoded var holiday: String?
            }

            var calendar: String
            var year: Int
            var covered: Bool
            @NullEncoded var source: String?
            var workdays: Int
            var daysOff: Int
            var holidays: [Holiday]
            /// Every day with `--all`, else null.
            @NullEncoded var days: [Day]?

            enum CodingKeys: String, CodingKey {
                case calendar, year, covered, source, workdays
                case daysOff = "days_off"
                case holidays, days
            }
        }

        func validate() throws {
            guard (1900...2999).contains(year) else { throw ValidationError("year \(year) is out of range; expected 1900–2999") }
        }

        func run() throws {
            let calendar = try options.load(globals)
            let days = calendar.days(ofYear: year)
            let data = calendar.years[year]
            let workdays = days.filter { $0.kind.isWorkday }.count
            if data == nil {
                printError("warning: calendar '\(calendar.id)' does not cover \(year) (it covers \(calendar.coveredYears.map(String.init).joined(separator: ", "))); the days off are \(calendar.provisionalBasis(year: year)), provisionally")
            }
            if options.json {
                try printJSON(Output(
                    calendar: calendar.id, year: year, covered: data != nil, source: data?.source,
                    workdays: workdays, daysOff: days.count - workdays,
                    holidays: calendar.holidays(ofYear: year).map { .init(name: $0.name, off: $0.daysOff.map(\.description), workdays: $0.makeUpWorkdays.map(\.description)) },
                    days: all ? days.map { .init(date: $0.date.description, weekday: $0.date.weekday.rawValue, kind: $0.kind.code, holiday: $0.kind.holidayName) } : nil
                ))
                return
            }
            print(Message.calendarTitle(calendar.id, year, calendar.title))
            print(Message.calendarSource(data?.source ?? Message.calendarSourceNone(calendar.provisionalBasis(year: year))))
            print(Message.calendarCounts(workdays, days.count - workdays))
            let holidays = calendar.holidays(ofYear: year)
            if !holidays.isEmpty {
                print("")
                var rows = [[Message.headerHoliday(), Message.headerDaysOff(), "",
                             data == nil ? Message.headerMakeUpUnknown() : Message.headerMakeUpWorkdays()]]
                for holiday in holidays {
                    let first = holiday.daysOff.first, last = holiday.daysOff.last
                    let range = first.map { first in first == last ? OfflineOutput.day(first) : "\(OfflineOutput.day(first)) – \(OfflineOutput.day(last!))" } ?? ""
                    rows.append([holiday.name, range,
                                 holiday.daysOff.count == 1 ? Message.calendarOneDay() : Message.calendarDays(holiday.daysOff.count),
                                 holiday.makeUpWorkdays.map(OfflineOutput.day).joined(separator: ", ")])
                }
                print(TextFormatting.table(rows))
            }
            if all {
                print("")
                var rows = [[Message.headerDate(), Message.headerKind(), Message.headerWhy()]]
                for day in days {
                    rows.append([OfflineOutput.day(day.date), day.kind.isWorkday ? Message.kindWorkday() : Message.kindDayOff(),
                                 Catalogue.explanation(day.kind)])
                }
                print(TextFormatting.table(rows))
            }
        }
    }
}
