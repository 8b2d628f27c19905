import ControlProtocol
import EventLoop
import Foundation
import Testing
import WorkflowEngine
import WorkflowModel

/// External (exec) step plugins through the outbox, with real processes written by the tests.
@Suite(.serialized) struct ExecPluginTests {
    @Test func aCompletedResultsOutputIsUsedByALaterStep() throws {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: pythonPlugin(#"{"status": "completed", "output": {"message_id": "m-" + req["idempotency_key"], "env": sorted(k for k in os.environ if k != "LC_CTYPE")}}"#),
                                manifest: "env: [SECRET]\ninput_schema: { type: object, required: [to], properties: { to: { type: string }, text: { type: string } } }\n")
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        let id = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        #expect(try harness.base.stepState(id, "send") == "due", "handed over in the transaction that started it; nothing ran yet")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        #expect(try harness.base.stepState(id, "send") == "done")
        #expect(try harness.base.stepState(id, "logged") == "done")
        let rows = try harness.events(id)
        #expect(rows.map(\.event) == ["instance.started", "step.handed", "step.recorded", "step.recorded", "instance.completed"])
        #expect(rows[3].text == "已发送，编号m-\(id)/send/1")
        #expect(rows[1].fields["idempotency_key"] == "\(id)/send/1")
        let request = try #require(harness.requests().first)
        #expect(request["protocol"] as? Int == 1)
        #expect(request["plugin"] as? String == "sms")
        #expect(request["attempt"] as? Int == 1)
        #expect(request["idempotency_key"] as? String == "\(id)/send/1")
        #expect((request["with"] as? [String: Any])?["text"] as? String == "古桥社区：周五开会")
        let instance = try #require(request["instance"] as? [String: Any])
        #expect((instance["unit"] as? [String: Any])?["name"] as? String == "古桥社区")
        #expect((request["step"] as? [String: Any])?["title"] as? String == "发送短信")
        // The cleaned environment: HUAYING_PROTOCOL and what the manifest allows, nothing else
        // (Python itself adds LC_CTYPE when it starts in the C locale, PEP 538).
        #expect(rows[2].fields["output.env"] == #"["HUAYING_PROTOCOL","SECRET"]"#)
        #expect(try harness.engine.outboxCounts() == (0, 0))
        try harness.close()
    }

