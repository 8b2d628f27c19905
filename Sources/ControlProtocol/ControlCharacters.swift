/// Control characters made visible, for every line a person reads (a terminal, the journal):
/// a note or a finding quotes what someone typed, and `"\e[2J"` is valid text and YAML.
public enum ControlCharacters {
    /// `text` with C0 controls, DEL, the C1 controls and the bidirectional overrides and
    /// isolates written as escapes (`\x1B`, `\u{202E}`), except the scalars in `keep`.
    public static func escaping(_ text: String, keeping keep: Set<Unicode.Scalar> = []) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && !keep.contains($0) }) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isControl(scalar), !keep.contains(scalar) else {
                result.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16, uppercase: true)
            let escape = scalar.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" : "") + hex : "\\u{" + hex + "}"
            result.append(contentsOf: escape.unicodeScalars)
        }
        return String(result)
    }

    /// Text from the daemon (a staff member's note, a workflow's title, an error naming a
    /// value) made safe to show on a terminal: control characters become visible escapes, so a
    /// note cannot clear the screen, set the window title, ring the bell or hide what follows.
    /// Line feed and tab are kept; everything else, CJK included, is unchanged. Applying it
    /// twice changes nothing more.
    public static func terminalSafe(_ text: String) -> String {
        escaping(text, keeping: ["\n", "\t"])
    }

    /// Whether `scalar` is one that ``escaping(_:keeping:)`` writes as an escape.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }
}
