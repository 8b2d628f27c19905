import Foundation
import StepPluginAPI

/// `escalate`: when a reminder is not acknowledged in time, goes one level up the chain per
/// `every` (社区呼叫、街道吹哨). Level k (1-based) notifies the holders of `chain[k-1]`; after the
/// last level the reminder stays open and shows as overdue.
///
/// ```yaml
/// ack:
///   within: 2 days
///   escalate:
///     uses: escalate
///     with: { chain: [civil-affairs@township, civil-affairs@county], every: 1 workday }
/// ```
public struct EscalatePlugin: StepPlugin {
    public let name = "escalate"
    public init() {}

    public var inputSchema: StepInputSchema {
        StepInputSchema(name: name, fields: [
            .init("chain", .roleReferenceList, required: true),
            .init("every", .duration, required: true),
            .init("message", .template),
        ])
    }

    public func run(_ context: StepContext) -> StepOutcome {
        guard let reminder = context.reminder else {
            return .failed(reason: "escalate runs only for an unacknowledged reminder (use it under ack.escalate)", retryAt: nil)
        }
        let chain = context.input?["chain"]?.items.compactMap(\.text) ?? []
        let level = reminder.level + 1
        guard level <= chain.count else {
            return .failed(reason: "escalation chain exhausted at level \(reminder.level)", retryAt: nil)
        }
        let reference = chain[level - 1]
        let people: [Person]
        do {
            people = try context.services.resolve(reference)
        } catch {
            return .failed(reason: "cannot escalate to \(reference): \(error.message)", retryAt: nil)
        }
        var next: Date?
        if level < chain.count {
            let every = context.input?["every"]?.text ?? "1 day"
            do {
                next = try context.services.add(every, to: context.due)
            } catch {
                return .failed(reason: "bad 'every' (\(every)): \(error.message)", retryAt: nil)
            }
        }
        let names = people.map { "\($0.name)(\($0.user))" }.joined(separator: "、")
        var text = "未按时确认，升级至第\(level)级：\(reference) \(names)"
        if let custom = context.input?["message"]?.text, !custom.isEmpty { text += "。" + custom }
        return .escalated(level: level, to: people,
                          note: LedgerNote(text: text, fields: ["level": "\(level)", "to": people.map(\.user).joined(separator: ",")]),
                          next: next)
    }
}
