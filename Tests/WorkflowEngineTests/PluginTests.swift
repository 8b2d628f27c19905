import Foundation
import Escalate
import Record
import Remind
import StepPluginAPI
import Testing

/// The built-in plugins on their own, with a fixed org chart and calendar stand-in.
@Suite struct PluginTests {
    struct FixedServices: StepServices {
        var people: [String: [Person]] = [
            "secretary@unit": [Person(user: "zhaomin", name: "赵敏")],
            "director@unit": [Person(user: "zhaomin", name: "赵敏")],
            "civil-affairs@township": [Person(user: "wanghong", name: "王红")],
            "civil-affairs@county": [Person(user: "lijianguo", name: "李建国"), Person(user: "zhouyan", name: "周燕")],
        ]
        func resolve(_ reference: String) throws(StepProblem) -> [Person] {
            guard let found = people[reference] else { throw StepProblem("nobody holds \(reference)") }
            return found
        }
        func add(_ duration: String, to instant: Date) throws(StepProblem) -> Date {
            guard duration == "1 day" else { throw StepProblem("unsupported \(duration)") }
            return instant.addingTimeInterval(86_400)
        }
    }

    private func context(_ input: PluginValue?, reminder: ReminderSnapshot? = nil) -> StepContext {
        StepContext(instanceID: 1, workflowID: "w", stepID: "s", stepTitle: "步骤", unitID: "guqiao-shequ",
                    now: Date(timeIntervalSince1970: 1000), due: Date(timeIntervalSince1970: 1000), deadline: nil,
                    input: input, reminder: reminder, services: FixedServices())
    }

    @Test func recordCompletesWithItsTextAndFields() {
        let input = PluginValue.mapping([.init(key: "text", value: .text("选民名单已公布")),
                                         .init(key: "fields", value: .mapping([.init(key: "by", value: .text("zhaomin"))]))])
        #expect(RecordPlugin().run(context(input)) == .completed(LedgerNote(text: "选民名单已公布", fields: ["by": "zhaomin"])))
        #expect(RecordPlugin().run(context(nil)) == .failed(reason: "record needs 'text'", retryAt: nil))
    }

    @Test func remindResolvesEveryRoleOncePerPerson() {
        let input = PluginValue.mapping([.init(key: "to", value: .list([.text("secretary@unit"), .text("director@unit")])),
                                         .init(key: "message", value: .text("请公布"))])
        #expect(RemindPlugin().run(context(input)) == .awaitAcknowledgement(ReminderRequest(
            recipients: [Person(user: "zhaomin", name: "赵敏")], message: "请公布")))
    }

    @Test func remindFailsNamingARoleNobodyHolds() {
        let input = PluginValue.mapping([.init(key: "to", value: .text("treasurer@unit")), .init(key: "message", value: .text("x"))])
        #expect(RemindPlugin().run(context(input)) == .failed(reason: "cannot remind treasurer@unit: nobody holds treasurer@unit", retryAt: nil))
    }

    private let chain = PluginValue.mapping([
        .init(key: "chain", value: .list([.text("civil-affairs@township"), .text("civil-affairs@county")])),
        .init(key: "every", value: .text("1 day")),
    ])

    @Test func escalateGoesOneLevelUpAndSchedulesTheNext() {
        let outcome = EscalatePlugin().run(context(chain, reminder: ReminderSnapshot(id: 7, level: 0, message: "m", recipients: ["zhaomin"])))
        guard case let .escalated(level, people, note, next) = outcome else {
            Issue.record("expected an escalation, got \(outcome)")
            return
        }
        #expect(level == 1)
        #expect(people.map(\.user) == ["wanghong"])
        #expect(note.fields["level"] == "1")
        #expect(next == Date(timeIntervalSince1970: 1000 + 86_400))
    }

    @Test func escalateAtTheLastLevelHasNoNext() {
        let outcome = EscalatePlugin().run(context(chain, reminder: ReminderSnapshot(id: 7, level: 1, message: "m", recipients: ["zhaomin", "wanghong"])))
        guard case let .escalated(level, people, _, next) = outcome else {
            Issue.record("expected an escalation, got \(outcome)")
            return
        }
        #expect(level == 2)
        #expect(people.map(\.user) == ["lijianguo", "zhouyan"])
        #expect(next == nil)
    }

    @Test func escalateOutsideAReminderOrPastTheChainFails() {
        #expect(EscalatePlugin().run(context(chain)) == .failed(reason: "escalate runs only for an unacknowledged reminder (use it under ack.escalate)", retryAt: nil))
        #expect(EscalatePlugin().run(context(chain, reminder: ReminderSnapshot(id: 7, level: 2, message: "m", recipients: []))) ==
                .failed(reason: "escalation chain exhausted at level 2", retryAt: nil))
    }
}
