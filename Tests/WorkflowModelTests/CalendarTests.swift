import Foundation
import Testing
@testable import WorkflowModel

/// The official schedules, written here independently of etc/calendars/cn-mainland.yaml
/// (国办发明电〔2024〕12号 for 2025; the notice of 2025-11-04 for 2026; procedures.md §8).
enum OfficialTables {
    /// Every day off of each holiday, listed out (weekend days inside a break included).
    static let daysOff: [Int: [(String, [String])]] = [
        2025: [
            ("元旦", ["2025-01-01"]),
            ("春节", ["2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02", "2025-02-03", "2025-02-04"]),
            ("清明节", ["2025-04-04", "2025-04-05", "2025-04-06"]),
            ("劳动节", ["2025-05-01", "2025-05-02", "2025-05-03", "2025-05-04", "2025-05-05"]),
            ("端午节", ["2025-05-31", "2025-06-01", "2025-06-02"]),
            ("国庆节、中秋节", ["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04", "2025-10-05", "2025-10-06", "2025-10-07", "2025-10-08"]),
        ],
        2026: [
            ("元旦", ["2026-01-01", "2026-01-02", "2026-01-03"]),
            ("春节", ["2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23"]),
            ("清明节", ["2026-04-04", "2026-04-05", "2026-04-06"]),
            ("劳动节", ["2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"]),
            ("端午节", ["2026-06-19", "2026-06-20", "2026-06-21"]),
            ("中秋节", ["2026-09-25", "2026-09-26", "2026-09-27"]),
            ("国庆节", ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"]),
        ],
    ]

    /// Weekend days that are working days (调休上班).
    static let makeUpWorkdays: [Int: [(String, String)]] = [
        2025: [("2025-01-26", "春节"), ("2025-02-08", "春节"), ("2025-04-27", "劳动节"), ("2025-09-28", "国庆节、中秋节"), ("2025-10-11", "国庆节、中秋节")],
        2026: [("2026-01-04", "元旦"), ("2026-02-14", "春节"), ("2026-02-28", "春节"), ("2026-05-09", "劳动节"), ("2026-09-20", "国庆节"), ("2026-10-10", "国庆节")],
    ]

    static func expectedKind(_ day: CivilDate) -> DayKind {
        if let (_, name) = makeUpWorkdays[day.year]?.first(where: { $0.0 == day.description }) {
            return .makeUpWorkday(holiday: name)
        }
        if let (name, _) = daysOff[day.year]?.first(where: { $0.1.contains(day.description) }) {
            return .holiday(name: name)
        }
        return day.weekday == .saturday || day.weekday == .sunday ? .weekend : .workday
    }
}

@Suite struct CalendarTests {
    @Test(arguments: [2025, 2026])
    func everyDayMatchesTheOfficialTable(year: Int) throws {
        let calendar = try Shipped.calendar()
        #expect(calendar.covers(year: year))
        let days = CivilDate.days(ofYear: year)
        #expect(days.count == 365)
        for day in days {
            let info = calendar.info(for: day)
            #expect(info.kind == OfficialTables.expectedKind(day), "\(day)")
            #expect(!info.provisional)
        }
    }

    @Test func workdayCountsOfTheCoveredYears() throws {
        let calendar = try Shipped.calendar()
        // Both years: 261 weekdays; 2025 − 18 weekday days off + 5 make-up days, 2026 − 19 + 6.
        for year in [2025, 2026] {
            let expected = CivilDate.days(ofYear: year).filter { OfficialTables.expectedKind($0).isWorkday }.count
            #expect(calendar.days(ofYear: year).filter { $0.kind.isWorkday }.count == expected)
        }
        #expect(calendar.days(ofYear: 2025).filter { $0.kind.isWorkday }.count == 248)
        #expect(calendar.days(ofYear: 2026).filter { $0.kind.isWorkday }.count == 248)
    }

    @Test func fiveWorkdaysAfterTheEveOfNationalDay2026() throws {
        let calendar = try Shipped.calendar()
        #expect(calendar.adding(workdays: 5, to: date("2026-09-30")) == date("2026-10-13"))
        #expect(calendar.adding(workdays: -5, to: date("2026-10-13")) == date("2026-09-30"))
        #expect(calendar.adding(workdays: 0, to: date("2026-10-05")) == date("2026-10-05"))
    }

    @Test func makeUpSaturdayIsAWorkdayAndNationalDayIsNot() throws {
        let calendar = try Shipped.calendar()
        #expect(calendar.kind(of: date("2026-10-10")) == .makeUpWorkday(holiday: "国庆节"))
        #expect(calendar.isWorkday(date("2026-10-10")))
        #expect(calendar.kind(of: date("2026-10-05")) == .holiday(name: "国庆节"))
        #expect(!calendar.isWorkday(date("2026-10-05")))
        #expect(calendar.kind(of: date("2026-10-17")) == .weekend)
    }

