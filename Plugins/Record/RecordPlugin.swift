import StepPluginAPI

/// `record`: writes one ledger entry and completes.
///
/// ```yaml
/// uses: record
/// with: { text: "选民名单已公布", fields: { acked_by: "{{steps.publish-voter-list.acked_by}}" } }
/// ```
public struct RecordPlugin: StepPlugin {
    public let name = "record"
    public init() {}

    public var inputSchema: StepInputSchema {
        StepInputSchema(name: name, fields: [
            .init("text", .template, required: true),
            .init("fields", .templateMapping),
        ])
    }

    public func run(_ context: StepContext) -> StepOutcome {
        guard let text = context.input?["text"]?.text else {
            return .failed(reason: "record needs 'text'", retryAt: nil)
        }
        var fields: [String: String] = [:]
        if case let .mapping(entries)? = context.input?["fields"] {
            for entry in entries { fields[entry.key] = entry.value.text ?? "" }
        }
        return .completed(LedgerNote(text: text, fields: fields))
    }
}
