/// Text with `{{…}}` placeholders: `"{{unit.name}}：选民名单须在{{election_day - 20 days}}前公布"`.
///
/// A placeholder holds one of:
/// - a parameter, or a unit parameter's `name` / `id` / `kind` (`{{unit.name}}`), or its parent
///   unit's `parent.name` / `parent.id` (`{{unit.parent.name}}`: the township of a village);
/// - a step's result: `{{steps.<id>.done}}`, `acked_by`, `acked_at`, `note`, or a value its
///   acknowledgement carried: `{{steps.<id>.fields.<name>}}`, or a key of an external plugin's
///   `output`: `{{steps.<id>.output.<key>}}`;
/// - `start`, `workflow.id`, `workflow.title`, `instance.id`;
/// - in a step's `with:`, that step's own computed `deadline` and `ack_by` (`{{deadline}}`,
///   `{{ack_by}}`), rendered by `latestDayText(_:)` so a message cannot disagree with the date
///   the engine enforces;
/// - a time expression (`{{election_day - 20 days}}`), shown as a date.
public enum Template {
    public struct Placeholder: Hashable, Sendable {
        /// The text between the braces, trimmed.
        public var text: String
        /// Offset (Unicode scalars) of `text` in the template.
        public var offset: Int
    }

    /// What a placeholder names.
    public enum Reference: Hashable, Sendable {
        case param(String, attribute: String?)
        case step(String, field: String)
        case builtIn(String)
        case time(TimeExpression)
    }

    public static let stepFields = ["done", "acked_by", "acked_at", "note"]
    /// `item` is the current element of a `then.for_each` list (empty elsewhere).
    public static let builtIns = ["start", "workflow.id", "workflow.title", "instance.id", "item"] + stepBuiltIns
    /// The step's own computed times: `{{deadline}}` (its `deadline:`) and `{{ack_by}}` (when
    /// escalation starts). Only in a step's `with:`; the checker refuses them elsewhere.
    public static let stepBuiltIns = ["deadline", "ack_by"]

    /// How `{{deadline}}` and `{{ack_by}}` are written in a message: "2026-09-30（周三，含当日）",
    /// with " 18:00" before the bracket when the time is not the end of the day, so that
    /// "最迟于{{deadline}}" reads 最迟于2026-09-30 18:00（周三，含当日）. "X前" is ambiguous in
    /// Chinese (is X included?); this form is not.
    public static func latestDayText(_ time: LocalDateTime) -> String {
        let clock = time.time == .endOfDay ? "" : " \(time.time)"
        return "\(time.date)\(clock)（\(time.date.weekday.chineseName)，含当日）"
    }
    /// What `{{unit.<attribute>}}` may name; `OrgChart.value(ofAttribute:for:)` gives the text.
    public static let unitAttributes = ["name", "id", "kind", "parent.name", "parent.id"]

    /// The placeholders of a template.
    /// - Throws: `TimeExpressionError` (offset of the `{{`) for an unclosed or empty placeholder.
    public static func placeholders(in text: String) throws(TimeExpressionError) -> [Placeholder] {
        try scan(text).map(\.placeholder)
    }

    /// The template with every placeholder replaced by `value(placeholder text)`; a template
    /// that does not scan (unclosed `{{`, which `lint` reports) is returned unchanged.
    public static func render(_ text: String, _ value: (String) -> String) -> String {
        guard let found = try? scan(text), !found.isEmpty else { return text }
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var consumed = 0
        for item in found {
            output.append(contentsOf: scalars[consumed..<item.open])
            output.append(contentsOf: value(item.placeholder.text).unicodeScalars)
            consumed = item.end
        }
        output.append(contentsOf: scalars[consumed...])
        return String(output)
    }

    /// Each placeholder with the scalar range of its whole `{{ … }}` (`open..<end`).
    private static func scan(_ text: String) throws(TimeExpressionError) -> [(placeholder: Placeholder, open: Int, end: Int)] {
        let scalars = Array(text.unicodeScalars)
        var result: [(placeholder: Placeholder, open: Int, end: Int)] = []
        var i = 0
        while i + 1 < scalars.count {
            guard scalars[i] == "{", scalars[i + 1] == "{" else { i += 1; continue }
            let open = i
            var j = i + 2
            while j + 1 < scalars.count, !(scalars[j] == "}" && scalars[j + 1] == "}") { j += 1 }
            guard j + 1 < scalars.count else {
                throw TimeExpressionError(offset: open, "unclosed '{{'; expected '}}' after the placeholder")
            }
            var start = open + 2
            var end = j
            while start < end, scalars[start] == " " { start += 1 }
            while end > start, scalars[end - 1] == " " { end -= 1 }
            guard start < end else {
                throw TimeExpressionError(offset: open, "empty placeholder '{{}}'; expected a parameter, a step result or a time expression inside")
            }
            result.append((Placeholder(text: String(String.UnicodeScalarView(scalars[start..<end])), offset: start), open, j + 2))
            i = j + 2
        }
        return result
    }

    /// Classifies a placeholder's text.
    /// - Throws: `TimeExpressionError` relative to the placeholder text when it is none of the known forms.
    public static func reference(_ text: String) throws(TimeExpressionError) -> Reference {
        if builtIns.contains(text) { return .builtIn(text) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if !text.contains(" ") {
            if parts[0] == "steps" {
                // steps.<id>.fields.<name>: a value an acknowledgement carried (ack.fields).
                if parts.count == 4, parts[2] == "fields", RoleReference.isIdentifier(parts[1]), RoleReference.isIdentifier(parts[3]) {
                    return .step(parts[1], field: "fields." + parts[3])
                }
                // steps.<id>.output.<key>: a value an external plugin's result gave.
                if parts.count == 4, parts[2] == "output", RoleReference.isIdentifier(parts[1]), RoleReference.isIdentifier(parts[3]) {
                    return .step(parts[1], field: "output." + parts[3])
                }
                guard parts.count == 3, RoleReference.isIdentifier(parts[1]) else {
                    throw TimeExpressionError(offset: 0, "'\(text)' is not a step result; expected steps.<step-id>.<\(stepFields.joined(separator: "|"))>")
                }
                guard stepFields.contains(parts[2]) else {
                    throw TimeExpressionError(offset: 0, "unknown step result '\(parts[2])' in '\(text)'; expected one of: \(stepFields.joined(separator: ", "))")
                }
                return .step(parts[1], field: parts[2])
            }
            if parts.count <= 2, TimeExpressionParser.isParameterName(parts[0]) {
                return .param(parts[0], attribute: parts.count == 2 ? parts[1] : nil)
            }
            // unit.parent.name, unit.parent.id: the unit above (the checker rejects other names).
            if parts.count == 3, parts[1] == "parent", TimeExpressionParser.isParameterName(parts[0]) {
                return .param(parts[0], attribute: "parent." + parts[2])
            }
        }
        return .time(try TimeExpression.parse(text))
    }
}
