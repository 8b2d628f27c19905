/// The kinds of unit in the org chart.
///
/// Kinds come in three levels, and a reference by kind means the level: `role@township`
/// finds the nearest township **or street** (街道 is the urban township-level unit), and
/// `role@county` the nearest county **or county-level city** (县级市, e.g. 华蓥市).
/// `role@village` likewise means village or community.
public enum UnitKind: String, Hashable, Sendable, Codable, CaseIterable {
    case village, community, township, street, county, city

    public var level: UnitLevel {
        switch self {
        case .village, .community: .village
        case .township, .street: .township
        case .county, .city: .county
        }
    }

    /// 村, 社区, 乡镇, 街道, 县, 市.
    public var chineseName: String {
        switch self {
        case .village: "村"
        case .community: "社区"
        case .township: "乡镇"
        case .street: "街道"
        case .county: "县"
        case .city: "市"
        }
    }
}

/// The three administrative levels the chart knows, lowest first.
public enum UnitLevel: Int, Hashable, Sendable, Codable, Comparable, CaseIterable {
    /// 村 / 社区
    case village = 0
    /// 乡镇 / 街道
    case township = 1
    /// 县 / 县级市
    case county = 2

    public var kinds: [UnitKind] { UnitKind.allCases.filter { $0.level == self } }

    /// "township or street".
    public var kindsText: String { kinds.map(\.rawValue).joined(separator: " or ") }

    public static func < (lhs: UnitLevel, rhs: UnitLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A unit of the org chart: 古桥社区, 古桥街道, 华蓥市 …
public struct OrgUnit: Hashable, Sendable {
    public var id: String
    public var name: String
    public var kind: UnitKind
    public var parent: String?
    public var location: SourceLocation?
    /// The unit's own chat robots (`notify:`), by name in the secrets file; nil: those of the
    /// unit above (`OrgChart.robots(for:)`), an empty list: none.
    public var notify: [RobotReference]?

    public init(id: String, name: String, kind: UnitKind, parent: String? = nil, location: SourceLocation? = nil,
                notify: [RobotReference]? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.parent = parent
        self.location = location
        self.notify = notify
    }
}

/// A chat robot named in `staff.yaml` (`notify: [guqiao-wecom]`); its plugin and secrets are
/// in the secrets file under that name, so the chart can be shared.
public struct RobotReference: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation?

    public init(name: String, location: SourceLocation? = nil) {
        self.name = name
        self.location = location
    }
}

/// How a person is reached in chat, for @mentions (`mobile`, `wecom_userid`, `dingtalk_userid`
/// in `staff.yaml`). Each is optional.
public struct StaffContacts: Hashable, Sendable {
    /// A mainland mobile number, 11 digits (13800001111), as WeCom's mentioned_mobile_list
    /// and DingTalk's atMobiles take it.
    public var mobile: String?
    /// The person's 企业微信 userid (mentioned_list, `<@userid>` in markdown).
    public var wecomUserID: String?
    /// The person's 钉钉 userId (atUserIds).
    public var dingtalkUserID: String?

    public init(mobile: String? = nil, wecomUserID: String? = nil, dingtalkUserID: String? = nil) {
        self.mobile = mobile
        self.wecomUserID = wecomUserID
        self.dingtalkUserID = dingtalkUserID
    }

    public var isEmpty: Bool { mobile == nil && wecomUserID == nil && dingtalkUserID == nil }
}

/// A role people can hold in a unit (`secretary` — 党组织书记).
public struct RoleDefinition: Hashable, Sendable {
    public var id: String
    public var title: String
}

/// A person on the chart, with the Unix user they log in as and their roles per unit.
public struct StaffMember: Hashable, Sendable {
    public struct Assignment: Hashable, Sendable {
        public var role: String
        public var unit: String
    }

    public var user: String
    public var name: String
    public var assignments: [Assignment]
    public var location: SourceLocation?
    public var contacts: StaffContacts
    /// Leave written in the chart (`away:`), each with the person who stands in.
    public var away: [Leave]

