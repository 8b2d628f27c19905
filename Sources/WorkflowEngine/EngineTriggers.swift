import Foundation
import SQLiteStore
import WorkflowModel

/// `trigger:` — instances the daemon starts by itself on a schedule, one per unit of the
/// given kinds. Each occurrence starts each unit's instance exactly once: the
/// `trigger_fire` row and the instance commit in the same transaction.
extension WorkflowEngine {
    /// Makes sure every current triggered workflow has a next start time (the first
    /// occurrence after now, for a workflow seen for the first time; past occurrences are not
    /// started retroactively), and reads them into memory.
    func syncTriggers() throws {
        var next: [String: Int64] = [:]
        for (id, loaded) in registry.current {
            guard let trigger = loaded.definition.trigger else { continue }
            if let row = try db.queryOne("SELECT next_at FROM trigger_state WHERE workflow = ?", [.text(id)]) {
                next[id] = try row.int("next_at")
            } else {
                let first = trigger.occurrence(after: clock.now, timeZone: support.timeZone, defaultTime: loaded.definition.defaultTime)
                let at = Millis.from(first.instant(in: support.timeZone))
                try db.execute("INSERT INTO trigger_state (workflow, next_at) VALUES (?, ?)", [.text(id), .integer(at)])
                next[id] = at
            }
        }
        triggerNext = next
    }

    /// Starts the instances of every trigger due at `now`. A daemon that was down over an
    /// occurrence starts it once when it comes back (late); older missed occurrences are not
    /// replayed. - Important: Call inside the batch transaction.
    func fireTriggers(now: Date) throws -> Int {
        let nowMillis = Millis.from(now)
        var started = 0
        for (workflow, at) in triggerNext where at <= nowMillis {
            guard let loaded = registry.current[workflow], let trigger = loaded.definition.trigger else {
                triggerNext[workflow] = nil
                continue
            }
            let occurrence = LocalDateTime(Millis.date(at), in: support.timeZone)
            let key = trigger.key(of: occurrence)
            let units = support.orgChart.map { chart in
                chart.unitOrder.filter { trigger.unitKinds.contains(chart.units[$0]!.kind) }
            } ?? []
            for unit in units {
                try db.execute("INSERT OR IGNORE INTO trigger_fire (workflow, occurrence, unit) VALUES (?, ?, ?)",
                               [.text(workflow), .text(key), .text(unit)])
                guard db.changes == 1 else { continue }
                do {
                    try db.transaction {
                        let id = try createInstance(loaded, params: ["unit": unit], actor: "huayingd (trigger \(key))", now: now)
                        try db.execute("UPDATE trigger_fire SET instance = ? WHERE workflow = ? AND occurrence = ? AND unit = ?",
                                       [.integer(id), .text(workflow), .text(key), .text(unit)])
                    }
                    started += 1
                } catch let error as EngineError {
                    try ledger.reloadHead()
                    try ledger.append(at: now, actor: "huayingd", instance: nil, step: nil, event: "trigger.failed",
                                      text: "定时启动\(workflow)（\(unit)）失败：\(error.message)",
                                      fields: ["workflow": workflow, "unit": unit, "occurrence": key])
                }
            }
            let following = trigger.occurrence(after: max(now, Millis.date(at)), timeZone: support.timeZone, defaultTime: loaded.definition.defaultTime)
            let followingMillis = Millis.from(following.instant(in: support.timeZone))
            try db.execute("UPDATE trigger_state SET next_at = ? WHERE workflow = ?", [.integer(followingMillis), .text(workflow)])
            triggerNext[workflow] = followingMillis
            logger.info("trigger fired", metadata: ["workflow": "\(workflow)", "occurrence": "\(key)", "units": "\(units.count)"])
        }
        return started
    }
}
