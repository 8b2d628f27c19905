import Foundation
import Testing
@testable import WorkflowModel

private func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    if text.contains(".") { formatter.formatOptions.insert(.withFractionalSeconds) }
    return formatter.date(from: text)!
}

private func environment(_ zone: TimeZone, start: Date? = nil) throws -> TimeEnvironment {
    TimeEnvironment(calendar: try Shipped.calendar(), timeZone: zone, defaultTime: TimeOfDay("09:00")!, start: start)
}

/// Date-times to the millisecond, with an optional UTC offset.
@Suite struct SecondPrecisionTests {
    @Test func dateTimesParseSecondsFractionsAndOffsets() throws {
        let full = try #require(LocalDateTime("2026-12-01T09:00:00.250+08:00"))
        #expect(full.second == 0 && full.millisecond == 250 && full.utcOffset == 8 * 3600)
        #expect(full.description == "2026-12-01T09:00:00.250+08:00")
        #expect(full.instant(in: .gmt) == utc("2026-12-01T01:00:00.250Z"))
        #expect(LocalDateTime("2026-12-01T09:00:05Z")?.description == "2026-12-01T09:00:05Z")
        #expect(LocalDateTime("2026-12-01T09:00:05.5-03:30")?.millisecond == 500)
        #expect(LocalDateTime("2026-12-01 09:00:05.123456")?.millisecond == 123)
        #expect(LocalDateTime("2026-12-01T09:00")?.description == "2026-12-01T09:00")
        #expect(LocalDateTime("2026-12-01T09:00:00")?.description == "2026-12-01T09:00")
        #expect(LocalDateTime("2026-12-01T09:00:07")?.description == "2026-12-01T09:00:07")
        for bad in ["2026-12-01T09:00:60", "2026-12-01T09:00:5", "2026-12-01T09:00:00.", "2026-12-01T09:00:00.1234567890",
                    "2026-12-01T09:00+19:00", "2026-12-01T09:00+8", "2026-12-01T09:00:00ZZ"] {
            #expect(LocalDateTime(bad) == nil, "\(bad)")
        }
    }

    @Test func anInstantKeepsItsMilliseconds() {
        let local = LocalDateTime(utc("2026-12-01T01:02:03.456Z"), in: shanghai)
        #expect(local.description == "2026-12-01T09:02:03.456")
        #expect(local.instant(in: shanghai) == utc("2026-12-01T01:02:03.456Z"))
    }

