import Foundation
import Testing
@testable import WorkflowModel

/// Large workflows: every walk over steps is iterative, and a file has at most
/// `WorkflowChecker.defaultMaximumSteps` steps.
@Suite struct WorkflowLimitsTests {
    @Test func aCycleThroughFiveThousandStepsIsOneFindingNotAStackOverflow() throws {
        let folder = try Scratch.folder()
        let path = try Scratch.file("long-cycle.yaml", cycleWorkflow(steps: 5000), in: folder)
        let result = try fixtureChecker(maximumSteps: 10_000).check(path: path)
        let found = findings(result, in: folder)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("long-cycle.yaml:6:12: error: dependency cycle: s0 → s4999 → s4998 → ") == true)
        #expect(found.first?.contains(" → s1 → s0 (each waits for the next)") == true)
    }

    @Test func moreStepsThanTheLimitAreRefusedAtTheFirstStepPastIt() throws {
        let folder = try Scratch.folder()
        let path = try Scratch.file("long-cycle.yaml", cycleWorkflow(steps: 5000), in: folder)
        #expect(findings(try fixtureChecker().check(path: path), in: folder) == [
            "long-cycle.yaml:5004:5: error: a workflow file may have at most 1000 steps, this one has 5000; expected the routine split into workflows that start each other with 'then:'",
        ])
    }

    @Test func aFileAtTheLimitLoads() throws {
        var text = "workflow: chain\ntitle: 链\nsteps:\n"
        for index in 0..<WorkflowChecker.defaultMaximumSteps {
            text += "  - { id: s\(index), title: 第\(index)步, uses: record, with: { text: 好 }\(index > 0 ? ", after: s\(index - 1)" : "") }\n"
        }
        let path = try Scratch.file("chain.yaml", text)
        let result = try fixtureChecker().check(path: path)
        #expect(result.diagnostics.isEmpty)
        #expect(result.definition?.steps.count == WorkflowChecker.defaultMaximumSteps)
    }

    /// Which steps a step waits for is worked out once for all steps (it was a walk per reading
    /// step: n walks of n²/2 links when each step waits for all earlier ones). On a tangle with
    /// circles, the findings about text reading a step not waited for are those a walk per
    /// step gives.
    @Test func readingAStepNotWaitedForIsFoundAsAWalkPerStepFindsIt() throws {
        let count = 80
        var seed: UInt64 = 2026
        func random(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        // Mostly earlier steps, now and then a later one (which closes circles).
        let after = (0..<count).map { step in
            (0..<3).map { _ in random(5) == 0 ? random(count) : (step == 0 ? 1 : random(step)) }.filter { $0 != step }
        }
        let reads = (0..<count).map { step in (0..<3).map { _ in random(count) }.filter { $0 != step } }
        let chainReads = (0..<count).map { _ in [random(count)] }
        var text = "workflow: tangle\ntitle: 缠结\nsteps:\n"
        for step in 0..<count {
            let shown = reads[step].map { "{{steps.s\($0).note}}" }.joined(separator: " ")
            let chained = chainReads[step].map { "{{steps.s\($0).note}}" }.joined(separator: " ")
            text += "  - { id: s\(step), title: 第\(step)步, uses: record, with: { text: \"\(shown)\" }"
            if !after[step].isEmpty { text += ", after: [\(after[step].map { "s\($0)" }.joined(separator: ", "))]" }
            text += ", then: [{ start: tangle, params: { note: \"\(chained)\" } }] }\n"
        }
        func walk(from step: Int) -> Set<Int> {
            var found: Set<Int> = []
            var pending = [step]
            while let next = pending.popLast() {
                for dependency in after[next] where found.insert(dependency).inserted { pending.append(dependency) }
            }
            return found
        }
        var expected: [String] = []
        for step in 0..<count {
            let waited = walk(from: step)
            for read in reads[step] where !waited.contains(read) {
                expected.append("step 's\(step)' shows steps.s\(read).note, but does not wait for 's\(read)'")
            }
            for read in chainReads[step] where read != step && !waited.contains(read) {
                expected.append("the 'then:' of step 's\(step)' reads steps.s\(read), but 's\(step)' does not wait for 's\(read)'")
            }
        }
        let result = try fixtureChecker().check(path: try Scratch.file("tangle.yaml", text))
        let found = result.diagnostics.map(\.message).filter { $0.contains("does not wait for") }
            .map { String($0[..<$0.range(of: ", so it may")!.lowerBound]) }
        #expect(result.diagnostics.contains { $0.message.hasPrefix("dependency cycle:") }, "the tangle has circles")
        #expect(expected.count > 20 && expected.count < 3 * count, "some reads are waited for, some not: \(expected.count)")
        #expect(found.sorted() == expected.sorted())
    }

    /// Each step waits for the one after it in the file: ordering them takes one pass per step
    /// when done by repeated passes, one visit per step with Kahn's algorithm.
    @Test func thePlannerOrdersAChainWrittenBackwards() throws {
        let count = WorkflowChecker.defaultMaximumSteps
        var text = "workflow: backwards\ntitle: 倒序\nsteps:\n"
        for index in 0..<count {
            text += "  - { id: s\(index), title: 第\(index)步, uses: record, with: { text: 好 }\(index < count - 1 ? ", after: s\(index + 1)" : "") }\n"
        }
        let definition = try fixtureChecker().load(path: try Scratch.file("backwards.yaml", text))
        let start = LocalDateTime("2026-09-01T09:00")!.instant(in: shanghai)
        let plan = try WorkflowPlanner(calendar: try Shipped.calendar(), orgChart: nil, timeZone: shanghai)
            .plan(definition, params: [:], start: start, now: start)
        #expect(plan.steps.count == count)
        #expect(plan.steps.first?.due.isEstimate == true && plan.steps.last?.due.isEstimate == false)
        #expect(plan.steps.allSatisfy { $0.due.instant == start })
    }
}

