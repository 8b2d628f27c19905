import Foundation
import Yams

/// Parses and validates workflow files against the calendars, the org chart and the plugins.
///
/// Every problem in a file is reported (not only the first), each at `file:line:col` and
/// saying what was expected. A file with errors yields no definition.
public struct WorkflowChecker: Sendable {
    public var calendars: CalendarLibrary?
    public var orgChart: OrgChart?
    public var plugins: StepPluginRegistry
    /// The ids of the other workflows that can be started (`lint` of several files, the
    /// daemon's loaded set): a `then:` naming none of them is a warning. Nil skips the check.
    public var knownWorkflows: Set<String>?
    /// The deployment's settings (HuayingConfig.settings): a formula reading a setting that is
    /// not given is an error. Nil skips that check.
    public var settings: [String: Int]? = nil
    /// The most steps one file may have (`defaultMaximumSteps`); more are refused at the first
    /// step past the limit, before any cross-step check runs.
    public var maximumSteps: Int

    /// The documented limit of steps per workflow file.
    public static let defaultMaximumSteps = 1000

    /// - Parameters:
    ///   - calendars: checks `calendar:` and uncovered years; nil skips those checks.
    ///   - orgChart: checks role references; nil skips that check (e.g. when the chart is broken).
    ///   - knownWorkflows: checks `then.start`; nil skips that check.
    public init(calendars: CalendarLibrary?, orgChart: OrgChart?, plugins: StepPluginRegistry = .builtIn,
                knownWorkflows: Set<String>? = nil, maximumSteps: Int = WorkflowChecker.defaultMaximumSteps) {
        self.calendars = calendars
        self.orgChart = orgChart
        self.plugins = plugins
        self.knownWorkflows = knownWorkflows
        self.maximumSteps = maximumSteps
    }

    /// The top-level keys of a workflow file.
    public static let topLevelKeys = ["workflow", "title", "description", "params", "calendar", "default_time", "steps", "trigger", "then"]
    /// Names a parameter may not take.
    public static let reservedNames = ["start", "steps", "workflow", "instance"]

    /// Reads and checks one file.
    public func check(path: String) -> (definition: WorkflowDefinition?, diagnostics: [Diagnostic]) {
        do {
            return check(try YAMLFile(path: path))
        } catch {
            return (nil, [error])
        }
    }

    /// Reads and checks one file.
    /// - Throws: `DiagnosticsError` when the file has errors (warnings alone do not throw).
    public func load(path: String) throws(DiagnosticsError) -> WorkflowDefinition {
        let result = check(path: path)
        guard let definition = result.definition else { throw DiagnosticsError(result.diagnostics) }
        return definition
    }

    /// Checks a composed file.
    public func check(_ file: YAMLFile) -> (definition: WorkflowDefinition?, diagnostics: [Diagnostic]) {
        var run = Run(file: file, checker: self)
        let definition = run.parse()
        let diagnostics = run.diagnostics.sortedByPosition()
        if diagnostics.contains(where: { $0.severity == .error }) { return (nil, diagnostics) }
        return (definition, diagnostics)
    }
}

/// One pass over one file.
private struct Run {
    let file: YAMLFile
    let checker: WorkflowChecker
    var diagnostics: [Diagnostic] = []
    var params: [ParamDefinition] = []
    var pendingDefaults: [(index: Int, text: String, node: Node)] = []
    var calendar: WorkCalendar?
    /// Template and time references to steps, checked once all step ids are known: the step
    /// named, the step whose text or time reads it (nil outside steps, e.g. in `then:`), and
    /// the result read (nil for a time expression's `steps.<id>.done`).
    var stepReferences: [(id: String, location: SourceLocation, from: String?, field: String?)] = []
    /// The step being read, for `stepReferences`.
    var currentStep: String?
    /// References written in a step's own `then:`, which runs once that step has completed: the
    /// step itself and the steps it waits for have values there.
    var chainReferences: [(id: String, location: SourceLocation, from: String, field: String?)] = []
    /// While a step's `then:` is read: that step's id.
    var chainStep: String?
    /// While a step's `with:` is checked: whether that step has a `deadline:` and an `ack:`, for
    /// `{{deadline}}` and `{{ack_by}}` (nil outside a step).
    var templateStep: (hasDeadline: Bool, hasAck: Bool)?
    /// The file's lines, split once (`contentLocation` needs them for every placeholder).
    let lines: [Substring]