    /// Days away (both included) and who stands in (请假/代理), as `huaying away` records it.
    public struct Leave: Hashable, Sendable {
        public var from: CivilDate
        public var until: CivilDate
        public var substitute: String
        public var location: SourceLocation?
        public init(from: CivilDate, until: CivilDate, substitute: String, location: SourceLocation? = nil) {
            self.from = from
            self.until = until
            self.substitute = substitute
            self.location = location
        }
    }

    public init(user: String, name: String, assignments: [Assignment], location: SourceLocation? = nil,
                contacts: StaffContacts = StaffContacts(), away: [Leave] = []) {
        self.user = user
        self.name = name
        self.assignments = assignments
        self.location = location
        self.contacts = contacts
        self.away = away
    }
}

/// `role@scope`: who a step goes to.
///
/// - `election-committee@unit` — that role in the instance's own unit (its `unit` parameter);
/// - `civil-affairs@township` — in the nearest unit of that level at or above the instance's
///   unit (kinds of one level are the same: township = street, county = city, village = community);
/// - `civil-affairs@huaying` — in one named unit (a unit id from the chart).
public struct RoleReference: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Scope: Hashable, Sendable, Codable {
        case ownUnit
        case level(UnitKind)
        case unit(String)
    }

    public var role: String
    public var scope: Scope

    public init(role: String, scope: Scope) {
        self.role = role
        self.scope = scope
    }

    /// Parses `role@unit`, `role@<kind>` or `role@<unit-id>`; nil when it is not of that shape.
    public init?(_ text: String) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, Self.isIdentifier(String(parts[0])), Self.isIdentifier(String(parts[1])) else { return nil }
        role = String(parts[0])
        let target = String(parts[1])
        if target == "unit" {
            scope = .ownUnit
        } else if let kind = UnitKind(rawValue: target) {
            scope = .level(kind)
        } else {
            scope = .unit(target)
        }
    }

    public var description: String {
        switch scope {
        case .ownUnit: "\(role)@unit"
        case let .level(kind): "\(role)@\(kind.rawValue)"
        case let .unit(id): "\(role)@\(id)"
        }
    }

    /// Ids of roles, units, steps and calendars: ASCII letters, digits, `-` and `_`,
    /// starting with a letter or digit.
    public static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII,
              first.properties.isAlphabetic || ("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_")
        }
    }
}

/// Why a role reference names nobody.
public struct OrgChartError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The org chart (`etc/staff.yaml`): roles, units with parent links, and staff.
public struct OrgChart: Sendable {
    public var roles: [String: RoleDefinition]
    public var units: [String: OrgUnit]
    /// In file order.
    public var unitOrder: [String]
    public var staff: [StaffMember]

    /// The text of `{{unit.<attribute>}}` for `unit` (`Template.unitAttributes`): its `name`,
    /// `id`, `kind`, or its parent's `parent.name` / `parent.id`; nil for an unknown attribute
    /// or a unit without a parent (the renderer shows the placeholder then).
    public func value(ofAttribute attribute: String, for unit: OrgUnit) -> String? {
        switch attribute {
        case "name": return unit.name
        case "id": return unit.id
        case "kind": return unit.kind.rawValue
        case "parent.name": return unit.parent.flatMap { units[$0] }?.name
        case "parent.id": return unit.parent.flatMap { units[$0] }?.id
        default: return nil
        }
    }

