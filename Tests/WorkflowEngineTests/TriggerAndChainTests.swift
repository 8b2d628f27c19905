import Foundation
import Testing
import WorkflowEngine

/// Instances the daemon starts by itself: on a yearly schedule, and when another completes.
@Suite struct TriggerAndChainTests {
    static let review = """
        workflow: review
        title: 年底述职评议
        params:
          unit: { type: unit, title: 社区 }
          meeting_day: { type: date, title: 会议日, default: start + 20 days }
        trigger:
          every: year
          on: "12-01"
          units: [community]
        steps:
          - id: notice
            title: 发出会议通知
            at: meeting_day - 10 days
            uses: record
            with: { text: "{{unit.name}}：述职评议会议{{meeting_day}}" }
        """

    @Test func aYearlyTriggerStartsOneInstancePerUnitOnceAYear() throws {
        let harness = try EngineHarness(workflows: ["review.yaml": Self.review])
        let communities = harness.support.orgChart!.units.values.filter { $0.kind == .community }.count
        #expect(communities >= 3)
        #expect(harness.engine.nextWakeUp == local("2026-12-01T09:00"))
        try harness.advance(to: "2026-11-30T23:00")
        #expect(try harness.engine.instances().isEmpty)
        try harness.advance(to: "2026-12-01T09:00")
        let first = try harness.engine.instances()
        #expect(first.count == communities)
        #expect(Set(first.compactMap(\.unit)).count == communities)
        #expect(first.allSatisfy { $0.startedBy == "huayingd (trigger 2026)" })
        let one = try harness.engine.instance(first[0].id)
        #expect(one.params == ["unit": one.summary.unit!, "meeting_day": "2026-12-21"], "show lists the defaulted parameters too")
        #expect(one.steps.first?.due == local("2026-12-11T09:00"), "meeting_day defaults to start + 20 days; notice 10 days before")

        // A restart does not start the same occurrence again; the next year does.
        try harness.restart()
        try harness.advance(to: "2027-11-30T09:00")
        #expect(try harness.engine.instances().count == communities)
        try harness.advance(to: "2027-12-01T09:00")
        #expect(try harness.engine.instances().count == 2 * communities)
    }

