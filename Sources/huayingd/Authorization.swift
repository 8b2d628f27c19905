import ControlProtocol
import Foundation
import WorkflowModel
#if canImport(Glibc)
import Glibc
#endif

/// Who may do what on the control socket. The caller is known from `SO_PEERCRED`
/// (uid → Unix user), so nothing here trusts what the client says about itself.
///
/// - Admins (root, the daemon's own user, and members of `access.admin_group`) may do everything, including
///   `start`, `update`, `cancel`, `reload`, `clock`, `backup` and acting for someone with `--as`.
/// - Staff (a `user:` in the org chart) see and acknowledge the reminders addressed or
///   escalated to them, and see the instances of their own units and the units below them
///   (a township's civil-affairs office sees every village of the township).
/// - Anyone else is refused with a message saying how to be added.
struct Authorization {
    enum Access {
        case admin
        case staff(StaffMember)
    }

    /// What an authorized request acts as.
    struct Grant {
        /// Whose inbox and acknowledgements these are.
        var user: String
        /// Who asked (the caller's own name).
        var actor: String
        /// Instance visibility: nil for all (admins), else these units and those below them.
        var units: Set<String>?
    }

    static let adminCommands: Set<String> = ["start", "update", "cancel", "reload", "clock", "backup", "retry"]
    /// Commands anyone may run, even someone not in the org chart.
    static let openCommands: Set<String> = ["status"]

    let adminGroup: String?
    let staffFile: String

    func access(of caller: Caller, chart: OrgChart?) -> Access? {
        // The daemon's own user owns it (a developer's `make run`, the service account).
        if caller.uid == 0 || caller.uid == getuid() || isInAdminGroup(caller) { return .admin }
        if let member = chart?.member(user: caller.userName) { return .staff(member) }
        return nil
    }

    /// Decides a request. Every refusal names the reason and what to do.
    func authorize(_ request: ControlRequest, caller: Caller, chart: OrgChart?) -> Result<Grant, ControlError> {
        let access = access(of: caller, chart: chart)
        if Self.openCommands.contains(request.command) {
            return .success(Grant(user: caller.userName, actor: caller.userName, units: nil))
        }
        switch access {
        case nil:
            return .failure(ControlError(.unknownUser, """
                \(caller.userName) is not in the org chart, so huayingd does not know whose reminders to show; \
                ask an admin to add an entry with `user: \(caller.userName)` and your roles to \(staffFile), then `huaying reload`
                """))
        case .admin:
            let user = request.actAs ?? caller.userName
            // Acting as someone the org chart does not know would show an empty inbox, not an error.
            if let other = request.actAs, other != caller.userName, chart?.member(user: other) == nil {
                return .failure(ControlError(.unknownUser, """
                    --as \(other): no staff member with `user: \(other)` in \(staffFile); check the spelling \
                    (`huaying inbox --as USER` takes the Unix user name), or add them and `huaying reload`
                    """))
            }
            return .success(Grant(user: user, actor: caller.userName, units: nil))

        case let .staff(member):
            if let other = request.actAs, other != caller.userName {
                return .failure(ControlError(.notAdmin, "only an admin may act as another user (--as \(other)); you are \(caller.userName)"))
            }
            if Self.adminCommands.contains(request.command) {
                return .failure(ControlError(.notAdmin, "\(request.command) is for admins (root or group \(adminGroup ?? "(none configured)")); you are \(caller.userName)"))
            }
            return .success(Grant(user: caller.userName, actor: caller.userName, units: Set(member.assignments.map(\.unit))))
        }
    }

    private func isInAdminGroup(_ caller: Caller) -> Bool {
        guard let adminGroup, let group = Self.group(named: adminGroup) else { return false }
        return caller.gid == group.gid || group.members.contains(caller.userName)
    }

    /// A Unix group's id and the users it lists (`gr_mem`; a user whose primary group it is
    /// is not listed there), or nil when there is no such group.
    static func group(named name: String) -> (gid: gid_t, members: [String])? {
        guard let group = getgrnam(name) else { return nil }
        var members: [String] = []
        var member = group.pointee.gr_mem
        while let name = member?.pointee {
            members.append(String(cString: name))
            member = member?.advanced(by: 1)
        }
        return (group.pointee.gr_gid, members)
    }
}
