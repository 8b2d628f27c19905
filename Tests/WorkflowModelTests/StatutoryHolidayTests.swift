import Foundation
import Testing
@testable import WorkflowModel

/// The days off of 全国年节及纪念日放假办法 (2024 amendment) for years without a notice.
@Suite struct StatutoryHolidayTests {
    /// 春节 (正月初一) of known years, from published almanacs; 2024 lies before the table.
    @Test(arguments: [("2025", "2025-01-29"), ("2026", "2026-02-17"), ("2027", "2027-02-06"), ("2028", "2028-01-26"), ("2030", "2030-02-03")])
    func springFestivalOfKnownYears(year: String, expected: String) throws {
        let festivals = try #require(LunarTable.festivals(year: Int(year)!))
        #expect(festivals.springFestival == date(expected))
    }

    @Test func tableCoversTheRuleYearsOnly() {
        #expect(LunarTable.entries.count == LunarTable.years.count)
        #expect(LunarTable.festivals(year: 2024) == nil)   // 春节 2024-02-10 was under the old 办法
        #expect(LunarTable.festivals(year: 2100) == nil)
        #expect(StatutoryHolidayRule.cn2024.holidays(year: 2024) == nil)
    }

    /// The lunar festivals of 2025 and 2026 agree with the State Council notices (they contain
    /// the statutory day): 端午 2025-05-31, 2026-06-19; 中秋 2025-10-06, 2026-09-25.
    @Test func lunarFestivalsAgreeWithTheNotices() throws {
        #expect(LunarTable.festivals(year: 2025) == .init(springFestival: date("2025-01-29"), dragonBoat: date("2025-05-31"), midAutumn: date("2025-10-06")))
        #expect(LunarTable.festivals(year: 2026) == .init(springFestival: date("2026-02-17"), dragonBoat: date("2026-06-19"), midAutumn: date("2026-09-25")))
        #expect(LunarTable.festivals(year: 2027) == .init(springFestival: date("2027-02-06"), dragonBoat: date("2027-06-09"), midAutumn: date("2027-09-15")))
    }

    /// Every entry is a real date in the festival's possible range, in order.
    @Test func everyEntryIsPlausible() throws {
        for year in LunarTable.years {
            let f = try #require(LunarTable.festivals(year: year))
            #expect(f.springFestival >= date("\(year)-01-21") && f.springFestival <= date("\(year)-02-20"), "\(year)")
            #expect(f.dragonBoat >= date("\(year)-05-25") && f.dragonBoat <= date("\(year)-06-26"), "\(year)")
            #expect(f.midAutumn >= date("\(year)-09-07") && f.midAutumn <= date("\(year)-10-08"), "\(year)")
            // Lunar months have 29 or 30 days, and a leap month adds one: 初一→五月初五 is 4 months
            // and 4 days (120–124, or 149–154 with a leap month); 五月初五→八月十五 is 3 months and
            // 10 days (96–100, or 125–130).
            let first = f.dragonBoat.dayNumber - f.springFestival.dayNumber
            let second = f.midAutumn.dayNumber - f.dragonBoat.dayNumber
            #expect((120...124).contains(first) || (149...154).contains(first), "\(year): \(first)")
            #expect((96...100).contains(second) || (125...130).contains(second), "\(year): \(second)")
            #expect(!((149...154).contains(first) && (125...130).contains(second)), "\(year): two leap months")
        }
    }

    /// 清明 is 04-04 or 04-05 in this century; the notices of 2025 and 2026 start on it.
    @Test func qingmingIsTheSolarTerm() throws {
        #expect(LunarTable.qingming(year: 2025) == date("2025-04-04"))
        #expect(LunarTable.qingming(year: 2026) == date("2026-04-05"))
        #expect(LunarTable.qingming(year: 2027) == date("2027-04-05"))
        #expect(LunarTable.qingming(year: 2028) == date("2028-04-04"))
        for year in LunarTable.years {
            let day = try #require(LunarTable.qingming(year: year))
            #expect(day.month == 4 && (4...5).contains(day.day), "\(year)")
        }
    }

