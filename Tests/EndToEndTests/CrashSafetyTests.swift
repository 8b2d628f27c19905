import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A small workflow whose steps fall due at different times of different days: two records on
/// their own dates, two reminders with repeats and escalations, and a record after each.
let drillWorkflow = """
    workflow: drill
    title: 演练通知
    params:
      unit: { type: unit, title: 社区, kinds: [village, community] }
      day: { type: date, title: 演练日 }
    calendar: cn-mainland
    default_time: "09:00"
    steps:
      - id: open
        title: 记录：演练启动
        at: day - 6 days at 08:15
        uses: record
        with: { text: "{{unit.name}}演练启动（{{day}}）" }
      - id: notify
        title: 发出演练通知
        at: day - 5 days at 10:30
        uses: remind
        with:
          to: secretary@unit
          message: "{{unit.name}}：请发出演练通知（演练日{{day}}）。"
        ack:
          within: 12 hours
          repeat: 3 hours
          escalate:
            uses: escalate
            with: { chain: [civil-affairs@township, civil-affairs@county], every: 6 hours }
      - id: notified
        title: 记录：通知已发出
        after: notify
        uses: record
        with:
          text: "通知已发出，确认人{{steps.notify.acked_by}}"
      - id: check
        title: 检查准备情况
        at: day - 3 days at 14:00
        uses: remind
        with:
          to: director@unit
          message: "{{unit.name}}：请检查演练准备情况。"
        ack:
          within: 1 day
          repeat: 4 hours
          escalate:
            uses: escalate
            with: { chain: [civil-affairs@township], every: 1 day }
      - id: checked
        title: 记录：准备就绪
        after: check
        uses: record
        with:
          text: "准备就绪，确认人{{steps.check.acked_by}}"
      - id: close
        title: 记录：演练日
        at: day at 16:45
        uses: record
        with: { text: "{{unit.name}}演练日" }
    """

let drillSteps = ["open", "notify", "notified", "check", "checked", "close"]

/// Units whose secretary and director are one person (一肩挑), so one user's inbox holds every
/// reminder of the unit's instances.
let drillUnits: [(unit: String, user: String)] = [
    ("guqiao-shequ", "zhaomin"), ("xijie", "linfeng"), ("dongyuan", "hanmei"), ("huangjue", "xiaoming"), ("qingshan", "guoliang"),
]

/// Issue 4, item 5: SIGKILL the daemon at random moments while the clock moves and people
/// acknowledge; after every restart nothing ran twice, nothing acknowledged re-opened.
@Suite struct CrashSafetyTests {
    @Test func killingTheDaemonAtRandomMomentsNeverRunsAStepTwiceOrReopensAReminder() throws {
        let seed = ProcessInfo.processInfo.environment["HUAYING_CRASH_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        var rng = SeededGenerator(seed: seed)
        print("crash test: seed \(seed) (replay with HUAYING_CRASH_SEED=\(seed))")
        let wallStart = Date()

        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow])
        defer { site.remove() }
        var clock = shanghaiTime("2026-11-01T09:00")
        var daemon = try simulatedDaemon(site, at: shanghaiISO(clock))
        let cli = EngineCLI(socket: site.socketPath)

        // 30 instances, their steps spread over 2026-11-02 … 2026-11-14 at several times of day.
        var instanceIDs: [Int] = []
        for index in 0..<30 {
            let day = Calendar(identifier: .gregorian).date(byAdding: .day, value: index % 7, to: shanghaiTime("2026-11-08T00:00"))!
            let dayText = String(shanghaiISO(day).prefix(10))
            instanceIDs.append(try cli.start("drill", ["unit": drillUnits[index % drillUnits.count].unit, "day": dayText]))
        }

        var acknowledged: [Int: (by: String, at: String)] = [:]
        var kills = 0, interruptedAdvances = 0, partialAdvances = 0, interruptedAcks = 0, racingAcks = 0