    @Test func uncoveredYearsFailClosedWithTheStatutoryDaysOff() throws {
        let calendar = try Shipped.calendar()
        // 2027 has no notice yet: 元旦 is still a day off (it used to be an ordinary workday).
        let info = calendar.info(for: date("2027-01-01"))
        #expect(info.kind == .holiday(name: "元旦"))
        #expect(info.provisional)
        #expect(calendar.info(for: date("2027-01-04")).kind == .workday)
        #expect(calendar.info(for: date("2027-01-04")).provisional)
        #expect(calendar.info(for: date("2027-01-02")).kind == .weekend)
        #expect(calendar.isProvisional(from: date("2026-12-30"), to: date("2027-01-04")))
        #expect(!calendar.isProvisional(from: date("2026-01-01"), to: date("2026-12-31")))
        #expect(calendar.yearsLacking(from: date("2026-12-30"), to: date("2028-01-04")) == [2027, 2028])
        #expect(calendar.yearsLacking(from: date("2026-12-31"), to: date("2026-01-01")).isEmpty)
        // The covered years are untouched by the rule: 2026-02-16 (除夕) comes from the notice.
        #expect(calendar.kind(of: date("2026-02-16")) == .holiday(name: "春节"))
    }

    @Test func workdayAdjustmentsFindTheNearestWorkday() throws {
        let calendar = try Shipped.calendar()
        #expect(calendar.workday(onOrAfter: date("2026-10-04")) == date("2026-10-08"))
        #expect(calendar.workday(onOrBefore: date("2026-10-04")) == date("2026-09-30"))
        #expect(calendar.workday(onOrAfter: date("2026-10-10")) == date("2026-10-10"))
    }

    @Test func propertyAddingThenSubtractingWorkdaysReturnsTheWorkday() throws {
        let calendar = try Shipped.calendar()
        var random = SplitMix64(seed: 0x4855_4159_494E_4701)
        let first = date("2024-10-01").dayNumber, last = date("2027-03-31").dayNumber
        var checked = 0
        while checked < 3000 {
            let day = CivilDate(dayNumber: Int.random(in: first...last, using: &random))
            guard calendar.isWorkday(day) else { continue }
            let n = Int.random(in: -40...40, using: &random)
            let moved = calendar.adding(workdays: n, to: day)
            #expect(calendar.adding(workdays: -n, to: moved) == day, "\(day) \(n)")
            checked += 1
        }
    }

    @Test func propertyTheResultOfAddingWorkdaysIsAWorkday() throws {
        let calendar = try Shipped.calendar()
        var random = SplitMix64(seed: 20_261_001)
        let first = date("2024-12-01").dayNumber, last = date("2027-01-31").dayNumber
        for _ in 0..<3000 {
            let day = CivilDate(dayNumber: Int.random(in: first...last, using: &random))
            var n = Int.random(in: -30...30, using: &random)
            if n == 0 { n = 1 }
            let result = calendar.adding(workdays: n, to: day)
            #expect(calendar.isWorkday(result), "\(day) + \(n)")
            // Exactly |n| workdays lie strictly between (and including the result).
            let range = n > 0 ? (day.dayNumber + 1)...result.dayNumber : result.dayNumber...(day.dayNumber - 1)
            #expect(range.filter { calendar.isWorkday(CivilDate(dayNumber: $0)) }.count == abs(n))
        }
    }

    @Test func propertyCivilDateMatchesFoundationsGregorianCalendar() {
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = TimeZone(identifier: "UTC")!
        var random = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let number = Int.random(in: -100_000...200_000, using: &random)  // 1696–2517: Foundation is Julian before 1582
            let day = CivilDate(dayNumber: number)
            let components = gregorian.dateComponents([.year, .month, .day, .weekday], from: Date(timeIntervalSince1970: Double(number) * 86_400))
            #expect([day.year, day.month, day.day] == [components.year, components.month, components.day])
            #expect(day.weekday.isoNumber == (components.weekday! + 5) % 7 + 1)
            #expect(CivilDate(day.description) == day)
            #expect(day.dayNumber == number)
        }
    }

    @Test func monthArithmeticClampsToTheMonthEnd() {
        #expect(date("2026-01-31").adding(months: 1) == date("2026-02-28"))
        #expect(date("2028-01-31").adding(months: 1) == date("2028-02-29"))
        #expect(date("2026-03-15").adding(months: -3) == date("2025-12-15"))
        #expect(CivilDate("2026-02-30") == nil)
    }
}
