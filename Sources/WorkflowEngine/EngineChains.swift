import ControlProtocol
import Foundation
import WorkflowModel

/// `then:` — the instances a completed instance, or a completed step, starts (docs/engine.md
/// "Chains"). They start in the unit of work of the completion, so exactly once: a rollback
/// drops the completion and the chained starts together.
extension WorkflowEngine {
    /// A step's own `then:`, when that step has just completed (`instance` already holds it
    /// as done). Never throws: a chain that cannot start is recorded (`chain.failed`) and
    /// the completion stands.
    func startStepChains(of stepID: String, of instance: InstanceState, in work: UnitOfWork, now: Date) {
        guard let step = instance.definition.step(stepID), !step.then.isEmpty else { return }
        let context: InstanceContext
        do {
            context = try work.context(for: instance)
        } catch {
            for chain in step.then {
                work.record(at: now, instance: instance.id, step: stepID, .chainFailed,
                            "无法启动\(chain.workflow.value)：\(error.message)", fields: ["workflow": chain.workflow.value])
            }
            return
        }
        startChains(step.then, from: instance, step: stepID, context: context, in: work, now: now)
    }

    /// Starts each chain once, or once per element of its `for_each`, recording each start,
    /// skip and failure in the ledger against `instance` (and `step`, for a step's `then:`).
    func startChains(_ chains: [ChainDefinition], from instance: InstanceState, step: String?, context: InstanceContext,
                     in work: UnitOfWork, now: Date) {
        var context = context
        let actor = "\(Self.daemonActor) (then of #\(instance.id)" + (step.map { " \($0)" } ?? "") + ")"
        for chain in chains {
            let target = chain.workflow.value
            let items: [String?] = chain.forEach.map { ChainDefinition.elements(of: context.render($0)) } ?? [nil]
            if items.isEmpty {
                work.record(at: now, instance: instance.id, step: step, .chainSkipped,
                            "未启动\(target)：\(chain.forEach ?? "") 为空", fields: ["workflow": target])
            }
            for item in items {
                context.item = item
                var params: [String: String] = [:]
                for (name, template) in chain.params { params[name.value] = context.render(template) }
                guard registry.current[target] != nil else {
                    work.record(at: now, instance: instance.id, step: step, .chainFailed, "无法启动\(target)：该流程未加载",
                                fields: ["workflow": target, "item": item ?? ""])
                    continue
                }
                do {
                    let started = try startInstance(workflow: target, params: params, actor: actor, in: work, now: now)
                    work.record(at: now, instance: instance.id, step: step, .chainStarted,
                                "已启动\(registry.current[target]?.definition.title ?? target)" + (item.map { "：\($0)" } ?? ""),
                                fields: ["workflow": target, "instance": "\(started.id)", "item": item ?? ""])
                } catch let error as EngineError {
                    work.record(at: now, instance: instance.id, step: step, .chainFailed,
                                "无法启动\(target)：\(error.message)", fields: ["workflow": target, "item": item ?? ""])
                } catch {
                    work.record(at: now, instance: instance.id, step: step, .chainFailed,
                                "无法启动\(target)：\(error)", fields: ["workflow": target, "item": item ?? ""])
                }
            }
        }
    }
}