    /// A step's own `then:` fires when an external plugin completes it, as when a built-in
    /// step completes (it fired only for built-in steps and acknowledgements).
    @Test func anExecStepsOwnThenFiresWhenThePluginCompletesIt() throws {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: pythonPlugin(#"{"status": "completed", "output": {"message_id": "m1"}}"#))
        let chained = execWorkflow(plugin: "sms").replacingOccurrences(of: """
                with: { to: "13800000000", text: "{{unit.name}}：周五开会" }
            """, with: """
                with: { to: "13800000000", text: "{{unit.name}}：周五开会" }
                then:
                  - start: follow-up
                    params: { unit: "{{unit.id}}" }
            """)
        #expect(chained.contains("start: follow-up"))
        let followUp = """
            workflow: follow-up
            title: 跟进
            params:
              unit: { type: unit, title: 社区 }
            calendar: cn-mainland
            steps:
              - { id: note, title: 记录, uses: record, at: start + 10 days, with: { text: 跟进 } }
            """
        try harness.load(["exec.yaml": chained, "follow-up.yaml": followUp])
        let id = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        #expect(try harness.engine.instances(.init(workflow: "follow-up")).isEmpty, "nothing before the plugin answers")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        #expect(try harness.base.stepState(id, "send") == "done")
        #expect(try harness.engine.instances(.init(workflow: "follow-up")).count == 1)
        #expect(try harness.events(id).contains { $0.event == LedgerEvent.chainStarted.rawValue && $0.step == "send" })
        try harness.close()
    }

    /// An exec step whose plugin answers `retry` after 120 s at its first attempt and completes
    /// at the next, delivered up to the end of that first attempt.
    static func afterAFirstAttemptThatAsksToRetryIn120Seconds() throws -> (ExecHarness, Int64) {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: pythonPlugin(
            #"{"status": "retry", "after_seconds": 120, "reason": "网关繁忙"} if req["attempt"] == 1 else {"status": "completed", "output": {"message_id": "x"}}"#))
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        let id = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        #expect(try harness.base.stepState(id, "send") == "due")
        return (harness, id)
    }

    @Test func aRetryResultWaitsItsOwnDelayThenSucceedsWithTheSameKey() throws {
        let (harness, id) = try Self.afterAFirstAttemptThatAsksToRetryIn120Seconds()
        let retry = try #require(harness.events(id).last)
        #expect(retry.event == "step.retry")
        #expect(retry.fields["reason"] == "网关繁忙")
        try harness.advance(seconds: 119)
        harness.delivery?.deliverDue()
        #expect(harness.started.count == 1, "not before its own delay")
        try harness.advance(seconds: 1)
        #expect(harness.runAttempts(2))
        #expect(try harness.base.stepState(id, "send") == "done")
        #expect(try harness.requests().map { $0["idempotency_key"] as? String } == ["\(id)/send/1", "\(id)/send/1"])
        #expect(try harness.requests().map { $0["attempt"] as? Int } == [1, 2])
        try harness.close()
    }

    /// The engine reads when the next outbox row falls due after each commit on a simulated
    /// clock. A read that failed was taken for "nothing pending", so a retry whose delay came
    /// later was never started (until something else touched the outbox).
    @Test func aRetryIsStillStartedWhenReadingTheOutboxFailedOnce() throws {
        let (harness, id) = try Self.afterAFirstAttemptThatAsksToRetryIn120Seconds()
        // The outbox cannot be read during one commit, then can again.
        try harness.base.db.execute("ALTER TABLE outbox RENAME TO outbox_away")
        _ = try harness.engine.advanceSimulatedClock(to: harness.base.clock.now.addingTimeInterval(60))
        try harness.base.db.execute("ALTER TABLE outbox_away RENAME TO outbox")
        // No explicit deliverDue: only the engine's own wake-up may start the retry.
        _ = try harness.engine.advanceSimulatedClock(to: harness.base.clock.now.addingTimeInterval(60))
        #expect(harness.runAttempts(2, seconds: 5), "the retry due at +120 s was started")
        #expect(try harness.base.stepState(id, "send") == "done")
        try harness.close()
    }

    @Test func aFailedResultFailsTheStepAtOnceAndRemindsTheAdmins() throws {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: pythonPlugin(#"{"status": "failed", "reason": "号码无效"}"#))
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        harness.engine.adminUsers = ["root", "wanghong"]
        let id = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        #expect(try harness.base.stepState(id, "send") == "failed")
        let failed = try #require(harness.events(id).first { $0.event == "step.failed" })
        #expect(failed.fields["reason"] == "号码无效")
        #expect(failed.fields["attempts"] == "1")
        let inbox = try harness.engine.inbox(user: "wanghong", all: false)
        #expect(inbox.count == 1)
        #expect(inbox.first?.message.contains("huaying retry \(id) send") == true)
        #expect(try harness.engine.outboxCounts() == (0, 1))
        try harness.close()
    }

    @Test func afterMaxAttemptsTheStepFailsAndAnAdminRetryRunsItAgainWithANewKey() throws {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: "#!/bin/sh\ncat > /dev/null\necho 'gateway down' >&2\nexit 3\n",
                                manifest: "max_attempts: 2\nbackoff: { initial: 10 seconds, max: 1 minute }\n")
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        let id = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        let retry = try #require(harness.events(id).last)
        #expect(retry.event == "step.retry")
        #expect(retry.fields["reason"] == "the plugin exited with status 3: gateway down")
        try harness.advance(seconds: 10)
        #expect(harness.runAttempts(2))
        #expect(try harness.base.stepState(id, "send") == "failed")
        let failed = try #require(harness.events(id).first { $0.event == "step.failed" })
        #expect(failed.fields["attempts"] == "2")
        #expect(failed.fields["reason"] == "the plugin exited with status 3: gateway down")
        #expect(try harness.engine.inbox(user: "root", all: false).count == 1)
        #expect(harness.engine.pluginFailures == 2)

        let view = try harness.engine.retryStep(instance: id, step: "send", actor: "root")
        #expect(view.steps.first { $0.id == "send" }?.state == "due")
        #expect(harness.runAttempts(3))
        #expect(harness.finished.last?.attempt.idempotencyKey == "\(id)/send/2")
        #expect(try harness.events(id).contains { $0.event == "step.retried" && $0.actor == "root" })
        #expect(throws: EngineError.self) { try harness.engine.retryStep(instance: id, step: "logged", actor: "root") }
        try harness.close()
    }

    @Test func aPluginThatHangsIsKilledWithItsChildrenAndReaped() throws {
        let harness = try ExecHarness()
        // The shell ignores SIGTERM, so only the SIGKILL after the grace ends it; its child sleeps.
        try harness.writePlugin("sms", script: "#!/bin/sh\ntrap '' TERM\nsleep 300 &\necho $! > child.pid\nwait\nwait\n",
                                manifest: "timeout: 1 second\n")
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        _ = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        try harness.startDelivery()
        let began = Date()
        #expect(harness.run(until: { !harness.started.isEmpty }))
        let pid = try #require(harness.started.first?.pid)
        #expect(harness.runAttempts(1, seconds: 20))
        let took = Date().timeIntervalSince(began)
        #expect(took >= 5.5 && took < 15, "timeout 1 s + grace 5 s, took \(took)")
        guard case let .retry(_, reason) = try #require(harness.finished.first?.result) else {
            Issue.record("expected a retry")
            return
        }
        #expect(reason == "the plugin timed out after 1 s and was killed")
        let child = try #require(Int32(String(contentsOfFile: harness.state + "/child.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!isAlive(pid))
        #expect(!isAlive(child), "the plugin's own child was killed with its group")
        #expect(!isUnreapedChild(pid), "the plugin was reaped")
        try harness.close()
    }

    @Test func garbageOutputIsARetryableFailure() throws {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: "#!/bin/sh\ncat > /dev/null\necho 'hello, not json'\n")
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        let id = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        #expect(harness.finished.first?.result == .retry(afterSeconds: nil, reason: "the plugin's stdout is not one JSON object: hello, not json"))
        #expect(try harness.base.stepState(id, "send") == "due")
        try harness.close()
    }

