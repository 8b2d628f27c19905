import StepPluginAPI

/// `remind`: puts a message in the inboxes of everyone holding the `to:` roles and waits for
/// one of them to acknowledge. The step's `ack:` policy (deadline, repeats, escalation) is
/// applied by the engine.
///
/// ```yaml
/// uses: remind
/// with: { to: [secretary@unit, director@unit], message: "{{unit.name}}：请…" }
/// ```
public struct RemindPlugin: StepPlugin {
    public let name = "remind"
    public init() {}

    public var inputSchema: StepInputSchema {
        StepInputSchema(name: name, fields: [
            .init("to", .roleReferences, required: true),
            .init("message", .template, required: true),
        ])
    }

    public func run(_ context: StepContext) -> StepOutcome {
        guard let message = context.input?["message"]?.text else {
            return .failed(reason: "remind needs 'message'", retryAt: nil)
        }
        guard let to = context.input?["to"] else {
            return .failed(reason: "remind needs 'to'", retryAt: nil)
        }
        var recipients: [Person] = []
        for reference in to.items.compactMap(\.text) {
            do {
                for person in try context.services.resolve(reference) where !recipients.contains(person) {
                    recipients.append(person)
                }
            } catch {
                return .failed(reason: "cannot remind \(reference): \(error.message)", retryAt: nil)
            }
        }
        guard !recipients.isEmpty else {
            return .failed(reason: "nobody to remind: \(to.items.compactMap(\.text).joined(separator: ", ")) resolve to no one", retryAt: nil)
        }
        return .awaitAcknowledgement(ReminderRequest(recipients: recipients, message: message))
    }
}
