import Foundation
import Testing
@testable import WorkflowModel

@Suite struct TimeExpressionTests {
    func environment(_ dates: [String: String] = [:]) throws -> TimeEnvironment {
        TimeEnvironment(
            calendar: try Shipped.calendar(), timeZone: shanghai, defaultTime: TimeOfDay("09:00")!,
            start: LocalDateTime("2026-11-01T10:30")!.instant(in: shanghai),
            dates: dates.mapValues { CivilDate($0)! }
        )
    }

    @Test func parsesEveryPart() throws {
        let expression = try TimeExpression.parse("election_day - 20 days at 18:00 previous-workday")
        #expect(expression == TimeExpression(
            base: .param("election_day"), offsets: [TimeOffset(amount: -20, unit: .days)],
            timeOfDay: TimeOfDay(hour: 18, minute: 0), adjustment: .previousWorkday))
        #expect(try TimeExpression.parse("start").base == .start)
        #expect(try TimeExpression.parse("steps.publish-voter-list.done + 5 days").base == .stepDone("publish-voter-list"))
        #expect(try TimeExpression.parse("2026-10-01T08:30").base == .dateTime(LocalDateTime("2026-10-01T08:30")!))
        #expect(try TimeExpression.parse("2026-09-24 + 1 month + 2 weeks - 3 hours + 1 workday").offsets.map(\.unit) == [.months, .weeks, .hours, .workdays])
    }

    @Test func canonicalTextIsNormalised() throws {
        #expect(try TimeExpression.parse("  new_committee_day   +  10 day   civil-deadline").description == "new_committee_day + 10 days civil-deadline")
        #expect(try TimeExpression.parse("start + 1 days").description == "start + 1 day")
    }

    @Test func errorsSayWhereAndWhatWasExpected() {
        func failure(_ text: String) -> TimeExpressionError? {
            do { _ = try TimeExpression.parse(text); return nil } catch { return error }
        }
        #expect(failure("election_day - 20 dayz")?.offset == 18)
        #expect(failure("election_day-20 days")?.message.contains("put spaces around") == true)
        #expect(failure("")?.message.hasPrefix("empty time expression") == true)
        #expect(failure("start at 9")?.offset == 9)
        #expect(failure("start next-workday at 09:00")?.offset == 19)
        #expect(failure("2026-02-30")?.offset == 0)
        #expect(failure("steps.a.finished")?.message.contains("steps.<step-id>.done") == true)
        #expect(failure("start + 5 workdays ！")?.offset == 19)
    }

    @Test func propertyCanonicalTextReparsesToTheSameFormula() throws {
        var random = SplitMix64(seed: 42)
        let bases: [TimeExpression.Base] = [.start, .param("election_day"), .stepDone("handover"), .date(date("2026-09-24")), .dateTime(LocalDateTime("2027-01-02T07:05")!)]
        for _ in 0..<2000 {
            let base = bases.randomElement(using: &random)!
            var expression = TimeExpression(base: base)
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                expression.offsets.append(TimeOffset(amount: Int.random(in: -400...400, using: &random), unit: TimeUnit.allCases.randomElement(using: &random)!))
            }
            if case .dateTime = base {} else if Bool.random(using: &random) {
                expression.timeOfDay = TimeOfDay(hour: Int.random(in: 0...23, using: &random), minute: Int.random(in: 0...59, using: &random))
            }
            if Bool.random(using: &random) { expression.adjustment = DateAdjustment.allCases.randomElement(using: &random) }
            let reparsed = try TimeExpression.parse(expression.description)
            // "- 0 days" and "+ 0 days" are the same formula.
            #expect(reparsed.description == expression.description)
            #expect(reparsed.offsets.map { abs($0.amount) } == expression.offsets.map { abs($0.amount) })
            #expect(reparsed.base == expression.base && reparsed.timeOfDay == expression.timeOfDay && reparsed.adjustment == expression.adjustment)
            let json = try JSONEncoder().encode(reparsed)
            #expect(try JSONDecoder().decode(TimeExpression.self, from: json) == reparsed)
        }
    }

    @Test func voterListDeadlineIsTwentyDaysBeforeTheElection() throws {
        let value = try TimeExpression.parse("election_day - 20 days at 18:00 previous-workday").evaluate(in: try environment(["election_day": "2026-12-20"]))
        #expect(value.local == LocalDateTime("2026-11-30T18:00"))
        #expect(value.movedFrom == nil && !value.provisional && !value.isDayOff)
    }

    @Test func civilDeadlineMovesPastNationalDay() throws {
        let env = try environment(["n": "2026-09-24"])
        let value = try TimeExpression.parse("n + 10 days civil-deadline").evaluate(in: env)
        #expect(value.local == LocalDateTime("2026-10-08T23:59"))
        #expect(value.movedFrom == date("2026-10-04"))
        // With an explicit time the time is kept; without the keyword nothing moves.
        #expect(try TimeExpression.parse("n + 10 days at 17:00 civil-deadline").evaluate(in: env).local == LocalDateTime("2026-10-08T17:00"))
        let raw = try TimeExpression.parse("n + 10 days").evaluate(in: env)
        #expect(raw.local == LocalDateTime("2026-10-04T09:00") && raw.dayKind == .holiday(name: "国庆节") && raw.isDayOff)
    }

    @Test func workdaysStartAndAdjustments() throws {
        let env = try environment()
        #expect(try TimeExpression.parse("2026-09-30 + 5 workdays").evaluate(in: env).local == LocalDateTime("2026-10-13T09:00"))
        #expect(try TimeExpression.parse("start + 90 minutes").evaluate(in: env).local == LocalDateTime("2026-11-01T12:00"))
        #expect(try TimeExpression.parse("start + 1 day next-workday").evaluate(in: env).local == LocalDateTime("2026-11-02T10:30"))
        #expect(try TimeExpression.parse("2026-10-03 previous-workday").evaluate(in: env).date == date("2026-09-30"))
        #expect(try TimeExpression.parse("2026-12-31 + 2 workdays").evaluate(in: env).provisional)
        let instant = try TimeExpression.parse("2026-10-13 at 09:00").evaluate(in: env).instant
        #expect(instant == Date(timeIntervalSince1970: Double(date("2026-10-13").dayNumber * 86_400 + 3600)))  // 09:00 +08:00 = 01:00 UTC
    }

    @Test func missingValuesAreNamed() throws {
        let env = try environment()
        #expect(throws: TimeEvaluationError.missingParameter("election_day")) { try TimeExpression.parse("election_day").evaluate(in: env) }
        #expect(throws: TimeEvaluationError.stepNotDone("a")) { try TimeExpression.parse("steps.a.done").evaluate(in: env) }
    }

    @Test func durations() throws {
        #expect(try TimeOffset.parse("1 workday") == TimeOffset(amount: 1, unit: .workdays))
        #expect(try TimeOffset.parse("-5 workdays", allowNegative: true) == TimeOffset(amount: -5, unit: .workdays))
        #expect(throws: TimeExpressionError.self) { try TimeOffset.parse("-5 workdays") }
        #expect(throws: TimeExpressionError.self) { try TimeOffset.parse("2 days 3 hours") }
    }
}
