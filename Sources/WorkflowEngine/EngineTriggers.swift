import ControlProtocol
import Foundation
import WorkflowModel

/// `trigger:` — instances the daemon starts by itself on a schedule, one per unit of the
/// given kinds. Each occurrence starts each unit's instance exactly once: the
/// `trigger_fire` row and the instance commit in the same unit of work.
extension WorkflowEngine {
    /// Makes sure every current triggered workflow has a next start time (the first
    /// occurrence after now, for a workflow seen for the first time; past occurrences are not
    /// started retroactively), and reads them into memory.
    func syncTriggers() throws {
        var next: [String: Int64] = [:]
        var fresh: [String: Int64] = [:]
        for (id, loaded) in registry.current {
            guard let trigger = loaded.definition.trigger else { continue }
            if let stored = try store.triggerNext(workflow: id) {
                next[id] = stored
            } else {
                let first = trigger.occurrence(after: clock.now, timeZone: support.timeZone, defaultTime: loaded.definition.defaultTime)
                fresh[id] = Millis.from(first.instant(in: support.timeZone))
            }
        }
        if !fresh.isEmpty {
            try perform { work in work.triggerNext = fresh }
        }
        triggerNext = next.merging(fresh) { $1 }
    }

    func syncTriggersLogged() {
        do {
            try syncTriggers()
        } catch {
            logger.error("cannot read trigger schedules", metadata: ["error": "\(error)"])
        }
    }

    /// Starts the instances of every trigger due at `now`, in `work`. A daemon that was down
    /// over an occurrence starts it once when it comes back (late); older missed occurrences
    /// are not replayed.
    func fireTriggers(now: Date, in work: UnitOfWork) throws -> Int {
        let nowMillis = Millis.from(now)
        var started = 0
        var schedule = triggerNext
        for (workflow, at) in work.triggerNext { schedule[workflow] = at }
        for (workflow, at) in schedule.sorted(by: { $0.key < $1.key }) where at <= nowMillis {
            guard let loaded = registry.current[workflow], let trigger = loaded.definition.trigger else { continue }
            let occurrence = LocalDateTime(Millis.date(at), in: support.timeZone)
            let key = trigger.key(of: occurrence)
            let units = support.orgChart.map { chart in
                chart.unitOrder.filter { trigger.unitKinds.contains(chart.units[$0]!.kind) }
            } ?? []
            let params = TriggerSchedule.params(for: units, of: loaded.definition, chart: support.orgChart, planner: support.planner(for: loaded.definition),
                                                start: now, timeZone: support.timeZone, calendar: support.calendar(for: loaded.definition))
            for unit in units {
                guard try !store.triggerFired(workflow: workflow, occurrence: key, unit: unit),
                      !work.triggerFires.contains(where: { $0.workflow == workflow && $0.occurrence == key && $0.unit == unit }) else { continue }
                do {
                    let report = try startInstance(workflow: workflow, params: params[unit] ?? ["unit": unit], actor: "\(Self.daemonActor) (trigger \(key))",
                                                   in: work, now: now)
                    work.triggerFires.append(.init(workflow: workflow, occurrence: key, unit: unit, instance: report.id))
                    started += 1
                } catch let error as EngineError {
                    work.triggerFires.append(.init(workflow: workflow, occurrence: key, unit: unit, instance: nil))
                    work.record(at: now, instance: nil, step: nil, .triggerFailed, "定时启动\(workflow)（\(unit)）失败：\(error.message)",
                                fields: ["workflow": workflow, "unit": unit, "occurrence": key])
                }
            }
            let following = trigger.occurrence(after: max(now, Millis.date(at)), timeZone: support.timeZone, defaultTime: loaded.definition.defaultTime)
            work.triggerNext[workflow] = Millis.from(following.instant(in: support.timeZone))
            logger.info("trigger fired", metadata: ["workflow": "\(workflow)", "occurrence": "\(key)", "units": "\(units.count)"])
        }
        return started
    }
}