        /// Every reminder, from the inboxes of the units' people (they are on every reminder).
        func allReminders() throws -> [Int: ReminderInfo] {
            var result: [Int: ReminderInfo] = [:]
            for (_, user) in drillUnits {
                for reminder in try cli.inbox(user, all: true) { result[reminder.id] = reminder }
            }
            return result
        }
        func openReminders() throws -> [ReminderInfo] {
            try allReminders().values.filter { $0.state == "open" }.sorted { $0.id < $1.id }
        }
        func checkAcknowledgementsKept(_ when: String) throws {
            let reminders = try allReminders()
            for (id, ack) in acknowledged {
                let now = reminders[id]
                #expect(now?.state == "acked" && now?.ackedBy == ack.by && now?.ackedAt == ack.at,
                        "reminder \(id) acknowledged by \(ack.by) at \(ack.at) is \(now?.state ?? "missing") \(when)")
            }
        }
        func restart() throws {
            daemon = try simulatedDaemon(site, at: shanghaiISO(clock))
            #expect(daemon.log.contains("previous run did not stop cleanly"))
        }

        let end = shanghaiTime("2026-11-15T12:00")
        while clock < end || kills < 6 {
            let open = try openReminders()
            if open.count >= 3 && kills < 16 && (Bool.random(using: &rng) || clock >= end) {
                // Kill while acknowledgements are arriving at once.
                let batch = open.shuffled(using: &rng).prefix(8)
                let programs = try batch.map { reminder in
                    try BackgroundProgram(Binaries.path("huaying"),
                                          ["--socket", site.socketPath, "--as", reminder.assignees.first!, "ack", "\(reminder.id)", "--json"])
                }
                // Each acknowledgement takes ~20 ms to start and connect: some are in, some cut off.
                usleep(UInt32.random(in: 0..<120_000, using: &rng))
                #expect(daemon.stop(signal: SIGKILL) == SIGKILL)
                racingAcks += batch.count
                for (reminder, program) in zip(batch, programs) {
                    let result = program.wait()
                    if result.status == 0 {
                        let info = try JSONDecoder().decode(ReminderInfo.self, from: Data(result.stdout.utf8))
                        acknowledged[reminder.id] = (info.ackedBy ?? "?", info.ackedAt ?? "?")
                    } else {
                        interruptedAcks += 1
                    }
                }
                kills += 1
                try restart()
            } else {
                // Acknowledge some of what is open, one at a time.
                for reminder in open where Double.random(in: 0..<1, using: &rng) < 0.25 {
                    let user = reminder.assignees.first!
                    let acked = try cli.ack(reminder.id, as: user)
                    acknowledged[reminder.id] = (user, acked.ackedAt ?? "?")
                }
                // Kill while the clock moves and steps, repeats and escalations run: a loop of
                // 1-hour advances (each 5–40 ms here), killed at a random moment within it.
                let hours = Int.random(in: 12...40, using: &rng)
                let rowsBefore = try cli.json(StatusResult.self, ["status"]).counts["ledger_rows"] ?? 0
                let program = try BackgroundProgram("/bin/sh", ["-c", """
                    for i in $(seq \(hours)); do "$0" --socket "$1" clock advance 1h >/dev/null || exit 1; done
                    """, Binaries.path("huaying"), site.socketPath])
                usleep(UInt32.random(in: 0..<UInt32(hours * 30_000), using: &rng))
                #expect(daemon.stop(signal: SIGKILL) == SIGKILL)
                let result = program.wait()
                // Restart at the target: never earlier than anything the daemon may have run.
                clock = clock.addingTimeInterval(TimeInterval(hours * 3600))
                kills += 1
                try restart()
                if result.status != 0 {
                    interruptedAdvances += 1
                    // Some of the advance committed before the kill: the rest runs after the restart.
                    if try cli.json(StatusResult.self, ["status"]).counts["ledger_rows"] ?? 0 > rowsBefore { partialAdvances += 1 }
                }
            }
            try checkAcknowledgementsKept("after kill \(kills)")
            #expect(try cli.now() == clock)
        }

        // Everything falls due; acknowledge what is still open until all instances complete.
        try cli.setClock("2026-11-20T09:00")
        for _ in 0..<5 {
            let open = try openReminders()
            if open.isEmpty { break }
            for reminder in open {
                let user = reminder.assignees.first!
                acknowledged[reminder.id] = (user, try cli.ack(reminder.id, as: user).ackedAt ?? "?")
            }
        }
        try checkAcknowledgementsKept("at the end")
        let instances = try cli.instances()
        #expect(instances.count == 30)
        #expect(instances.allSatisfy { $0.state == "completed" }, "\(instances.filter { $0.state != "completed" }.map(\.id))")

        // Every step of every instance ran exactly once.
        let rows = try cli.audit()
        var ran: [String: Int] = [:]
        for row in rows where stepRanEvents.contains(row.event) {
            ran["\(row.instance ?? 0)/\(row.step ?? "-")", default: 0] += 1
        }
        for id in instanceIDs {
            for step in drillSteps {
                #expect(ran["\(id)/\(step)"] == 1, "instance \(id) step \(step) ran \(ran["\(id)/\(step)"] ?? 0) times")
            }
            #expect(rows.filter { $0.instance == id && $0.event == "instance.completed" }.count == 1)
        }
        #expect(ran.count == instanceIDs.count * drillSteps.count)
        #expect(!rows.contains { $0.event == "step.failed" || $0.event == "escalation.failed" })

        // No reminder was acknowledged twice, repeated or escalated after its acknowledgement.
        var ackSeq: [String: Int] = [:]
        for row in rows where row.event == "reminder.acknowledged" {
            let reminder = row.fields["reminder"] ?? "?"
            #expect(ackSeq[reminder] == nil, "reminder \(reminder) acknowledged twice")
            ackSeq[reminder] = row.seq
        }
        #expect(ackSeq.count == instanceIDs.count * 2)
        for row in rows where ["reminder.repeated", "reminder.escalated"].contains(row.event) {
            let reminder = row.fields["reminder"] ?? "?"
            #expect(row.seq < ackSeq[reminder] ?? .max, "reminder \(reminder): \(row.event) at \(row.at) after its acknowledgement")
        }
        for (id, reminder) in try allReminders() {
            #expect(reminder.state == "acked", "reminder \(id)")
        }

        let verify = try cli.run(["audit", "--verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(daemon.stop() == 0, "log: \(daemon.log)")
        let seconds = Date().timeIntervalSince(wallStart)
        print("crash test: seed \(seed), \(kills) kills (\(interruptedAdvances) during a loop of clock advances, \(partialAdvances) of them after part of it committed, \(interruptedAcks) of \(racingAcks) racing acknowledgements cut off), \(rows.count) ledger rows, \(String(format: "%.1f", seconds)) s")
        #expect(seconds < 90, "the crash test took \(seconds) s")
    }
}