    @Test func tenMegabytesOfOutputAreCutOffAtOneMebibyte() throws {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: "#!/usr/bin/python3\nimport sys\nsys.stdin.read()\nsys.stdout.write('x' * (10 << 20))\n")
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        _ = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        #expect(harness.finished.first?.result == .retry(afterSeconds: nil, reason: "the plugin wrote more than 1048576 bytes on stdout and was killed"))
        let pid = try #require(harness.started.first?.pid)
        #expect(!isUnreapedChild(pid) && !isAlive(pid), "killed and reaped")
        try harness.close()
    }

    @Test func aCrashBySignalIsARetryableFailure() throws {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: "#!/bin/sh\ncat > /dev/null\nkill -SEGV $$\n")
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        _ = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        #expect(harness.finished.first?.result == .retry(afterSeconds: nil, reason: "the plugin was killed by signal 11"))
        try harness.close()
    }

    @Test func concurrencyPerPluginIsBoundedByTheManifest() throws {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: pythonPlugin(#"{"status": "completed", "output": {"message_id": "1"}}"#, before: "import time; time.sleep(0.2)"),
                                manifest: "concurrency: 2\n")
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        for _ in 0..<5 { _ = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root") }
        try harness.startDelivery()
        var most = 0
        #expect(harness.run(until: {
            most = max(most, harness.delivery?.runningCount ?? 0)
            return harness.finished.count == 5
        }))
        #expect(most == 2)
        #expect(try harness.engine.outboxCounts() == (0, 0))
        try harness.close()
    }

    @Test func rowsRunningWhenTheEngineStoppedAreDeliveredAgainWithTheSameKey() throws {
        let harness = try ExecHarness()
        try harness.writePlugin("sms", script: pythonPlugin(#"{"status": "completed", "output": {"message_id": "1"}}"#))
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        let id = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        // Claimed (running) but the result never committed: as after kill -9.
        let claimed = try harness.engine.claimOutbox { _ in 1 }
        #expect(claimed.count == 1)
        #expect(try harness.base.stepState(id, "send") == "running")
        try harness.base.restart()
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        #expect(harness.finished.first?.attempt.idempotencyKey == claimed.first?.idempotencyKey)
        #expect(harness.finished.first?.attempt.attempt == 2)
        #expect(try harness.base.stepState(id, "send") == "done")
        try harness.close()
    }
}

/// The worked example of docs/plugins.md, run as it is written there.
@Suite struct PluginDocsExampleTests {
    /// The fenced block after `<!-- NAME -->` in docs/plugins.md.
    static func block(_ name: String) throws -> String {
        let docs = try String(contentsOfFile: Checkout.root.appendingPathComponent("docs/plugins.md").path, encoding: .utf8)
        let marker = try #require(docs.range(of: "<!-- \(name) -->"))
        let rest = docs[marker.upperBound...]
        let open = try #require(rest.range(of: "```"))
        let body = rest[open.upperBound...].drop { $0 != "\n" }.dropFirst()
        let close = try #require(body.range(of: "```"))
        return String(body[..<close.lowerBound])
    }

    @Test func theWorkedExamplePluginRunsAsDocumented() throws {
        let harness = try ExecHarness()
        let manifest = try Self.block("example-manifest")
        let folder = harness.plugins + "/sms"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try manifest.write(toFile: folder + "/plugin.yaml", atomically: true, encoding: .utf8)
        try writeExecutable(folder + "/sms.py", try Self.block("example-plugin"))
        try harness.load(["exec.yaml": execWorkflow(plugin: "sms")])
        #expect(harness.catalog["sms"]?.problems.isEmpty == true, "\(harness.catalog["sms"]?.problems ?? [])")
        let id = try harness.engine.start(workflow: "exec-sms", params: ["unit": "guqiao-shequ"], actor: "root")
        try harness.startDelivery()
        #expect(harness.runAttempts(1))
        #expect(try harness.base.stepState(id, "logged") == "done")
        #expect(try harness.events(id).contains { $0.text == "已发送，编号sms-\(id)/send/1" })
        try harness.close()
    }
}