    init(file: YAMLFile, checker: WorkflowChecker) {
        self.file = file
        self.checker = checker
        self.lines = file.text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    mutating func error(_ location: SourceLocation, _ message: String) { diagnostics.append(.error(location, message)) }
    mutating func warning(_ location: SourceLocation, _ message: String) { diagnostics.append(.warning(location, message)) }

    mutating func parse() -> WorkflowDefinition? {
        guard let root = file.root else {
            error(file.start, "the workflow file is empty; expected keys: workflow, title, steps")
            return nil
        }
        guard var top = MappingReader(root, in: file, what: "the workflow file", diagnostics: &diagnostics) else { return nil }
        let id = top.string("workflow", required: true)
        if let id, let node = top.value("workflow"), !RoleReference.isIdentifier(id) {
            error(file.location(of: node), "workflow id '\(id)' must be ASCII letters, digits, '-' or '_' (such as election-cycle)")
        }
        let title = top.string("title", required: true)
        _ = top.string("description")

        if let node = top.value("params") { parseParams(node) }

        let calendarID = top.string("calendar") ?? "cn-mainland"
        let calendarLocation = top.value("calendar").map(file.location(of:)) ?? file.location(of: root)
        if let library = checker.calendars {
            calendar = library[calendarID]
            if calendar == nil {
                let known = library.ids.isEmpty ? "none is loaded" : library.ids.joined(separator: ", ")
                error(calendarLocation, "unknown calendar '\(calendarID)'; expected one of the calendars in the calendars folder: \(known)")
            }
        }

        var defaultTime = TimeOfDay(hour: 9, minute: 0)!
        if let text = top.string("default_time"), let node = top.value("default_time") {
            if let time = TimeOfDay(text) {
                defaultTime = time
            } else {
                error(file.location(of: node), "'default_time' must be a time of day HH:MM such as \"09:00\"; found '\(text)'")
            }
        }
        for param in params { checkParamDefault(param) }

        var steps: [StepDefinition] = []
        var tooManySteps = false
        if let nodes = top.sequence("steps", required: true) {
            if nodes.isEmpty, let node = top.value("steps") {
                error(file.location(of: node), "'steps' is empty; expected at least one step")
            }
            if nodes.count > checker.maximumSteps {
                // Refused whole: the cross-step checks are not worth running on such a file.
                tooManySteps = true
                error(file.location(of: nodes[checker.maximumSteps]), "a workflow file may have at most \(checker.maximumSteps) steps, this one has \(nodes.count); expected the routine split into workflows that start each other with 'then:'")
            } else {
                for node in nodes {
                    if let step = parseStep(node) { steps.append(step) }
                }
            }
        }
        currentStep = nil
        let trigger = top.mapping("trigger").flatMap { parseTrigger($0) }
        let then = top.sequence("then").map { $0.compactMap { parseChain($0) } } ?? []
        diagnostics += top.finish()
        if tooManySteps { return nil }
        checkSteps(steps)
        checkChains(then + steps.flatMap(\.then), workflow: id)
        checkRequiredWorkflows(steps.flatMap { $0.ack?.requires ?? [] }, workflow: id)
        guard let id, let title, let idNode = top.value("workflow") else { return nil }
        return WorkflowDefinition(
            id: Located(id, at: file.location(of: idNode)),
            title: title,
            params: params,
            calendar: Located(calendarID, at: calendarLocation),
            defaultTime: defaultTime,
            steps: steps,
            file: file.path,
            trigger: trigger,
            then: then
        )
    }

    // MARK: Trigger and chaining

    mutating func parseTrigger(_ reader: MappingReader) -> TriggerDefinition? {
        var reader = reader
        defer { diagnostics += reader.finish() }
        guard let everyText = reader.choice("every", from: TriggerDefinition.Period.allCases.map(\.rawValue), required: true),
              let every = TriggerDefinition.Period(rawValue: everyText) else { return nil }
        guard let on = reader.string("on", required: true), let onNode = reader.value("on") else { return nil }
        var month: Int?
        var day: Int?
        if every == .year {
            let parts = on.split(separator: "-").map { Int($0) }
            if parts.count == 2, let m = parts[0], let d = parts[1], (1...12).contains(m), (1...31).contains(d) { month = m; day = d }
        } else if let d = Int(on), (1...31).contains(d) {
            day = d
        }
        guard let day else {
            error(file.location(of: onNode), every == .year
                  ? "'trigger.on' must be a month and day MM-DD such as \"12-01\"; found '\(on)'"
                  : "'trigger.on' must be a day of the month 1–31 such as \"15\"; found '\(on)'")
            return nil
        }
        var time: TimeOfDay?
        if let text = reader.string("at"), let node = reader.value("at") {
            time = TimeOfDay(text)
            if time == nil { error(file.location(of: node), "'trigger.at' must be a time of day HH:MM; found '\(text)'") }
        }
        var kinds: [UnitKind] = []
        if let node = reader.value("units", required: true) {
            for item in (node.sequence.map(Array.init) ?? [node]) {
                if let text = item.scalar?.string, let kind = UnitKind(rawValue: text) {
                    kinds.append(kind)
                } else {
                    error(file.location(of: item), "'trigger.units' lists unit kinds; expected some of: \(UnitKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
            }
        }
        if !params.contains(where: { $0.name == "unit" && $0.type == .unit }) {
            error(file.location(of: reader.node), "a triggered workflow starts one instance per unit; expected a parameter 'unit' of type unit")
        }
        for param in params where param.name != "unit" && param.defaultText == nil {
            error(param.location, "parameter '\(param.name)' has no default, but a triggered workflow is started without parameters; expected a 'default:'")
        }
        var spread: TriggerDefinition.Spread?
        if var spreadReader = reader.mapping("spread") {
            let param = spreadReader.string("param", required: true)
            let paramLocation = spreadReader.value("param").map(file.location(of:)) ?? file.location(of: spreadReader.node)
            var offset: TimeOffset?
            if let text = spreadReader.string("every", required: true), let node = spreadReader.value("every") {
                offset = duration(text, node: node, key: "trigger.spread.every")
            }
            diagnostics += spreadReader.finish()
            if let param {
                if let definition = params.first(where: { $0.name == param }), definition.type == .date, definition.defaultText != nil {
                    if let offset { spread = .init(param: param, every: offset, location: paramLocation) }
                } else {
                    error(paramLocation, "'trigger.spread.param' names '\(param)'; expected a date parameter with a default, such as meeting_day")
                }
            }
        }
        var trigger = TriggerDefinition(every: every, month: month, day: day, time: time, unitKinds: kinds, location: file.location(of: reader.node))
        trigger.spread = spread
        return trigger
    }

    mutating func parseChain(_ node: Node) -> ChainDefinition? {
        guard var reader = MappingReader(node, in: file, what: "an entry of 'then'", diagnostics: &diagnostics) else { return nil }
        defer { diagnostics += reader.finish() }
        guard let workflow = reader.string("start", required: true), let workflowNode = reader.value("start") else { return nil }
        if !RoleReference.isIdentifier(workflow) {
            error(file.location(of: workflowNode), "'then.start' names a workflow id such as pre-appointment-talk; found '\(workflow)'")
        }
        var forEach: String?
        if let node = reader.value("for_each") {
            let value = YAMLValue(node, in: file)
            forEach = value.string
            checkTemplate(value)
        }
        var params: [Located<String>: String] = [:]
        if var paramsReader = reader.mapping("params") {
            if case let .mapping(mapping) = paramsReader.node {
                for (keyNode, valueNode) in mapping {
                    guard let name = keyNode.scalar?.string else { continue }
                    _ = paramsReader.value(name)
                    let value = YAMLValue(valueNode, in: file)
                    checkTemplate(value)
                    params[Located(name, at: file.location(of: keyNode))] = value.string ?? ""
                }
            }
            diagnostics += paramsReader.finish()
        }
        return ChainDefinition(workflow: Located(workflow, at: file.location(of: workflowNode)), forEach: forEach, params: params,
                               location: file.location(of: node))
    }

    // MARK: Params

    mutating func parseParams(_ node: Node) {
        guard case let .mapping(mapping) = node else {
            error(file.location(of: node), "'params' must be a mapping of parameter names to { type, title }, found \(node.kindName)")
            return
        }
        for (keyNode, value) in mapping {
            let location = file.location(of: keyNode)
            guard let name = keyNode.scalar?.string, TimeExpressionParser.isParameterName(name) else {
                error(location, "parameter name '\(keyNode.scalar?.string ?? keyNode.kindName)' must be ASCII letters, digits and '_', starting with a letter (such as election_day)")
                continue
            }
            if WorkflowChecker.reservedNames.contains(name) {
                error(location, "'\(name)' is a reserved word; expected another parameter name (reserved: \(WorkflowChecker.reservedNames.joined(separator: ", ")))")
                continue
            }
            if params.contains(where: { $0.name == name }) {
                error(location, "duplicate parameter '\(name)'")
                continue
            }
            guard var reader = MappingReader(value, in: file, what: "parameter '\(name)'", diagnostics: &diagnostics) else { continue }
            let type = reader.choice("type", from: ParamType.allCases.map(\.rawValue), required: true).flatMap(ParamType.init(rawValue:))
            let title = reader.string("title") ?? name
            let defaultText = reader.string("default")
            var kinds: [UnitKind]?
            if let nodes = reader.sequence("kinds", allowSingle: true) {
                kinds = []
                for kindNode in nodes {
                    guard let text = file.text(kindNode, what: "a unit kind", diagnostics: &diagnostics) else { continue }
                    if let kind = UnitKind(rawValue: text) {
                        kinds?.append(kind)
                    } else {
                        error(file.location(of: kindNode), "unknown unit kind '\(text)'; expected one of: \(UnitKind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                }
                if type != .unit, let kindsNode = reader.value("kinds") {
                    error(file.location(of: kindsNode), "'kinds' applies only to parameters of type unit")
                }
            }
            var workflows: [String]?
            if let nodes = reader.sequence("workflows", allowSingle: true) {
                workflows = nodes.compactMap { file.text($0, what: "a workflow id", diagnostics: &diagnostics) }
                if type != .instance, let node = reader.value("workflows") {
                    error(file.location(of: node), "'workflows' applies only to parameters of type instance")
                }
            }
            diagnostics += reader.finish()
            guard let type else { continue }
            if let defaultText, let node = reader.value("default"), type == .date || type == .datetime {
                pendingDefaults.append((params.count, defaultText, node))
            }
            var param = ParamDefinition(name: name, type: type, title: title, defaultText: defaultText, kinds: kinds, location: location)
            param.workflows = workflows
            params.append(param)
        }
        // Defaults may name parameters declared later, so they are read once all are known.
        for (index, text, node) in pendingDefaults {
            params[index].defaultExpression = timeExpression(text, node: node)
        }
        // Defaults that wait for each other in a circle never get a value.
        for param in params {
            var seen = [param.name]
            var next = param.defaultExpression?.parameters.first
            while let name = next, let other = params.first(where: { $0.name == name }) {
                if name == param.name {
                    if seen.count > 1, param.name == seen.min() {
                        error(param.location, "parameter defaults form a cycle: \((seen + [name]).joined(separator: " → ")); expected at least one of them to be given or to have a fixed default")
                    }
                    break
                }
                if seen.contains(name) { break }
                seen.append(name)
                next = other.defaultExpression?.parameters.first
            }
        }
    }

    mutating func checkParamDefault(_ param: ParamDefinition) {
        guard let text = param.defaultText else { return }
        switch param.type {
        case .date, .datetime:
            if let expression = param.defaultExpression {
                if expression.parameters.contains(param.name) {
                    error(param.location, "the default of '\(param.name)' refers to itself; expected other parameters or a date")
                }
                if !expression.steps.isEmpty {
                    error(param.location, "the default of '\(param.name)' cannot use a step's completion; expected parameters, 'start' or a date")
                }
            }
        case .number:
            if Int(text) == nil { error(param.location, "the default of '\(param.name)' must be a whole number; found '\(text)'") }
        case .instance:
            error(param.location, "'\(param.name)' links to another instance, which has no default; expected no 'default:'")
        case .unit:
            if let chart = checker.orgChart, chart.units[text] == nil {
                error(param.location, "the default of '\(param.name)' is not a unit of the org chart: '\(text)'")
            }
        case .text:
            break
        }
    }

    // MARK: Steps

    mutating func parseStep(_ node: Node) -> StepDefinition? {
        let name = node["id"]?.string.map { "step '\($0)'" } ?? "a step"
        guard var reader = MappingReader(node, in: file, what: name, diagnostics: &diagnostics) else { return nil }
        let id = reader.string("id", required: true)
        currentStep = id
        let what = id.map { "step '\($0)'" } ?? "a step"
        if let id, let idNode = reader.value("id"), !RoleReference.isIdentifier(id) {
            error(file.location(of: idNode), "step id '\(id)' must be ASCII letters, digits, '-' or '_' (such as publish-voter-list)")
        }
        let title = reader.string("title", required: true)
        var at: Located<TimeExpression>?
        if let text = reader.string("at"), let atNode = reader.value("at") {
            at = timeExpression(text, node: atNode).map { Located($0, at: file.location(of: atNode)) }
        }
        var deadline: Located<TimeExpression>?
        if let text = reader.string("deadline"), let deadlineNode = reader.value("deadline") {
            deadline = timeExpression(text, node: deadlineNode).map { Located($0, at: file.location(of: deadlineNode)) }
        }
        var after: [Located<String>] = []
        for afterNode in reader.sequence("after", allowSingle: true) ?? [] {
            if let text = file.text(afterNode, what: "an 'after' entry", diagnostics: &diagnostics) {
                after.append(Located(text, at: file.location(of: afterNode)))
            }
        }
        let uses = reader.string("uses", required: true)
        let usesLocation = reader.value("uses").map(file.location(of:)) ?? file.location(of: node)
        let withNode = reader.value("with")
        let with = withNode.map { YAMLValue($0, in: file) }
        let (notify, urgent) = notification(&reader)
        templateStep = (deadline != nil, reader.value("ack") != nil)
        if let uses { validatePluginInput(plugin: uses, input: with, stepID: id ?? "?", usesLocation: usesLocation) }
        templateStep = nil

        var ack: AckPolicy?
        if var ackReader = reader.mapping("ack") {
            var policy = AckPolicy(location: file.location(of: ackReader.node))
            if let text = ackReader.string("within"), let n = ackReader.value("within") { policy.within = duration(text, node: n, key: "ack.within") }
            if let text = ackReader.string("repeat"), let n = ackReader.value("repeat") { policy.repeat = duration(text, node: n, key: "ack.repeat") }
            policy.maxRepeats = ackReader.integer("max_repeats", in: 0...10_000)
            if let text = ackReader.string("repeat_until"), let n = ackReader.value("repeat_until") {
                policy.repeatUntil = timeExpression(text, node: n).map { Located($0, at: file.location(of: n)) }
            }
            if let node = ackReader.value("fields") {
                for item in (node.sequence.map(Array.init) ?? [node]) {
                    if let name = item.scalar?.string, RoleReference.isIdentifier(name) {
                        policy.fields.append(name)
                    } else {
                        error(file.location(of: item), "'ack.fields' lists field names (ASCII letters, digits, '-', '_'), such as [heads]")
                    }
                }
            }
            if var requiresReader = ackReader.mapping("requires") {
                if case let .mapping(mapping) = requiresReader.node {
                    for (keyNode, valueNode) in mapping {
                        guard let field = keyNode.scalar?.string else { continue }
                        _ = requiresReader.value(field)
                        let location = file.location(of: keyNode)
                        guard var entry = MappingReader(valueNode, in: file, what: "'ack.requires.\(field)'", diagnostics: &diagnostics) else { continue }
                        let workflow = entry.string("workflow", required: true)
                        let workflowLocation = entry.value("workflow").map(file.location(of:)) ?? location
                        let step = entry.string("step", required: true)
                        diagnostics += entry.finish()
                        if !policy.fields.contains(field) {
                            error(location, "'ack.requires' names field '\(field)', which is not in 'ack.fields'; expected it listed there too (the acknowledgement may give the instance id)")
                        }
                        if let workflow, let step {
                            policy.requires.append(AckRequirement(field: field, workflow: Located(workflow, at: workflowLocation), step: step, location: location))
                        }
                    }
                }
                diagnostics += requiresReader.finish()
            }
            if var escalateReader = ackReader.mapping("escalate") {
                let plugin = escalateReader.string("uses") ?? "escalate"
                let pluginLocation = escalateReader.value("uses").map(file.location(of:)) ?? file.location(of: escalateReader.node)
                let escalateWith = escalateReader.value("with").map { YAMLValue($0, in: file) }
                validatePluginInput(plugin: plugin, input: escalateWith, stepID: id ?? "?", usesLocation: pluginLocation)
                diagnostics += escalateReader.finish()
                policy.escalate = EscalationPolicy(uses: Located(plugin, at: pluginLocation), with: escalateWith, location: file.location(of: escalateReader.node))
                if policy.within == nil && deadline == nil {
                    error(file.location(of: escalateReader.node), "\(what) escalates but has neither 'ack.within' nor 'deadline'; expected one of them to say when escalation starts")
                }
                // An escalation level naming a role the reminder already goes to tells no one new.
                let recipients = Set((with?["to"].flatMap { $0.items ?? [$0] } ?? []).compactMap(\.string))
                for (index, level) in (escalateWith?["chain"]?.items ?? []).enumerated() {
                    if let reference = level.string, recipients.contains(reference) {
                        warning(level.location, "escalation level \(index + 1) goes to \(reference), who already has the reminder; expected someone new, such as the next level up")
                    }
                }
            }
            diagnostics += ackReader.finish()
            ack = policy
        }
        var then: [ChainDefinition] = []
        if let nodes = reader.sequence("then") {
            chainStep = id ?? "?"
            then = nodes.compactMap { parseChain($0) }
            chainStep = nil
        }
        diagnostics += reader.finish()
        guard let id, let title, let uses, let idNode = reader.value("id") else { return nil }
        var step = StepDefinition(
            id: Located(id, at: file.location(of: idNode)), title: title, at: at, after: after,
            deadline: deadline, uses: Located(uses, at: usesLocation), with: with, ack: ack,
            location: file.location(of: node), notify: notify, urgent: urgent
        )
        step.then = then
        return step
    }

    /// `notify:` (notifier plugin names) and `urgent:` of a step. A name that is not a loaded
    /// notifier is a warning: the reminders still reach the inbox.
    mutating func notification(_ reader: inout MappingReader) -> (notify: [Located<String>]?, urgent: Bool) {
        var notify: [Located<String>]?
        if let nodes = reader.sequence("notify", allowSingle: true) {
            notify = []
            for node in nodes {
                guard let name = file.text(node, what: "a 'notify' entry", diagnostics: &diagnostics) else { continue }
                let location = file.location(of: node)
                if !checker.plugins.notifiers.contains(name) {
                    let known = checker.plugins.notifiers.sorted()
                    warning(location, "'\(name)' is not a loaded notifier plugin, so these reminders reach the inbox only; " +
                            (known.isEmpty ? "no notifier is installed in the plugins folder" : "expected one of: \(known.joined(separator: ", "))"))
                }
                notify?.append(Located(name, at: location))
            }
        }
        let urgent = reader.choice("urgent", from: ["true", "false"]) == "true"
        return (notify, urgent)
    }

    mutating func validatePluginInput(plugin: String, input: YAMLValue?, stepID: String, usesLocation: SourceLocation) {
        guard let validator = checker.plugins[plugin] else {
            error(usesLocation, "unknown plugin '\(plugin)' in 'uses'; expected one of: \(checker.plugins.names.joined(separator: ", "))")
            return
        }
        var check = StepInputCheck(stepID: stepID, plugin: plugin, usesLocation: usesLocation)
        validator.validate(input, check: &check)
        diagnostics += check.diagnostics
        for value in check.templates { checkTemplate(value) }
        for (reference, location) in check.roleReferences { checkRoleReference(reference, at: location) }
    }

    mutating func duration(_ text: String, node: Node, key: String) -> TimeOffset? {
        do {
            let offset = try TimeOffset.parse(text)
            if offset.amount == 0 { error(file.location(of: node), "'\(key)' must be longer than zero; expected a duration such as '2 days'") }
            return offset
        } catch {
            self.error(file.location(in: node, offset: error.offset), "'\(key)': \(error.message)")
            return nil
        }
    }

    // MARK: Expressions, templates, roles

    /// Parses a time expression at a node and checks the names it reads.
    mutating func timeExpression(_ text: String, node: Node) -> TimeExpression? {
        do {
            let expression = try TimeExpression.parse(text)
            checkNames(in: expression, at: file.location(of: node), inTemplate: false)
            return expression
        } catch {
            self.error(file.location(in: node, offset: error.offset), "cannot read time expression: \(error.message)")
            return nil
        }
    }

    /// - Parameter inTemplate: the expression is shown in text (`{{…}}`), so a step it reads
    ///   is not something the step waits for, unlike in `at:` and `deadline:`.
    mutating func checkNames(in expression: TimeExpression, at location: SourceLocation, inTemplate: Bool) {
        for name in expression.parameters {
            guard let param = params.first(where: { $0.name == name }) else {
                error(location, "parameter '\(name)' is used but not declared; expected one of the params: \(declaredNames)")
                continue
            }
            if param.type != .date && param.type != .datetime {
                error(location, "parameter '\(name)' is of type \(param.type.rawValue); expected a date or datetime parameter in a time expression")
            }
        }
        if case let .stepFieldDate(step, field) = expression.base {
            // A date field: declared in that step's ack.fields (its value is checked as a date when given).
            stepReferences.append((step, location, currentStep, "fields." + field))
        } else {
            for step in expression.steps { stepReferences.append((step, location, currentStep, inTemplate ? "done" : nil)) }
        }
        for name in expression.settings {
            if HuayingConfig.knownSettings[name] == nil {
                error(location, "unknown setting 'settings.\(name)'; expected one of: \(HuayingConfig.knownSettings.keys.sorted().map { "settings." + $0 }.joined(separator: ", "))")
            } else if let settings = checker.settings, settings[name] == nil {
                error(location, "'settings.\(name)' is a deployment setting that huaying.yaml does not give; expected \(HuayingConfig.settingHelp(name))")
            }
        }
        if expression.spanInDays > TimeExpression.maximumSpanInDays {
            error(location, "'\(expression)' moves more than \(Int(TimeExpression.maximumSpanInDays / 365.25)) years from its base; expected a smaller offset")
        }
        if case let .date(date) = expression.base { checkCovered(date, at: location) }
        if case let .dateTime(dateTime) = expression.base { checkCovered(dateTime.date, at: location) }
        if expression.adjustment == .civilDeadline && expression.countsBackwards {
            warning(location, "'civil-deadline' (民法典 art. 203) applies to periods counted forward, but '\(expression)' counts backwards; expected 'previous-workday' for a latest date before an event")
        }
    }

    var declaredNames: String {
        params.isEmpty ? "(none declared)" : params.map(\.name).joined(separator: ", ")
    }

    mutating func checkCovered(_ date: CivilDate, at location: SourceLocation) {
        guard let calendar, !calendar.covers(year: date.year) else { return }
        let covered = calendar.coveredYears.map(String.init).joined(separator: ", ")
        warning(location, "\(date) lies in \(date.year), which calendar '\(calendar.id)' does not cover (it covers \(covered)); workdays there are counted from \(calendar.provisionalBasis(year: date.year)) and marked provisional")
    }

    mutating func checkTemplate(_ value: YAMLValue) {
        guard let text = value.string else { return }
        let placeholders: [Template.Placeholder]
        do {
            placeholders = try Template.placeholders(in: text)
        } catch {
            self.error(contentLocation(value.location, offset: error.offset, text: text), "bad template: \(error.message)")
            return
        }
        for placeholder in placeholders {
            let location = contentLocation(value.location, offset: placeholder.offset, text: text)
            do {
                switch try Template.reference(placeholder.text) {
                case let .param(name, attribute):
                    guard let param = params.first(where: { $0.name == name }) else {
                        error(location, "parameter '\(name)' is used in '{{\(placeholder.text)}}' but not declared; expected one of the params: \(declaredNames)")
                        continue
                    }
                    if let attribute {
                        if param.type != .unit {
                            error(location, "'\(name)' is a \(param.type.rawValue) parameter and has no '.\(attribute)'; expected '{{\(name)}}'")
                        } else if !Template.unitAttributes.contains(attribute) {
                            error(location, "unknown unit attribute '\(attribute)'; expected one of: \(Template.unitAttributes.joined(separator: ", "))")
                        }
                    }
                case let .step(id, field):
                    if let chainStep {
                        chainReferences.append((id, location, chainStep, field))
                    } else {
                        stepReferences.append((id, location, currentStep, field))
                    }
                case let .builtIn(name) where Template.stepBuiltIns.contains(name):
                    // {{deadline}} / {{ack_by}}: the step's own computed times.
                    guard let step = templateStep else {
                        error(location, "'{{\(name)}}' is the time of the step it is written in; it is known only in a step's 'with:'")
                        continue
                    }
                    if name == "deadline" && !step.hasDeadline {
                        error(location, "'{{deadline}}' is used but this step has no 'deadline:'; add one or write the date as a time expression")
                    }
                    if name == "ack_by" && !step.hasAck {
                        error(location, "'{{ack_by}}' is used but this step has no 'ack:'; expected an acknowledged step")
                    }
                case .builtIn:
                    break
                case let .time(expression):
                    checkNames(in: expression, at: location, inTemplate: true)
                }
            } catch {
                self.error(location.advanced(by: error.offset), "cannot read '{{\(placeholder.text)}}': \(error.message)")
            }
        }
    }

    /// The location of `offset` inside a one-line scalar written at `location` (skipping an
    /// opening quote found in the source).
    func contentLocation(_ location: SourceLocation, offset: Int, text: String) -> SourceLocation {
        guard !text.contains("\n") else { return location }
        guard location.line - 1 < lines.count else { return location }
        let line = Array(lines[location.line - 1].unicodeScalars)
        var result = location
        if location.column - 1 < line.count {
            let c = line[location.column - 1]
            if c == "\"" || c == "'" { result.column += 1 }
            else if c == "|" || c == ">" { return location }
        }
        result.column += offset
        return result
    }

    mutating func checkRoleReference(_ reference: RoleReference, at location: SourceLocation) {
        if reference.scope == .ownUnit {
            guard let unitParam = params.first(where: { $0.name == "unit" }), unitParam.type == .unit else {
                error(location, "'\(reference)' refers to the instance's unit, but the workflow has no parameter 'unit' of type unit; expected params: { unit: { type: unit } }")
                return
            }
        }
        guard let chart = checker.orgChart else { return }
        let kinds = params.first(where: { $0.name == "unit" })?.kinds.map(Set.init)
        if let problem = chart.problem(with: reference, instanceKinds: kinds) {
            error(location, problem)
        }
    }

    // MARK: Cross-step checks

    mutating func checkSteps(_ steps: [StepDefinition]) {
        var byID: [String: StepDefinition] = [:]
        for step in steps {
            if let first = byID[step.id.value] {
                error(step.id.location, "duplicate step id '\(step.id.value)' (first given on line \(first.id.location.line)); expected each step id once")
            } else {
                byID[step.id.value] = step
            }
        }
        let list = byID.isEmpty ? "(no steps)" : byID.keys.sorted().joined(separator: ", ")
        for step in steps {
            for dependency in step.after {
                if byID[dependency.value] == nil {
                    error(dependency.location, "'after' names unknown step '\(dependency.value)'; expected one of: \(list)")
                } else if dependency.value == step.id.value {
                    error(dependency.location, "step '\(step.id.value)' waits for itself in 'after'; expected another step")
                }
            }
            for expression in [step.at, step.deadline].compactMap({ $0 }) where expression.value.steps.contains(step.id.value) {
                error(expression.location, "step '\(step.id.value)' waits for its own completion in '\(expression.value)'; expected another step's steps.<id>.done")
            }
        }
        // Built on the first reference that needs it: a file without such references pays nothing.
        var reachability: StepReachability?
        for reference in stepReferences {
            guard let target = byID[reference.id] else {
                error(reference.location, "unknown step '\(reference.id)' in steps.\(reference.id); expected one of: \(list)")
                continue
            }
            guard let field = reference.field else { continue }
            if field.hasPrefix("fields.") {
                let name = String(field.dropFirst("fields.".count))
                let declared = target.ack?.fields ?? []
                if !declared.contains(name) {
                    let expected = declared.isEmpty ? "'ack: { fields: [\(name)] }' in step '\(reference.id)'" : "one of its ack.fields: \(declared.joined(separator: ", "))"
                    error(reference.location, "step '\(reference.id)' has no acknowledgement field '\(name)'; expected \(expected)")
                }
            }
            // Text of a step is shown while that step runs: what it reads must be done by then.
            guard let from = reference.from, byID[from] != nil else { continue }
            if from == reference.id {
                error(reference.location, "step '\(from)' shows its own steps.\(from).\(field), which has no value while the step runs; expected a step it waits for")
                continue
            }
            if reachability == nil { reachability = StepReachability(byID) }
            if !reachability!.waits(from, for: reference.id) {
                error(reference.location, "step '\(from)' shows steps.\(reference.id).\(field), but does not wait for '\(reference.id)', so it may run before that has a value; expected '\(reference.id)' in its 'after:' (directly or through another step)")
            }
        }
        checkChainReferences(byID: byID, list: list, reachability: &reachability)
        checkCycles(steps)
    }

    /// A step's `then:` runs when that step has completed: it may read the step's own results
    /// and those of the steps it waits for, and `fields.<name>` must be declared.
    mutating func checkChainReferences(byID: [String: StepDefinition], list: String, reachability: inout StepReachability?) {
        for reference in chainReferences {
            guard let target = byID[reference.id] else {
                error(reference.location, "unknown step '\(reference.id)' in steps.\(reference.id); expected one of: \(list)")
                continue
            }
            if let field = reference.field, field.hasPrefix("fields.") {
                let name = String(field.dropFirst("fields.".count))
                let declared = target.ack?.fields ?? []
                if !declared.contains(name) {
                    let expected = declared.isEmpty ? "'ack: { fields: [\(name)] }' in step '\(reference.id)'" : "one of its ack.fields: \(declared.joined(separator: ", "))"
                    error(reference.location, "step '\(reference.id)' has no acknowledgement field '\(name)'; expected \(expected)")
                }
            }
            guard reference.id != reference.from, byID[reference.from] != nil else { continue }
            if reachability == nil { reachability = StepReachability(byID) }
            if !reachability!.waits(reference.from, for: reference.id) {
                error(reference.location, "the 'then:' of step '\(reference.from)' reads steps.\(reference.id), but '\(reference.from)' does not wait for '\(reference.id)', so it may have no value when the chain starts; expected the step itself or one it waits for")
            }
        }
    }

    /// `then.start` names a workflow that can be started (when the checker knows which).
    mutating func checkChains(_ chains: [ChainDefinition], workflow: String?) {
        guard let known = checker.knownWorkflows else { return }
        for chain in chains where chain.workflow.value != workflow && !known.contains(chain.workflow.value) {
            let choices = known.subtracting([workflow].compactMap { $0 }).sorted()
            warning(chain.workflow.location, "'then' starts workflow '\(chain.workflow.value)', which is not among the workflows checked with it; expected one of: \(choices.isEmpty ? "(none)" : choices.joined(separator: ", ")) (else the chain fails when the instance completes)")
        }
    }

    /// `ack.requires` names a workflow that can be checked (when the checker knows which).
    mutating func checkRequiredWorkflows(_ requirements: [AckRequirement], workflow: String?) {
        guard let known = checker.knownWorkflows else { return }
        for requirement in requirements where !known.contains(requirement.workflow.value) {
            warning(requirement.workflow.location, "'ack.requires' waits for workflow '\(requirement.workflow.value)', which is not among the workflows checked with it (else every acknowledgement is refused)")
        }
    }

    /// Reports each dependency cycle once, at the dependency of its first step (in file order)
    /// that leads into the cycle. A depth-first search with an explicit stack, so a long chain
    /// of steps cannot overflow the thread's stack.
    mutating func checkCycles(_ steps: [StepDefinition]) {
        var edges: [String: [Located<String>]] = [:]
        var position: [String: Int] = [:]
        for (index, step) in steps.enumerated() where edges[step.id.value] == nil {
            edges[step.id.value] = step.dependencies.filter { $0.value != step.id.value }
            position[step.id.value] = index
        }
        var done: Set<String> = []
        var path: [(id: String, next: Int)] = []  // the search's stack: a step and its next edge
        var onPath: [String: Int] = [:]  // step → index in path
        var reported: Set<Set<String>> = []
        var found: [Diagnostic] = []
        for root in steps.map(\.id.value) where !done.contains(root) && onPath[root] == nil {
            path.append((root, 0))
            onPath[root] = 0
            while let top = path.last {
                let dependencies = edges[top.id] ?? []
                guard top.next < dependencies.count else {
                    path.removeLast()
                    onPath[top.id] = nil
                    done.insert(top.id)
                    continue
                }
                path[path.count - 1].next += 1
                let next = dependencies[top.next].value
                guard edges[next] != nil, !done.contains(next) else { continue }
                if let start = onPath[next] {
                    let members = path[start...].map(\.id)
                    let set = Set(members)
                    guard reported.insert(set).inserted else { continue }
                    // Name the cycle from its earliest step in the file, each waiting for the next.
                    let index = members.indices.min { position[members[$0]]! < position[members[$1]]! }!
                    let first = members[index]
                    let rotated = Array(members[index...] + members[..<index]) + [first]
                    let location = edges[first]!.first { set.contains($0.value) }!.location
                    found.append(.error(location, "dependency cycle: \(rotated.joined(separator: " → ")) (each waits for the next); expected steps that do not wait for each other in a circle"))
                } else {
                    onPath[next] = path.count
                    path.append((next, 0))
                }
            }
        }
        diagnostics += found
    }
}
extension SourceLocation {
    func advanced(by columns: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column + columns)
    }
}