    @Test func wholeMinutesEncodeAsBeforeAndOldValuesDecode() throws {
        let encoded = String(decoding: try JSONEncoder().encode(LocalDateTime("2026-12-01T09:00")!), as: UTF8.self)
        #expect(encoded.contains("\"date\"") && !encoded.contains("second") && !encoded.contains("offset"))
        let old = try JSONDecoder().decode(LocalDateTime.self, from: Data(#"{"date":"2026-12-01","time":"09:00"}"#.utf8))
        #expect(old == LocalDateTime("2026-12-01T09:00"))
        let precise = LocalDateTime("2026-12-01T09:00:01.002Z")!
        #expect(try JSONDecoder().decode(LocalDateTime.self, from: try JSONEncoder().encode(precise)) == precise)
    }

    @Test func offsetsInSecondsAndLiteralsWithOffsetsEvaluateToTheMillisecond() throws {
        let expression = try TimeExpression.parse("2026-12-01T09:00:00.250+08:00 + 30 seconds")
        #expect(expression.offsets == [TimeOffset(amount: 30, unit: .seconds)])
        #expect(expression.description == "2026-12-01T09:00:00.250+08:00 + 30 seconds")
        let value = try expression.evaluate(in: try environment(shanghai))
        #expect(value.instant == utc("2026-12-01T01:00:30.250Z"))
        #expect(value.local.description == "2026-12-01T09:00:30.250")
        // The same instant written in UTC is shown in the configured zone.
        #expect(try TimeExpression.parse("2026-12-01T01:00:00Z + 1 second").evaluate(in: try environment(shanghai)).local.description == "2026-12-01T09:00:01")
        let start = utc("2026-11-01T02:30:10.125Z")
        #expect(try TimeExpression.parse("start + 1 day").evaluate(in: try environment(shanghai, start: start)).local.description == "2026-11-02T10:30:10.125")
        #expect(try TimeExpression.parse("start + 1 day at 18:00").evaluate(in: try environment(shanghai, start: start)).local.description == "2026-11-02T18:00")
        #expect(try TimeOffset.parse("1 second") == TimeOffset(amount: 1, unit: .seconds))
        #expect(TimeOffset(amount: 30, unit: .seconds).added(to: start, calendar: try Shipped.calendar(), timeZone: shanghai) == utc("2026-11-01T02:30:40.125Z"))
    }

    @Test func aPlanShowsSecondsOnlyWhereThereAreSome() throws {
        let text = """
            workflow: meeting
            title: 会议
            params:
              meeting: { type: datetime, title: 开会时间 }
            steps:
              - { id: remind, title: 提醒, at: meeting + 30 seconds, uses: record, with: { text: 好 } }
              - { id: record, title: 记录, at: meeting + 1 day at 09:00, uses: record, with: { text: 好 } }

            """
        let definition = try fixtureChecker().load(path: try Scratch.file("meeting.yaml", text))
        let start = utc("2026-11-01T01:00:00Z")
        let plan = try WorkflowPlanner(calendar: try Shipped.calendar(), orgChart: nil, timeZone: shanghai)
            .plan(definition, params: ["meeting": "2026-12-01T09:00:15.500"], start: start, now: start)
        #expect(plan.steps.map(\.due.local.description) == ["2026-12-01T09:00:45.500", "2026-12-02T09:00"])
        #expect(plan.steps.first?.due.instant == utc("2026-12-01T01:00:45.500Z"))
        #expect(plan.params.first?.value == "2026-12-01T09:00:15.500")
    }
}

/// Wall times that a daylight-saving change skips or repeats (zones other than Asia/Shanghai).
@Suite struct DaylightSavingTests {
    let newYork = TimeZone(identifier: "America/New_York")!
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    @Test func aTimeInTheSpringGapMovesForwardByTheGap() throws {
        #expect(LocalDateTime("2026-03-08T02:30")!.instant(in: newYork) == utc("2026-03-08T07:30:00.000Z"))
        #expect(LocalDateTime("2026-03-29T02:30")!.instant(in: berlin) == utc("2026-03-29T01:30:00.000Z"))
        #expect(try TimeExpression.parse("2026-03-08T02:30").evaluate(in: try environment(newYork)).local.description == "2026-03-08T03:30")
        #expect(try TimeExpression.parse("2026-03-28 + 1 day at 02:15").evaluate(in: try environment(berlin)).local.description == "2026-03-29T03:15")
    }

    @Test func aTimeThatHappensTwiceIsTheFirst() {
        #expect(LocalDateTime("2026-11-01T01:30")!.instant(in: newYork) == utc("2026-11-01T05:30:00.000Z"))
        #expect(LocalDateTime("2026-10-25T02:30")!.instant(in: berlin) == utc("2026-10-25T00:30:00.000Z"))
    }

    @Test func timesAwayFromAChangeAreUntouched() {
        #expect(LocalDateTime("2026-03-08T01:59")!.instant(in: newYork) == utc("2026-03-08T06:59:00.000Z"))
        #expect(LocalDateTime("2026-03-08T03:00")!.instant(in: newYork) == utc("2026-03-08T07:00:00.000Z"))
        #expect(LocalDateTime("2026-07-01T12:00")!.instant(in: berlin) == utc("2026-07-01T10:00:00.000Z"))
        #expect(LocalDateTime("2026-07-01T12:00")!.instant(in: shanghai) == utc("2026-07-01T04:00:00.000Z"))
    }
}