    @Test func aTriggeredWorkflowNeedsDefaultsForEveryOtherParam() throws {
        let harness = try EngineHarness()
        let broken = Self.review.replacingOccurrences(of: ", default: start + 20 days", with: "")
        #expect(throws: (any Error).self) {
            try harness.engine.registerDefinition(path: "/tmp/review.yaml", text: broken)
        }
    }

    static let election = """
        workflow: mini-election
        title: 选举
        params:
          unit: { type: unit, title: 社区 }
        steps:
          - id: results
            title: 公布选举结果
            uses: remind
            with: { to: secretary@unit, message: 请公布结果并填写当选人 }
            ack:
              fields: [heads]
        then:
          - start: talk
            for_each: "{{steps.results.fields.heads}}"
            params: { unit: "{{unit.id}}", cadre: "{{item}}" }
        """

    static let talk = """
        workflow: talk
        title: 任前廉政谈话
        params:
          unit: { type: unit, title: 社区 }
          cadre: { type: text, title: 干部 }
        steps:
          - id: talk
            title: 谈话
            uses: record
            with: { text: "与{{cadre}}谈话" }
        """

    @Test func aCompletedElectionStartsOneTalkPerElectedHead() throws {
        let harness = try EngineHarness(workflows: ["election.yaml": Self.election, "talk.yaml": Self.talk])
        let id = try harness.engine.start(workflow: "mini-election", params: ["unit": "guqiao-shequ"], actor: "admin")
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil,
                                           fields: ["heads": "张三、李四"])
        #expect(try harness.engine.instance(id).summary.state == "completed")
        let talks = try harness.engine.instances(.init(workflow: "talk"))
        #expect(talks.count == 2)
        let cadres = try talks.map { try harness.engine.instance($0.id).params["cadre"] ?? "" }
        #expect(Set(cadres) == ["张三", "李四"])
        #expect(talks.allSatisfy { $0.unit == "guqiao-shequ" })
        #expect(try harness.engine.audit(instance: id).filter { $0.event == "chain.started" }.count == 2)
        #expect(try harness.engine.verifyLedger().ok)
    }

    @Test func anAcknowledgementRefusesUndeclaredFields() throws {
        let harness = try EngineHarness(workflows: ["election.yaml": Self.election, "talk.yaml": Self.talk])
        _ = try harness.engine.start(workflow: "mini-election", params: ["unit": "guqiao-shequ"], actor: "admin")
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        #expect(throws: EngineError(.unknownField, "step 'results' takes the fields heads with its acknowledgement; not head")) {
            _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: ["head": "张三"])
        }
    }

    @Test func aChainToAWorkflowThatIsNotLoadedIsRecordedNotFatal() throws {
        let harness = try EngineHarness(workflows: ["election.yaml": Self.election])
        let id = try harness.engine.start(workflow: "mini-election", params: ["unit": "guqiao-shequ"], actor: "admin")
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil, fields: ["heads": "张三"])
        #expect(try harness.engine.instance(id).summary.state == "completed")
        let failed = try harness.engine.audit(instance: id).filter { $0.event == "chain.failed" }
        #expect(failed.map(\.text) == ["无法启动talk：该流程未加载"])
    }

    static let stepChained = """
        workflow: step-chained
        title: 选举
        params:
          unit: { type: unit, title: 社区 }
        steps:
          - id: results
            title: 公布选举结果
            uses: remind
            with: { to: secretary@unit, message: 请公布结果并填写当选人 }
            ack:
              fields: [elected_members]
            then:
              - start: talk
                for_each: "{{steps.results.fields.elected_members}}"
                params: { unit: "{{unit.id}}", cadre: "{{item}}" }
          - id: archive
            title: 建档
            after: results
            at: start + 60 days
            uses: record
            with: { text: 建档 }
        """

    /// A step's `then:` fires when that step completes, once per element, and the instance
    /// goes on running (it used to exist only for a completed instance).
    @Test func aStepsThenStartsOneInstancePerElementWhenTheStepCompletes() throws {
        let harness = try EngineHarness(workflows: ["election.yaml": Self.stepChained, "talk.yaml": Self.talk])
        let id = try harness.engine.start(workflow: "step-chained", params: ["unit": "guqiao-shequ"], actor: "admin")
        #expect(try harness.engine.instances(.init(workflow: "talk")).isEmpty)
        try harness.advance(to: "2026-12-02T10:00")
        let reminder = try #require(try harness.engine.inbox(user: "zhaomin", all: false).first)
        _ = try harness.engine.acknowledge(reminder: reminder.id, user: "zhaomin", actor: "zhaomin", note: nil,
                                           fields: ["elected_members": "张三、李四，王五"])
        #expect(try harness.engine.instance(id).summary.state == "running", "archive is 60 days after the start")
        let talks = try harness.engine.instances(.init(workflow: "talk"))
        #expect(talks.count == 3)
        let cadres = try talks.map { try harness.engine.instance($0.id).params["cadre"] ?? "" }
        #expect(Set(cadres) == ["张三", "李四", "王五"])
        #expect(talks.allSatisfy { $0.startedBy == "huayingd (then of #\(id) results)" })
        let chained = try harness.engine.audit(instance: id).filter { $0.event == "chain.started" }
        #expect(chained.count == 3 && chained.allSatisfy { $0.step == "results" })
        // The completion of the instance starts nothing more.
        try harness.advance(to: "2027-02-15T09:00")
        #expect(try harness.engine.instance(id).summary.state == "completed")
        #expect(try harness.engine.instances(.init(workflow: "talk")).count == 3)
        #expect(try harness.engine.verifyLedger().ok)
    }
}
