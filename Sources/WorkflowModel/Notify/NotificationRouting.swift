/// From a reminder's unit and people to what a notifier request carries (docs/plugins.md,
/// "Notifiers"): the robots to send to and the recipients to @mention.
extension StaffMember {
    /// The person as `reminder.recipients` lists them: `user`, `name`, and whichever of
    /// `mobile`, `wecom_userid`, `dingtalk_userid` the chart gives.
    public var notifierRecipient: [String: String] {
        var fields = ["user": user, "name": name]
        if let mobile = contacts.mobile { fields["mobile"] = mobile }
        if let id = contacts.wecomUserID { fields["wecom_userid"] = id }
        if let id = contacts.dingtalkUserID { fields["dingtalk_userid"] = id }
        return fields
    }
}

extension NotifierSecrets {
    /// The robots that notifications about `unit` go to: the unit's `notify:` (or the nearest
    /// above it), in order, keeping only robots this file defines (`unknownRobots(in:)`
    /// reports the others) and, when `plugins` is given (a step's `notify: [wecom]`), only
    /// robots of those plugins.
    public func robots(for unit: String, in chart: OrgChart, plugins: [String]? = nil) -> [Robot] {
        chart.robots(for: unit).compactMap { robots[$0.name] }.filter { plugins?.contains($0.plugin) ?? true }
    }
}