/// `then:` naming workflows that are not there, and the spacing of `+` and `-`.
@Suite struct ChainAndSpacingTests {
    static let chaining = """
        workflow: first
        title: 第一
        steps:
          - { id: a, title: a, uses: record, with: { text: 好 } }
        then:
          - start: other
          - start: nowhere

        """

    @Test func thenNamingAnUnknownWorkflowIsAWarning() throws {
        let folder = try Scratch.folder()
        let path = try Scratch.file("first.yaml", Self.chaining, in: folder)
        let result = try fixtureChecker(knownWorkflows: ["other", "first"]).check(path: path)
        #expect(findings(result, in: folder) == [
            "first.yaml:7:12: warning: 'then' starts workflow 'nowhere', which is not among the workflows checked with it; expected one of: other (else the chain fails when the instance completes)",
        ])
        #expect(result.definition != nil)
        #expect(try fixtureChecker().check(path: path).diagnostics.isEmpty)
    }

    @Test func lintOfAFolderKnowsTheWorkflowsInIt() throws {
        let folder = try Scratch.folder()
        _ = try Scratch.file("first.yaml", Self.chaining, in: folder)
        _ = try Scratch.file("other.yaml", "workflow: other\ntitle: 其他\nsteps:\n  - { id: a, title: a, uses: record, with: { text: 好 } }\n", in: folder)
        let config = HuayingConfig(
            file: folder + "/huaying.yaml", stateDirectory: "/tmp", socketPath: "/tmp/x.sock",
            workflowsDirectory: folder + "/missing", pluginsDirectory: folder + "/plugins", staffFile: TestPaths.fixtures + "/staff.yaml",
            calendarsDirectory: TestPaths.calendars, timeZone: shanghai, logLevel: .info, sqliteSynchronous: .full)
        let report = Linter.lint(paths: [folder], config: config)
        #expect(report.diagnostics.map { $0.description.replacingOccurrences(of: folder + "/", with: "") } == [
            "first.yaml:7:12: warning: 'then' starts workflow 'nowhere', which is not among the workflows checked with it; expected one of: other (else the chain fails when the instance completes)",
        ])
    }

    @Test func plusAndMinusNeedASpaceOnEachSide() throws {
        func failure(_ text: String) -> TimeExpressionError? {
            do { _ = try TimeExpression.parse(text); return nil } catch { return error }
        }
        #expect(failure("day+1 day") == TimeExpressionError(offset: 3, "'+' needs a space on each side; expected such as 'start + 1 day'"))
        #expect(failure("start -1 day")?.offset == 6)
        #expect(failure("start +1 day")?.offset == 6)
        #expect(failure("2026-12-01 +2 days")?.offset == 11)
        #expect(failure("day + 1 day") == nil)
        #expect(failure("start\t-\t1 day") == nil)
        // A duration's sign belongs to its number.
        #expect(try TimeOffset.parse("-5 workdays", allowNegative: true) == TimeOffset(amount: -5, unit: .workdays))
    }
}
