import Foundation
import Testing
@testable import WorkflowModel

/// Quiet hours and digests with the shipped calendar (cn-mainland: 国庆 2026 is 10-01…10-07,
/// with make-up workdays on Sunday 09-20 and Saturday 10-10).
@Suite struct NotificationScheduleTests {
    func schedule(_ settings: NotificationSettings = .default) throws -> NotificationSchedule {
        NotificationSchedule(settings: settings, calendar: try Shipped.calendar(), timeZone: shanghai)
    }

    func at(_ text: String) -> Date { LocalDateTime(text)!.instant(in: shanghai) }

    func local(_ instant: Date) -> String { LocalDateTime(instant, in: shanghai).description }

    @Test func aWorkdayAfternoonIsDeliveredAtOnce() throws {
        let schedule = try schedule()
        #expect(!schedule.isQuiet(at("2026-09-30T15:00")))
        #expect(local(schedule.deliveryInstant(for: at("2026-09-30T15:00:20"))) == "2026-09-30T15:00:20")
        #expect(local(schedule.deliveryInstant(for: at("2026-10-08T08:00"))) == "2026-10-08T08:00", "08:00 itself is no longer quiet")
        #expect(local(schedule.deliveryInstant(for: at("2026-10-08T20:59:59"))) == "2026-10-08T20:59:59")
    }

    @Test func theEveningBeforeNationalDayWaitsForTheFirstWorkdayAfterTheHoliday() throws {
        let schedule = try schedule()
        #expect(schedule.isQuiet(at("2026-09-30T21:00")))
        #expect(local(schedule.deliveryInstant(for: at("2026-09-30T22:15"))) == "2026-10-08T08:00")
        #expect(local(schedule.deliveryInstant(for: at("2026-10-03T10:00"))) == "2026-10-08T08:00", "a holiday afternoon is quiet")
        #expect(local(schedule.deliveryInstant(for: at("2026-10-08T07:59"))) == "2026-10-08T08:00")
    }

    @Test func aMakeUpWorkdayIsAWorkingMorning() throws {
        let schedule = try schedule()
        // Friday evening 10-09: Saturday 10-10 is 调休上班.
        #expect(local(schedule.deliveryInstant(for: at("2026-10-09T21:30"))) == "2026-10-10T08:00")
        #expect(!schedule.isQuiet(at("2026-10-10T11:00")))
        // An ordinary weekend waits for Monday.
        #expect(local(schedule.deliveryInstant(for: at("2026-10-16T23:00"))) == "2026-10-19T08:00")
        #expect(local(schedule.deliveryInstant(for: at("2026-10-17T12:00"))) == "2026-10-19T08:00")
    }

    @Test func urgentOverridesQuietHoursAndDaysOff() throws {
        let schedule = try schedule()
        #expect(local(schedule.deliveryInstant(for: at("2026-10-03T23:30"), urgent: true)) == "2026-10-03T23:30")
    }

    @Test func configuredQuietHoursAndDaysOffAreHonoured() throws {
        let late = try schedule(NotificationSettings(quietHours: .init("22:30-07:00"), quietOnDaysOff: false, digestWindow: 60))
        #expect(local(late.deliveryInstant(for: at("2026-10-03T22:00"))) == "2026-10-03T22:00", "days off are not quiet then")
        #expect(local(late.deliveryInstant(for: at("2026-10-03T22:30"))) == "2026-10-04T07:00")
        #expect(local(late.deliveryInstant(for: at("2026-10-04T06:00"))) == "2026-10-04T07:00")
        // A window that does not cross midnight (a lunch break).
        let lunch = try schedule(NotificationSettings(quietHours: .init("12:00-14:00"), quietOnDaysOff: true, digestWindow: 60))
        #expect(local(lunch.deliveryInstant(for: at("2026-10-08T12:30"))) == "2026-10-08T14:00")
        #expect(local(lunch.deliveryInstant(for: at("2026-10-03T09:00"))) == "2026-10-08T14:00",
                "a day off waits for the next workday's end of quiet hours, which here is 14:00")
        let none = try schedule(NotificationSettings(quietHours: nil, quietOnDaysOff: false, digestWindow: 60))
        #expect(local(none.deliveryInstant(for: at("2026-10-03T03:00"))) == "2026-10-03T03:00")
        let daysOffOnly = try schedule(NotificationSettings(quietHours: nil, quietOnDaysOff: true, digestWindow: 60))
        #expect(local(daysOffOnly.deliveryInstant(for: at("2026-10-03T03:00"))) == "2026-10-08T08:00", "08:00 without quiet hours")
    }

    @Test func aHolidayMorningCatchUpIsOneDigestPerRobot() throws {
        let schedule = try schedule()
        // 80 reminders raised over the holiday for 3 village groups, and one for another group on 10-08 at 09:00.
        var pending: [PendingNotification] = []
        for index in 0..<80 {
            let raised = at("2026-10-01T09:00").addingTimeInterval(Double(index) * 5400)
            pending.append(PendingNotification(id: Int64(index), robot: ["huangjue", "shiling", "qingshan"][index % 3],
                                               deliverAt: schedule.deliveryInstant(for: raised)))
        }
        pending.append(PendingNotification(id: 100, robot: "guqiao", deliverAt: at("2026-10-08T09:00")))
        let batches = schedule.batches(of: pending)
        #expect(batches.map(\.robot) == ["huangjue", "qingshan", "shiling", "guqiao"])
        #expect(batches.prefix(3).allSatisfy { local($0.sendAt) == "2026-10-08T08:01" && $0.isDigest })
        #expect(batches.prefix(3).map(\.notifications.count) == [27, 26, 27])
        #expect(batches[0].notifications.map(\.id) == Array(stride(from: 0, to: 80, by: 3)).map(Int64.init))
        #expect(!batches[3].isDigest && local(batches[3].sendAt) == "2026-10-08T09:01")
    }

    @Test func theDigestWindowOpensAtTheFirstNotificationAndClosesAfterIt() throws {
        let schedule = try schedule()
        let start = at("2026-10-08T10:00")
        let pending = [0, 30, 59.9, 60, 200].enumerated().map { index, offset in
            PendingNotification(id: Int64(index), robot: "guqiao", deliverAt: start.addingTimeInterval(offset))
        }
        let batches = schedule.batches(of: pending)
        #expect(batches.map { $0.notifications.map(\.id) } == [[0, 1, 2], [3], [4]])
        #expect(batches.map { local($0.sendAt) } == ["2026-10-08T10:01", "2026-10-08T10:02", "2026-10-08T10:04:20"])
        let alone = try self.schedule(NotificationSettings(quietHours: nil, quietOnDaysOff: true, digestWindow: 0)).batches(of: pending)
        #expect(alone.count == 5 && alone.allSatisfy { !$0.isDigest })
        #expect(alone[0].sendAt == start, "no window: sent when due")
    }
}
