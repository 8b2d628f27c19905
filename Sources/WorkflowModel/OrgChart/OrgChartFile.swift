import Foundation
import Yams

/// Reads the org chart (`etc/staff.yaml`).
///
/// ```yaml
/// roles:                       # role id: title
///   secretary: 党组织书记
/// units:
///   - { id: huaying, name: 华蓥市, kind: city }
///   - { id: guqiao, name: 古桥街道, kind: street, parent: huaying, notify: [guqiao-wecom] }
/// staff:
///   - user: zhangsan           # the Unix user name
///     name: 张三
///     roles:                   # unit id: [role ids]
///       guqiao: [secretary]
///     mobile: "13800001111"    # optional contacts, for @mentions in chat
///     wecom_userid: ZhangSan
///     dingtalk_userid: manager4711
/// ```
///
/// `notify:` names chat robots of the secrets file (`SecretsFile`); units below inherit it
/// unless they set their own (`notify: []` for none).
public enum OrgChartFile {
    /// Parses and validates an org chart: unknown or duplicate keys, unknown kind, duplicate
    /// unit id or user, unknown parent, parent cycles, unknown unit or role in an assignment.
    /// - Returns: the chart (nil when there were errors) and every finding.
    public static func check(_ file: YAMLFile) -> (chart: OrgChart?, diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        guard let root = file.root else {
            return (nil, [.error(file.start, "the org chart is empty; expected keys: roles, units, staff")])
        }
        guard var top = MappingReader(root, in: file, what: "the org chart", diagnostics: &diagnostics) else {
            return (nil, diagnostics)
        }

        var roles: [RoleDefinition] = []
        if let node = top.value("roles", required: true) {
            if case let .mapping(mapping) = node {
                for (key, value) in mapping {
                    guard let id = key.scalar?.string, RoleReference.isIdentifier(id) else {
                        diagnostics.append(.error(file.location(of: key), "a role id must be ASCII letters, digits, '-' or '_' (such as election-committee); found '\(key.scalar?.string ?? key.kindName)'"))
                        continue
                    }
                    guard let title = file.text(value, what: "the title of role '\(id)'", diagnostics: &diagnostics) else { continue }
                    if roles.contains(where: { $0.id == id }) {
                        diagnostics.append(.error(file.location(of: key), "duplicate role '\(id)'"))
                        continue
                    }
                    roles.append(RoleDefinition(id: id, title: title))
                }
            } else {
                top.report(.error, at: node, "'roles' must be a mapping from role id to title, found \(node.kindName)")
            }
        }

        var units: [OrgUnit] = []
        var parentNodes: [String: Node] = [:]
        var unitIDs: Set<String> = []
        for item in top.sequence("units", required: true) ?? [] {
            guard var reader = MappingReader(item, in: file, what: "a unit", diagnostics: &diagnostics) else { continue }
            let id = reader.string("id", required: true)
            let name = reader.string("name", required: true)
            let kind = reader.choice("kind", from: UnitKind.allCases.map(\.rawValue), required: true).flatMap(UnitKind.init(rawValue:))
            let parent = reader.string("parent")
            let notify = robotReferences(&reader, in: file, diagnostics: &diagnostics)
            diagnostics += reader.finish()
            guard let id, let idNode = reader.value("id") else { continue }
            if !RoleReference.isIdentifier(id) || UnitKind(rawValue: id) != nil || id == "unit" {
                diagnostics.append(.error(file.location(of: idNode), "unit id '\(id)' must be ASCII letters, digits, '-' or '_' and not a kind word (unit, \(UnitKind.allCases.map(\.rawValue).joined(separator: ", ")))"))
                continue
            }
            if unitIDs.contains(id) {
                let first = units.first { $0.id == id }?.location?.line ?? 0
                diagnostics.append(.error(file.location(of: idNode), "duplicate unit id '\(id)' (first given on line \(first))"))
                continue
            }
            unitIDs.insert(id)
            if let parentNode = reader.value("parent") { parentNodes[id] = parentNode }
            if let name, let kind {
                units.append(OrgUnit(id: id, name: name, kind: kind, parent: parent, location: file.location(of: item), notify: notify))
            }
        }
        // Parents: known, higher level, no cycles.
        let byID = Dictionary(units.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for unit in units {
            guard let parent = unit.parent, let node = parentNodes[unit.id] else { continue }
            guard let parentUnit = byID[parent] else {
                if !unitIDs.contains(parent) {
                    diagnostics.append(.error(file.location(of: node), "unknown parent '\(parent)' of unit '\(unit.id)'; expected the id of another unit in this file"))
                }
                continue
            }
            if parentUnit.kind.level <= unit.kind.level && parent != unit.id {
                diagnostics.append(.warning(file.location(of: node), "parent '\(parent)' (\(parentUnit.kind.rawValue)) of '\(unit.id)' (\(unit.kind.rawValue)) is not a higher level; expected village/community → township/street → county/city"))
            }
        }
        var reported: Set<String> = []
        for unit in units {
            var path: [String] = [unit.id]
            var next = unit.parent
            while let id = next, let current = byID[id] {
                if let index = path.firstIndex(of: id) {
                    let cycle = Array(path[index...]) + [id]
                    if index == 0, reported.isDisjoint(with: cycle), let node = parentNodes[unit.id] {
                        diagnostics.append(.error(file.location(of: node), "units form a cycle through 'parent': \(cycle.joined(separator: " → ")); expected each chain to end at a unit without a parent"))
                        reported.formUnion(cycle)
                    }
                    break
                }
                path.append(id)
                next = current.parent
            }
        }

        var staff: [StaffMember] = []
        let roleIDs = Set(roles.map(\.id))
        for item in top.sequence("staff", required: true) ?? [] {
            guard var reader = MappingReader(item, in: file, what: "a staff member", diagnostics: &diagnostics) else { continue }
            let user = reader.string("user", required: true)
            let name = reader.string("name", required: true)
            var assignments: [StaffMember.Assignment] = []
            if let node = reader.value("roles", required: true) {
                if case let .mapping(mapping) = node {
                    for (key, value) in mapping {
                        guard let unit = key.scalar?.string else { continue }
                        if !unitIDs.contains(unit) {
                            diagnostics.append(.error(file.location(of: key), "unknown unit '\(unit)' in the roles of '\(user ?? "?")'; expected a unit id from 'units'"))
                        }
                        let roleNodes: [Node]
                        switch value {
                        case let .sequence(items): roleNodes = Array(items)
                        case .scalar: roleNodes = [value]
                        default:
                            diagnostics.append(.error(file.location(of: value), "the roles in '\(unit)' must be a list of role ids, found \(value.kindName)"))
                            continue
                        }
                        for roleNode in roleNodes {
                            guard let role = file.text(roleNode, what: "a role id", diagnostics: &diagnostics) else { continue }
                            if !roleIDs.contains(role) {
                                diagnostics.append(.error(file.location(of: roleNode), "unknown role '\(role)'; expected one of: \(roles.map(\.id).joined(separator: ", "))"))
                                continue
                            }
                            assignments.append(.init(role: role, unit: unit))
                        }
                    }
                } else {
                    reader.report(.error, at: node, "'roles' of a staff member must be a mapping from unit id to a list of role ids, found \(node.kindName)")
                }
            }
            let contacts = staffContacts(&reader, user: user)
            let away = leave(&reader, user: user, diagnostics: &diagnostics)
            diagnostics += reader.finish()
            guard let user, let userNode = reader.value("user") else { continue }
            if !isUnixUserName(user) {
                diagnostics.append(.error(file.location(of: userNode), "'\(user)' is not a valid Unix user name; expected lowercase letters, digits, '-' or '_', starting with a letter or '_'"))
                continue
            }
            if let first = staff.first(where: { $0.user == user }) {
                diagnostics.append(.error(file.location(of: userNode), "duplicate user '\(user)' (first given on line \(first.location?.line ?? 0)); expected one entry per person, with all their roles"))
                continue
            }
            if let name {
                staff.append(StaffMember(user: user, name: name, assignments: assignments, location: file.location(of: userNode),
                                         contacts: contacts, away: away))
            }
        }
        checkSubstitutes(staff, diagnostics: &diagnostics)
        checkSupervisionCommittee(staff, units: units, diagnostics: &diagnostics)
        diagnostics = (top.finish() + diagnostics).sortedByPosition()
        guard !diagnostics.contains(where: { $0.severity == .error }) else { return (nil, diagnostics) }
        return (OrgChart(roles: roles, units: units, staff: staff), diagnostics)
    }

    /// A unit's `notify:` — a list of robot names (one name alone is taken as a list); nil
    /// when the key is absent (the unit inherits).
    static func robotReferences(_ reader: inout MappingReader, in file: YAMLFile, diagnostics: inout [Diagnostic]) -> [RobotReference]? {
        guard let nodes = reader.sequence("notify", allowSingle: true) else { return nil }
        var robots: [RobotReference] = []
        for node in nodes {
            guard let name = file.text(node, what: "a robot name in 'notify'", diagnostics: &diagnostics) else { continue }
            let location = file.location(of: node)
            guard RoleReference.isIdentifier(name) else {
                diagnostics.append(.error(location, "robot name '\(name)' in 'notify' must be ASCII letters, digits, '-' or '_' (such as guqiao-wecom): the name of a robot in the secrets file, never its key or URL"))
                continue
            }
            if robots.contains(where: { $0.name == name }) {
                diagnostics.append(.error(location, "robot '\(name)' is given twice in 'notify'"))
                continue
            }
            robots.append(RobotReference(name: name, location: location))
        }
        return robots
    }

    /// A staff member's `away:` — a list of `{ from: DAY, until: DAY, substitute: USER }`.
    static func leave(_ reader: inout MappingReader, user: String?, diagnostics: inout [Diagnostic]) -> [StaffMember.Leave] {
        guard let nodes = reader.sequence("away") else { return [] }
        var leave: [StaffMember.Leave] = []
        for node in nodes {
            guard var entry = MappingReader(node, in: reader.file, what: "a leave of '\(user ?? "?")' in 'away'", diagnostics: &diagnostics) else { continue }
            var days: [CivilDate] = []
            for key in ["from", "until"] {
                guard let text = entry.string(key, required: true), let valueNode = entry.value(key) else { continue }
                if let day = CivilDate(text) { days.append(day) } else {
                    entry.report(.error, at: valueNode, "'\(key)' of a leave must be a date (YYYY-MM-DD); found '\(text)'")
                }
            }
            let substitute = entry.string("substitute", required: true)
            if days.count == 2, days[0] > days[1], let valueNode = entry.value("until") {
                entry.report(.error, at: valueNode, "a leave ends (\(days[1])) before it begins (\(days[0]))")
            }
            if let substitute, substitute == user, let valueNode = entry.value("substitute") {
                entry.report(.error, at: valueNode, "'\(substitute)' cannot stand in for themself; name someone else as 'substitute'")
            }
            let findings = entry.finish()
            diagnostics += findings
            if days.count == 2, days[0] <= days[1], let substitute, substitute != user, !findings.contains(where: { $0.severity == .error }) {
                leave.append(.init(from: days[0], until: days[1], substitute: substitute, location: reader.file.location(of: node)))
            }
        }
        return leave
    }

    /// Every substitute named in `away:` is a staff member, and on no day do substitutes go
    /// round in a circle (A → B → A), which would leave a reminder with nobody present.
    static func checkSubstitutes(_ staff: [StaffMember], diagnostics: inout [Diagnostic]) {
        let users = Set(staff.map(\.user))
        for member in staff {
            for leave in member.away where !users.contains(leave.substitute) {
                guard let location = leave.location else { continue }
                diagnostics.append(.error(location, "substitute '\(leave.substitute)' of '\(member.user)' is not a 'user:' of 'staff'"))
            }
        }
        let leaveOf = Dictionary(staff.map { ($0.user, $0.away) }, uniquingKeysWith: { first, _ in first })
        for member in staff {
            for leave in member.away {
                for day in stride(from: leave.from.dayNumber, through: leave.until.dayNumber, by: 1) {
                    let date = CivilDate(dayNumber: day)
                    let circle = SubstituteChain.circle(from: member.user, to: leave.substitute) { person in
                        leaveOf[person]?.first { $0.from <= date && date <= $0.until }?.substitute
                    }
                    if let circle, let location = leave.location {
                        diagnostics.append(.error(location, "on \(date) the substitutes go round in a circle (\(circle.joined(separator: " → "))); expected someone present at the end"))
                        return
                    }
                }
            }
        }
    }

    /// A staff member's `mobile`, `wecom_userid` and `dingtalk_userid`, each checked.
    static func staffContacts(_ reader: inout MappingReader, user: String?) -> StaffContacts {
        var contacts = StaffContacts()
        let who = user.map { "of '\($0)'" } ?? "of a staff member"
        if let mobile = reader.string("mobile"), let node = reader.value("mobile") {
            let digits = mobile.hasPrefix("+86") ? String(mobile.dropFirst(3)) : mobile
            if digits.count == 11, digits.hasPrefix("1"), digits.allSatisfy(\.isASCIIDigit) {
                contacts.mobile = digits
            } else {
                reader.report(.error, at: node, "'mobile' \(who) must be a mainland mobile number of 11 digits starting with 1 (such as \"13800001111\"); found '\(mobile)'")
            }
        }
        for (key, label) in [("wecom_userid", "企业微信 userid"), ("dingtalk_userid", "钉钉 userId")] {
            guard let value = reader.string(key), let node = reader.value(key) else { continue }
            let allowed = value.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" } && value != "@all"
            guard !value.isEmpty, value.count <= 64, allowed else {
                reader.report(.error, at: node, "'\(key)' \(who) must be the person's \(label): 1 to 64 ASCII characters without spaces, '<' or '>', and not @all; found '\(value)'")
                continue
            }
            if key == "wecom_userid" { contacts.wecomUserID = value } else { contacts.dingtalkUserID = value }
        }
        return contacts
    }

    /// The roles of the villagers' (residents') committee itself, which may not sit on the
    /// supervision committee of the same unit (docs/procedures.md#election, step 14).
    public static let committeeRoles = ["director", "committee-member"]
    public static let supervisionRole = "supervision-committee"

    /// Warns where one person holds a committee role and `supervision-committee` in the same unit:
    /// 村（居）民委员会成员及其近亲属不得担任村（居）务监督委员会成员. Close relatives are not in the
    /// chart, so only the person's own roles can be checked.
    static func checkSupervisionCommittee(_ staff: [StaffMember], units: [OrgUnit], diagnostics: inout [Diagnostic]) {
        for member in staff {
            let byUnit = Dictionary(grouping: member.assignments, by: \.unit).mapValues { Set($0.map(\.role)) }
            for (unitID, held) in byUnit.sorted(by: { $0.key < $1.key }) where held.contains(supervisionRole) {
                let clashing = committeeRoles.filter(held.contains)
                guard !clashing.isEmpty, let location = member.location else { continue }
                let unitName = units.first { $0.id == unitID }.map { "\($0.name) (\(unitID))" } ?? unitID
                let word = units.first { $0.id == unitID }?.kind == .community ? "居" : "村"
                diagnostics.append(.warning(location, "'\(member.user)' (\(member.name)) holds \(clashing.joined(separator: " and ")) and \(supervisionRole) in \(unitName); \(word)民委员会成员及其近亲属不得担任\(word)务监督委员会成员: give the supervision-committee role to someone else"))
            }
        }
    }

    /// Reads, parses and validates an org chart file.
    /// - Throws: `DiagnosticsError` when it has errors.
    public static func load(path: String) throws(DiagnosticsError) -> OrgChart {
        let file: YAMLFile
        do { file = try YAMLFile(path: path) } catch { throw DiagnosticsError([error]) }
        let result = check(file)
        guard let chart = result.chart else { throw DiagnosticsError(result.diagnostics) }
        return chart
    }

    static func isUnixUserName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 32,
              first == "_" || ("a"..."z").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }
}
