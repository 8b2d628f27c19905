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

/// `ack.requires`: an acknowledgement that points to another instance's result.
extension WorkflowEngine {
    /// The fields with each required instance filled in (the one given, else the newest
    /// instance of that workflow for the unit whose step is done), and the links to record.
    /// - Throws: `EngineError` `prerequisite_missing` when there is no such result, or
    ///   `bad_field` when the instance given is not one.
    func requiredResults(_ fields: [String: String], of step: String, of instance: InstanceState, in work: UnitOfWork) throws -> ([String: String], [(param: String, instance: InstanceState)]) {
        guard let requirements = instance.definition.step(step)?.ack?.requires, !requirements.isEmpty else { return (fields, []) }
        var fields = fields
        var links: [(param: String, instance: InstanceState)] = []
        for requirement in requirements {
            let workflow = requirement.workflow.value
            let title = registry.current[workflow]?.definition.title ?? workflow
            func satisfies(_ other: InstanceState) -> Bool {
                other.workflow == workflow && other.unit == instance.unit && other.steps[requirement.step]?.state == .done
            }
            if let text = fields[requirement.field] {
                guard let id = Int64(text), let other = try work.instance(id) else {
                    throw EngineError(.badField, "'\(requirement.field)' names an instance of \(workflow) (huaying instances --workflow \(workflow)); not '\(text)'")
                }
                guard satisfies(other) else {
                    throw EngineError(.prerequisiteMissing, "instance \(id) is not a \(workflow) of \(instance.unit ?? "this unit") whose step '\(requirement.step)' is done; \(title)的结果尚未产生")
                }
                links.append((requirement.field, other))
                continue
            }
            let candidates = try instances(.init(workflow: workflow, onlyUnits: instance.unit.map { [$0] }))
            var found: InstanceState?
            for candidate in candidates.sorted(by: { $0.id > $1.id }) {
                if let other = try work.instance(Int64(candidate.id)), satisfies(other) { found = other; break }
            }
            guard let found else {
                throw EngineError(.prerequisiteMissing, "no \(workflow) instance of \(instance.unit ?? "this unit") has completed '\(requirement.step)' yet (\(title)); acknowledge once it has, or give --set \(requirement.field)=ID")
            }
            fields[requirement.field] = "\(found.id)"
            links.append((requirement.field, found))
        }
        return (fields, links)
    }
}
