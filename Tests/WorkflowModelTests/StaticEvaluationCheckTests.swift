import Foundation
import Testing
@testable import WorkflowModel

/// What `lint` finds in a file that would make a time or a text fail to evaluate while an
/// instance runs.
@Suite struct StaticEvaluationCheckTests {
    static let reads = """
        workflow: reads
        title: 读取
        steps:
          - id: a
            title: a
            uses: record
            with: { text: "见{{steps.b.done}}" }
          - id: b
            title: b
            after: a
            uses: record
            with: { text: "{{steps.b.note}}" }
          - id: c
            title: c
            at: steps.c.done + 1 day
            uses: record
            with: { text: "{{steps.a.fields.heads}}" }
          - id: d
            title: d
            after: b
            uses: record
            with: { text: "{{steps.a.done + 1 day}} {{steps.b.acked_by}}" }
          - id: e
            title: e
            at: start + 999999 hours
            uses: record
            with: { text: 好 }

        """

    @Test func textReadingAStepThatIsNotWaitedForIsAnError() throws {
        let folder = try Scratch.folder()
        let path = try Scratch.file("reads.yaml", Self.reads, in: folder)
        #expect(findings(try fixtureChecker().check(path: path), in: folder) == [
            "reads.yaml:7:23: error: step 'a' shows steps.b.done, but does not wait for 'b', so it may run before that has a value; expected 'b' in its 'after:' (directly or through another step)",
            "reads.yaml:12:22: error: step 'b' shows its own steps.b.note, which has no value while the step runs; expected a step it waits for",
            "reads.yaml:15:9: error: step 'c' waits for its own completion in 'steps.c.done + 1 day'; expected another step's steps.<id>.done",
            "reads.yaml:17:22: error: step 'a' has no acknowledgement field 'heads'; expected 'ack: { fields: [heads] }' in step 'a'",
            "reads.yaml:17:22: error: step 'c' shows steps.a.fields.heads, but does not wait for 'a', so it may run before that has a value; expected 'a' in its 'after:' (directly or through another step)",
            "reads.yaml:25:9: error: 'start + 999999 hours' moves more than 100 years from its base; expected a smaller offset",
        ])
    }

    @Test func anOffsetPastTheCalendarsYearsIsAnEvaluationErrorNotACrash() throws {
        let environment = TimeEnvironment(calendar: try Shipped.calendar(), timeZone: shanghai, defaultTime: TimeOfDay("09:00")!,
                                          dates: ["day": date("9999-12-01")])
        #expect(throws: TimeEvaluationError.outOfRange("day + 1 month")) { try TimeExpression.parse("day + 1 month").evaluate(in: environment) }
        #expect(throws: TimeEvaluationError.outOfRange("day + 31 days")) { try TimeExpression.parse("day + 31 days").evaluate(in: environment) }
    }

    static let stepChains = """
        workflow: chains
        title: 接续
        steps:
          - id: a
            title: a
            uses: remind
            with: { to: secretary@unit, message: 好 }
            ack: { fields: [members] }
            then:
              - start: talk
                for_each: "{{steps.a.fields.member}}"
                params: { who: "{{item}} {{steps.b.acked_by}} {{steps.a.acked_by}}" }
          - id: b
            title: b
            after: a
            uses: record
            with: { text: 好 }

        """

    /// A step's `then:` runs after that step: its own results may be read there, a later
    /// step's may not, and field names are checked as elsewhere.
    @Test func aStepsThenMayReadItsOwnResultsButNotALaterStepsOnes() throws {
        let folder = try Scratch.folder()
        let path = try Scratch.file("chains.yaml", Self.stepChains, in: folder)
        let found = findings(try fixtureChecker().check(path: path), in: folder).filter { !$0.contains("unit") }
        #expect(found == [
            "chains.yaml:11:22: error: step 'a' has no acknowledgement field 'member'; expected one of its ack.fields: members",
            "chains.yaml:12:36: error: the 'then:' of step 'a' reads steps.b, but 'a' does not wait for 'b', so it may have no value when the chain starts; expected the step itself or one it waits for",
        ])
    }

    /// `ack.requires` names a field the acknowledgement may carry: it must be in ack.fields.
    @Test func aRequiredResultNeedsItsFieldDeclared() throws {
        let folder = try Scratch.folder()
        let path = try Scratch.file("gate.yaml", """
            workflow: gate
            title: 门槛
            steps:
              - id: a
                title: a
                uses: record
                with: { text: 好 }
                ack:
                  requires:
                    audit: { workflow: audit, step: publish-results }

            """, in: folder)
        let found = findings(try fixtureChecker().check(path: path), in: folder)
        #expect(found.contains("gate.yaml:10:9: error: 'ack.requires' names field 'audit', which is not in 'ack.fields'; expected it listed there too (the acknowledgement may give the instance id)"), "\(found)")
    }
}
