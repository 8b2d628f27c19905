import ControlProtocol
import Foundation
import WorkflowModel

/// What an acknowledgement must carry before it may complete its step.
extension WorkflowEngine {
    /// A field the workflow's formulas count from (`steps.<id>.fields.posted_on + 5 days`)
    /// must be a date, and not a day after today: the window it opens is statutory.
    /// - Throws: `EngineError` `bad_field`, naming the field and what was expected.
    func checkDateFields(_ fields: [String: String], of step: String, in definition: WorkflowDefinition, now: Date) throws(EngineError) {
        let today = LocalDateTime(now, in: support.timeZone).date
        for name in definition.dateFields(of: step).sorted() {
            guard let value = fields[name] else { continue }
            guard let date = CivilDate(value) else {
                throw EngineError(.badField, "'\(name)' is a date YYYY-MM-DD (such as \(today)); not '\(value)'")
            }
            if date > today {
                throw EngineError(.badField, "'\(name)' is \(date), after today (\(today)); expected the day it happened")
            }
        }
    }
}

/// `instance` parameters: a new instance that names another one (a voter-list objection names
/// its election).
extension WorkflowEngine {
    /// The instances `params` link to, each checked: it exists, is of one of the parameter's
    /// `workflows`, and has the same unit as the new instance.
    /// - Throws: `EngineError` `bad_params`, naming the parameter and what was expected.
    func linkedInstances(_ params: [String: String], of definition: WorkflowDefinition, in work: UnitOfWork) throws -> [(param: String, instance: InstanceState)] {
        var result: [(String, InstanceState)] = []
        for param in definition.params where param.type == .instance {
            guard let text = params[param.name], let id = Int64(text) else { continue }
            guard let linked = try work.instance(id) else {
                throw EngineError(.badParams, "parameter '\(param.name)': no instance \(id)")
            }
            if let workflows = param.workflows, !workflows.contains(linked.workflow) {
                throw EngineError(.badParams, "parameter '\(param.name)': instance \(id) is a \(linked.workflow); expected an instance of \(workflows.joined(separator: " or "))")
            }
            if let unit = params["unit"], let other = linked.unit, unit != other {
                throw EngineError(.badParams, "parameter '\(param.name)': instance \(id) is for unit \(other), not \(unit)")
            }
            result.append((param.name, linked))
        }
        return result
    }

    /// Records each link in the linked instance's own ledger rows, so its audit lists them.
    func recordLinks(_ links: [(param: String, instance: InstanceState)], from instance: InstanceState, actor: String, in work: UnitOfWork, now: Date) {
        for link in links {
            work.record(at: now, actor: actor, instance: link.instance.id, step: nil, .instanceLinked,
                        "关联流程：\(instance.definition.title) #\(instance.id)",
                        fields: ["instance": "\(instance.id)", "workflow": instance.workflow, "param": link.param])
        }
    }
}
