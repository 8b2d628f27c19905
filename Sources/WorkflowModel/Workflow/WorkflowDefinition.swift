/// A value and where it was written.
public struct Located<Value: Hashable & Sendable>: Hashable, Sendable {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// A parsed and validated workflow file (DESIGN.md §4, docs/workflow-language.md).
public struct WorkflowDefinition: Hashable, Sendable {
    /// `workflow:` — the id used by `huaying start` and `plan`.
    public var id: Located<String>
    public var title: String
    public var params: [ParamDefinition]
    /// `calendar:` — a calendar id (default `cn-mainland`).
    public var calendar: Located<String>
    /// `default_time:` — the time of day for date-only values (default 09:00).
    public var defaultTime: TimeOfDay
    public var steps: [StepDefinition]
    /// The file it came from.
    public var file: String
    /// `trigger:` — when the daemon starts instances by itself.
    public var trigger: TriggerDefinition? = nil
    /// `then:` — the instances a completed instance starts.
    public var then: [ChainDefinition] = []

    public func param(_ name: String) -> ParamDefinition? { params.first { $0.name == name } }

    /// The acknowledgement fields of step `id` that formulas read as dates
    /// (`steps.<id>.fields.<name>` in an `at:`, `deadline:` or `repeat_until:`): an
    /// acknowledgement must give them as YYYY-MM-DD.
    public func dateFields(of id: String) -> Set<String> {
        var result: Set<String> = []
        for step in steps {
            for expression in [step.at, step.deadline, step.ack?.repeatUntil].compactMap({ $0 }) {
                if case let .stepFieldDate(stepID, field) = expression.value.base, stepID == id { result.insert(field) }
            }
        }
        return result
    }
    public func step(_ id: String) -> StepDefinition? { steps.first { $0.id.value == id } }
}

/// The type of a parameter.
public enum ParamType: String, Hashable, Sendable, Codable, CaseIterable {
    /// A unit id from the org chart.
    case unit
    /// A date YYYY-MM-DD.
    case date
    /// A date and time YYYY-MM-DDTHH:MM.
    case datetime
    /// Free text.
    case text
    /// A whole number.
    case number
    /// The id of another running or ended instance (`workflows:` names which workflows): the
    /// daemon refuses an id that is not such an instance of the same unit, and records the
    /// link in that instance's ledger (`instance.linked`).
    case instance
}

/// One entry of `params:`.
public struct ParamDefinition: Hashable, Sendable {
    public var name: String
    public var type: ParamType
    public var title: String
    /// `default:` as written (a time expression for date and datetime parameters).
    public var defaultText: String?
    /// The parsed default of a date or datetime parameter.
    public var defaultExpression: TimeExpression?
    /// For unit parameters: the kinds allowed (nil: any).
    public var kinds: [UnitKind]?
    public var location: SourceLocation
    /// For instance parameters: the workflows the linked instance may be of (nil: any).
    public var workflows: [String]? = nil
}

/// One entry of `steps:`.
public struct StepDefinition: Hashable, Sendable {
    public var id: Located<String>
    public var title: String
    /// `at:` — when the step falls due (nil: at start, or when its `after:` steps complete).
    public var at: Located<TimeExpression>?
    /// `after:` — steps that must complete first.
    public var after: [Located<String>]
    /// `deadline:` — the latest time the work must be done (statutory limit), shown by plan.
    public var deadline: Located<TimeExpression>?
    /// `uses:` — the plugin that runs the step.
    public var uses: Located<String>
    /// `with:` — the plugin's input.
    public var with: YAMLValue?
    public var ack: AckPolicy?
    public var location: SourceLocation
    /// A step's own `then:` — the instances its completion starts (its acknowledgement, or
    /// the record it wrote), in the same unit of work; `{{item}}` and the step's own
    /// `steps.<id>.fields.…` may be used there.
    public var then: [ChainDefinition] = []
    /// `notify:` — the notifier plugins its reminders go to (nil: every robot of the unit).
    public var notify: [Located<String>]? = nil
    /// `urgent: true` — its reminders are never held back by quiet hours (a statutory deadline).
    public var urgent = false

    /// The steps this one waits for: `after:` and any `steps.X.done` in `at:`/`deadline:`.
    public var dependencies: [Located<String>] {
        var result = after
        for expression in [at, deadline].compactMap({ $0 }) {
            for step in expression.value.steps where !result.contains(where: { $0.value == step }) {
                result.append(Located(step, at: expression.location))
            }
        }
        return result
    }
}

/// `ack:` — how a step waits for a person's acknowledgement.
public struct AckPolicy: Hashable, Sendable {
    /// How long after the step falls due the acknowledgement is expected (nil: until `deadline`).
    public var within: TimeOffset?
    /// Named values an acknowledgement may carry (`huaying ack ID --set heads=张三,李四`),
    /// readable later as `{{steps.<id>.fields.<name>}}`.
    public var fields: [String] = []
    /// Remind again this often until acknowledged.
    public var `repeat`: TimeOffset?
    /// `ack.max_repeats:` — at most this many repeats.
    public var maxRepeats: Int?
    /// `ack.repeat_until:` — no repeat after this instant. Without either, repeats end once the
    /// last escalation level has been reached and the acknowledgement deadline has passed.
    public var repeatUntil: Located<TimeExpression>?
    public var escalate: EscalationPolicy?
    public var location: SourceLocation
    /// `ack.requires:` — results of other instances the acknowledgement must point to.
    public var requires: [AckRequirement] = []
}

/// One entry of `ack.requires:`: the acknowledgement names (in `field`, or the daemon finds)
/// an instance of `workflow` for the same unit whose step `step` is done — e.g. the election's
/// `publish-audit` needs the departure audit's published result. Without one the daemon
/// refuses the acknowledgement (`prerequisite_missing`).
public struct AckRequirement: Hashable, Sendable {
    public var field: String
    public var workflow: Located<String>
    public var step: String
    public var location: SourceLocation

    public init(field: String, workflow: Located<String>, step: String, location: SourceLocation) {
        self.field = field
        self.workflow = workflow
        self.step = step
        self.location = location
    }
}

/// `ack.escalate:` — who is told, one level per `every`, when nobody acknowledges in time.
public struct EscalationPolicy: Hashable, Sendable {
    public var uses: Located<String>
    public var with: YAMLValue?
    public var location: SourceLocation

    /// The escalate plugin's `chain:` (role references, lowest level first).
    public var chain: [RoleReference] {
        (with?["chain"]?.items ?? []).compactMap { $0.string.flatMap(RoleReference.init) }
    }

    /// The escalate plugin's `every:`.
    public var every: TimeOffset? {
        with?["every"]?.string.flatMap { try? TimeOffset.parse($0) }
    }
}