    public init(roles: [RoleDefinition], units: [OrgUnit], staff: [StaffMember]) {
        self.roles = Dictionary(roles.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.units = Dictionary(units.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.unitOrder = units.map(\.id)
        self.staff = staff
    }

    /// The staff holding `role` in `unit`, in file order.
    public func holders(of role: String, in unit: String) -> [StaffMember] {
        staff.filter { $0.assignments.contains(.init(role: role, unit: unit)) }
    }

    /// The staff member with a Unix user name.
    public func member(user: String) -> StaffMember? { staff.first { $0.user == user } }

    /// `unit` and its ancestors, nearest first (stops at a cycle).
    public func chain(from unit: String) -> [OrgUnit] {
        var result: [OrgUnit] = []
        var seen: Set<String> = []
        var next: String? = unit
        while let id = next, !seen.contains(id), let current = units[id] {
            result.append(current)
            seen.insert(id)
            next = current.parent
        }
        return result
    }

    /// The chat robots that notifications about `unit` go to: its own `notify:`, else the
    /// nearest unit above that sets one (an empty list stops the search: none).
    public func robots(for unit: String) -> [RobotReference] {
        chain(from: unit).lazy.compactMap(\.notify).first ?? []
    }

    /// Whether `unit` is `ancestor` or lies below it.
    public func isUnit(_ unit: String, within ancestor: String) -> Bool {
        chain(from: unit).contains { $0.id == ancestor }
    }

    /// "古桥社区 (guqiao-community)".
    public func label(of unit: String) -> String {
        guard let found = units[unit] else { return unit }
        return "\(found.name) (\(found.id))"
    }

    /// "election-committee (选举委员会)".
    public func label(ofRole role: String) -> String {
        guard let found = roles[role] else { return role }
        return "\(role) (\(found.title))"
    }

    /// The unit a reference points at, seen from an instance's unit.
    /// - Throws: `OrgChartError` naming the unit when it is unknown or has no unit of that level above it.
    public func unit(for reference: RoleReference, from instanceUnit: String) throws(OrgChartError) -> OrgUnit {
        guard let own = units[instanceUnit] else {
            throw OrgChartError("unknown unit '\(instanceUnit)'; expected a unit id from the org chart")
        }
        switch reference.scope {
        case .ownUnit:
            return own
        case let .level(kind):
            guard let found = chain(from: instanceUnit).first(where: { $0.kind.level == kind.level }) else {
                throw OrgChartError("\(label(of: instanceUnit)) has no \(kind.level.kindsText) at or above it; expected a parent chain reaching that level")
            }
            return found
        case let .unit(id):
            guard let found = units[id] else {
                throw OrgChartError("unknown unit '\(id)' in '\(reference)'; expected 'unit', a kind (\(UnitKind.allCases.map(\.rawValue).joined(separator: ", "))) or a unit id")
            }
            return found
        }
    }

    /// Who a reference names, seen from an instance's unit.
    /// - Throws: `OrgChartError` naming the unit and role when nobody holds it.
    public func resolve(_ reference: RoleReference, from instanceUnit: String) throws(OrgChartError) -> (unit: OrgUnit, holders: [StaffMember]) {
        let target = try unit(for: reference, from: instanceUnit)
        guard roles[reference.role] != nil else {
            throw OrgChartError("unknown role '\(reference.role)'; expected one of: \(roles.keys.sorted().joined(separator: ", "))")
        }
        let holders = holders(of: reference.role, in: target.id)
        guard !holders.isEmpty else {
            throw OrgChartError("nobody holds \(label(ofRole: reference.role)) in \(label(of: target.id)); expected a staff member with that role there in the org chart")
        }
        return (target, holders)
    }

    /// For `lint`: whether a reference can name somebody for at least one unit.
    /// - Returns: nil when it can, else what is wrong.
    public func problem(with reference: RoleReference, instanceKinds: Set<UnitKind>? = nil) -> String? {
        guard roles[reference.role] != nil else {
            return "unknown role '\(reference.role)' in '\(reference)'; expected one of: \(roles.keys.sorted().joined(separator: ", "))"
        }
        let candidates: [String]
        switch reference.scope {
        case .ownUnit:
            candidates = unitOrder.filter { instanceKinds?.contains(units[$0]!.kind) ?? true }
        case let .level(kind):
            candidates = unitOrder.filter { units[$0]!.kind.level == kind.level }
        case let .unit(id):
            guard units[id] != nil else {
                return "unknown unit '\(id)' in '\(reference)'; expected 'unit', a kind (\(UnitKind.allCases.map(\.rawValue).joined(separator: ", "))) or a unit id from the org chart"
            }
            candidates = [id]
        }
        if candidates.contains(where: { !holders(of: reference.role, in: $0).isEmpty }) { return nil }
        let place: String
        switch reference.scope {
        case .ownUnit: place = "any unit"
        case let .level(kind): place = "any \(kind.level.kindsText)"
        case let .unit(id): place = label(of: id)
        }
        return "'\(reference)' cannot be resolved: nobody holds \(label(ofRole: reference.role)) in \(place) of the org chart; expected a staff member with that role"
    }
}