    /// The statutory days off of 2027: 元旦 01-01; 春节 除夕 02-05 to 初三 02-08; 清明 04-05;
    /// 劳动节 05-01, 05-02; 端午 06-09; 中秋 09-15; 国庆 10-01..10-03 — 13 days.
    @Test func daysOffOf2027() throws {
        let holidays = try #require(StatutoryHolidayRule.cn2024.holidays(year: 2027))
        let days = Dictionary(uniqueKeysWithValues: holidays.map { ($0.name, $0.daysOff.map(\.description)) })
        #expect(days == [
            "元旦": ["2027-01-01"],
            "春节": ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"],
            "清明节": ["2027-04-05"],
            "劳动节": ["2027-05-01", "2027-05-02"],
            "端午节": ["2027-06-09"],
            "中秋节": ["2027-09-15"],
            "国庆节": ["2027-10-01", "2027-10-02", "2027-10-03"],
        ])
        #expect(holidays.allSatisfy { $0.makeUpWorkdays.isEmpty })
    }

    /// The rule's days off are a subset of each notice's: checked on 2025 and 2026, whose
    /// notices are in the shipped calendar.
    @Test(arguments: [2025, 2026])
    func statutoryDaysOffAreDaysOffInTheNotice(year: Int) throws {
        let calendar = try Shipped.calendar()
        for holiday in try #require(StatutoryHolidayRule.cn2024.holidays(year: year)) {
            for day in holiday.daysOff {
                #expect(!calendar.isWorkday(day), "\(day) (\(holiday.name)) is a day off by statute")
            }
        }
        // 13 statutory days, every one a day off in the notice.
        #expect(StatutoryHolidayRule.cn2024.holidays(year: year)!.flatMap(\.daysOff).count == 13)
    }

    /// 中秋 on 10-03 (2028): one holiday "国庆节、中秋节", still 3 days (the notice decides more).
    @Test func midAutumnInsideNationalDayMerges() throws {
        let holidays = try #require(StatutoryHolidayRule.cn2024.holidays(year: 2028))
        #expect(holidays.map(\.name).contains("国庆节、中秋节"))
        #expect(!holidays.map(\.name).contains("中秋节"))
        #expect(holidays.flatMap(\.daysOff).count == 12)
    }

    /// Every date of an uncovered year is provisional; counting across 2027's 春节 skips it.
    @Test func workdayArithmeticIn2027SkipsTheStatutoryDays() throws {
        let calendar = try Shipped.calendar()
        // 2027-02-04 (Thu) + 1 workday: 02-05 (除夕, Fri) and 02-08 (初三, Mon) are off → 02-09.
        #expect(calendar.adding(workdays: 1, to: date("2027-02-04")) == date("2027-02-09"))
        #expect(calendar.workday(onOrAfter: date("2027-10-01")) == date("2027-10-04"))
        #expect(calendar.days(ofYear: 2027).allSatisfy { $0.provisional })
        #expect(calendar.provisionalBasis(year: 2027).contains("全国年节及纪念日放假办法"))
        #expect(calendar.provisionalBasis(year: 2100) == "weekends only")
    }

    /// A calendar without `statutory_days_off` keeps weekends only for uncovered years.
    @Test func aCalendarWithoutTheRuleCountsWeekendsOnly() throws {
        let calendar = WorkCalendar(id: "plain", title: "plain", years: [])
        #expect(calendar.kind(of: date("2027-01-01")) == .workday)
        #expect(calendar.info(for: date("2027-01-01")).provisional)
    }

    @Test func anUnknownRuleIsAnError() throws {
        let file = try YAMLFile(path: "x.yaml", text: "calendar: x\ntitle: x\nstatutory_days_off: cn-1999\nyears: {}\n")
        let result = CalendarFile.check(file)
        #expect(result.calendar == nil)
        #expect(result.diagnostics.map(\.description).contains { $0.contains("x.yaml:3:21: error: unknown statutory rule 'cn-1999'") })
    }
}
