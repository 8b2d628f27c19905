// The results of `agenda` and `whoami` (docs/control-protocol.md lists their arguments); the
// conventions are those of EngineMessages.swift: snake_case keys, every key present (null when
// absent), instants with the configured zone's offset.

/// One thing due or overdue: a step not yet done, dated by its open reminder's
/// acknowledgement deadline when it has one, else by when it falls due.
public struct AgendaItem: Codable, Equatable, Sendable {
    /// The date the item is listed under: `ack_by` when there is one, else `due`.
    public var at: String
    public var instance: Int
    public var workflow: String
    /// The workflow's title.
    public var title: String
    @NullEncoded public var unit: String?
    /// The unit's name in the org chart (`古桥社区`).
    @NullEncoded public var unitName: String?
    public var step: String
    /// The step's title.
    public var stepTitle: String
    /// The step's state (`pending`, `waiting`, …).
    public var state: String
    public var due: String
    /// The step's statutory deadline (法定期限), when the workflow sets one.
    @NullEncoded public var deadline: String?
    /// The open reminder's acknowledgement deadline (确认期限), when a reminder is open.
    @NullEncoded public var ackBy: String?
    /// The open reminder, when there is one.
    @NullEncoded public var reminder: Int?
    /// Who holds it: the open reminder's assignees (empty before a reminder is sent).
    public var assignees: [String]
    /// The open reminder's level: 0 for the first recipients, 1 after the first escalation, ….
    public var level: Int
    public var overdue: Bool
    public var escalated: Bool
    /// Whether one of its dates lies in a year the daemon's calendar lacks, and which years
    /// (`ProvisionalDates.swift`).
    @FalseWhenMissing public var provisional: Bool = false
    @EmptyWhenMissing public var provisionalYears: [Int] = []

    public init(at: String, instance: Int, workflow: String, title: String, unit: String?, unitName: String? = nil,
                step: String, stepTitle: String,
                state: String, due: String, deadline: String?, ackBy: String?, reminder: Int?, assignees: [String],
                level: Int, overdue: Bool, escalated: Bool) {
        self.at = at
        self.instance = instance
        self.workflow = workflow
        self.title = title
        self.unit = unit
        self.unitName = unitName
        self.step = step
        self.stepTitle = stepTitle
        self.state = state
        self.due = due
        self.deadline = deadline
        self.ackBy = ackBy
        self.reminder = reminder
        self.assignees = assignees
        self.level = level
        self.overdue = overdue
        self.escalated = escalated
    }

    enum CodingKeys: String, CodingKey {
        case at, instance, workflow, title, unit
        case unitName = "unit_name"
        case step
        case stepTitle = "step_title"
        case state, due, deadline
        case ackBy = "ack_by"
        case reminder, assignees, level, overdue, escalated, provisional
        case provisionalYears = "provisional_years"
    }
}

/// The result of `agenda`: one page of instances' items (the CLI pages with `before`).
public struct AgendaResult: Codable, Equatable, Sendable {
    /// The window: items dated from `from` up to (not including) `until` are listed, and
    /// overdue ones whatever their date.
    public var from: String
    public var until: String
    /// The items of this page, by date.
    public var items: [AgendaItem]
    /// Pass as `before` for the next page; null on the last.
    @NullEncoded public var nextBefore: Int?

    public init(from: String, until: String, items: [AgendaItem], nextBefore: Int? = nil) {
        self.from = from
        self.until = until
        self.items = items
        self.nextBefore = nextBefore
    }

    enum CodingKeys: String, CodingKey {
        case from, until, items
        case nextBefore = "next_before"
    }
}

/// The result of `whoami`: whom the daemon takes the caller (or `--as`) for.
public struct WhoamiResult: Codable, Equatable, Sendable {
    /// One role of the person in one unit.
    public struct Role: Codable, Equatable, Sendable {
        public var role: String
        /// The role's title in the org chart.
        public var roleName: String
        public var unit: String
        public var unitName: String

        public init(role: String, roleName: String, unit: String, unitName: String) {
            self.role = role
            self.roleName = roleName
            self.unit = unit
            self.unitName = unitName
        }

        enum CodingKeys: String, CodingKey {
            case role
            case roleName = "role_name"
            case unit
            case unitName = "unit_name"
        }
    }

    /// Whose inbox and acknowledgements requests are (the caller, or whom an admin acts as).
    public var user: String
    /// Who asked.
    public var actor: String
    /// The person's name in the org chart, null when they are not in it.
    @NullEncoded public var name: String?
    public var admin: Bool
    public var inOrgChart: Bool
    public var roles: [Role]
    /// The units whose instances the caller sees (and those below them); null for all (admins).
    @NullEncoded public var units: [String]?

    public init(user: String, actor: String, name: String?, admin: Bool, inOrgChart: Bool, roles: [Role], units: [String]?) {
        self.user = user
        self.actor = actor
        self.name = name
        self.admin = admin
        self.inOrgChart = inOrgChart
        self.roles = roles
        self.units = units
    }

    enum CodingKeys: String, CodingKey {
        case user, actor, name, admin
        case inOrgChart = "in_org_chart"
        case roles, units
    }
}
