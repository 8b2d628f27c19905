import ControlProtocol
import Foundation
import WorkflowModel

/// Pure text helpers for the CLI's human output and exports: terminal-safe text, display
/// width, tables padded by display width, RFC 4180 CSV, instants and durations for people.
/// (Unit-tested by `CLITextTests`.)
enum TextFormatting {
    // MARK: Terminal safety

    // MARK: Display width

    /// Terminal columns of a string: East Asian wide and full-width characters (CJK ideographs,
    /// kana, hangul, full-width punctuation such as `，` and `（`, most emoji) take two columns,
    /// combining marks and zero-width characters none, everything else one.
    static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + displayWidth(of: $1) }
    }

    static func displayWidth(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if (0x0300...0x036F).contains(v) || (0x200B...0x200F).contains(v) || (0x20D0...0x20FF).contains(v)
            || (0xFE00...0xFE0F).contains(v) || v == 0x2060 || v == 0xFEFF {
            return 0
        }
        let wide = (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
            || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
            || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
            || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v)
            || (0x1F300...0x1F64F).contains(v) || (0x1F900...0x1F9FF).contains(v)
            || (0x20000...0x3FFFD).contains(v)
        return wide ? 2 : 1
    }

    /// `text` cut to at most `width` display columns, ending in `…` when cut. Line breaks become
    /// spaces, other control characters visible escapes (``ControlCharacters/terminalSafe(_:)``).
    static func truncate(_ text: String, toWidth width: Int) -> String {
        let flat = ControlCharacters.terminalSafe(text.replacingLineBreaks())
        guard displayWidth(flat) > width else { return flat }
        var result = ""
        var used = 0
        for character in flat {
            let w = displayWidth(String(character))
            if used + w > width - 1 { break }
            result.append(character)
            used += w
        }
        return result + "…"
    }

    /// Rows laid out in columns padded to the widest cell by display width, `gap` spaces apart,
    /// without trailing spaces; one line per row (line breaks and tabs in a cell become spaces,
    /// other control characters visible escapes). The first row is usually the header.
    static func table(_ rows: [[String]], gap: Int = 2) -> String {
        let rows = rows.map { $0.map { ControlCharacters.terminalSafe($0.replacingLineBreaks().replacingOccurrences(of: "\t", with: " ")) } }
        let columns = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], displayWidth(cell)) }
        }
        return rows.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                line += cell
                if index < row.count - 1 {
                    line += String(repeating: " ", count: widths[index] - displayWidth(cell) + gap)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    // MARK: CSV

    /// One CSV field (RFC 4180): quoted, with quotes doubled, when it contains a comma, a double
    /// quote, a carriage return or a line feed; otherwise as is.
    ///
    /// A field a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, a tab or
    /// a carriage return) gets a leading `'`, so opening the export never runs it; control
    /// characters other than tab, CR and LF become visible escapes (``ControlCharacters/terminalSafe(_:)``).
    static func csvField(_ field: String) -> String {
        var field = ControlCharacters.escaping(field, keeping: ["\t", "\r", "\n"])
        if let first = field.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            field = "'" + field
        }
        let needsQuotes = field.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Records as RFC 4180 CSV: fields joined by commas, every record (the last too) ended by CRLF.
    static func csv(_ records: [[String]]) -> String {
        records.map { $0.map(csvField).joined(separator: ",") + "\r\n" }.joined()
    }

    // MARK: Instants and durations

    /// An ISO 8601 instant from the daemon (`2026-11-25T09:00:00+08:00`) for people:
    /// `2026-11-25 周三 09:00`, in the offset the daemon wrote (the configured zone); seconds
    /// only when not zero. Text that is not such an instant comes back unchanged.
    static func instant(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= scalars.count else { return nil }
            var value = 0
            for scalar in scalars[range] {
                guard ("0"..."9").contains(scalar) else { return nil }
                value = value * 10 + Int(scalar.value - 48)
            }
            return value
        }
        guard scalars.count >= 16, scalars[4] == "-", scalars[7] == "-", scalars[10] == "T" || scalars[10] == " ",
              scalars[13] == ":",
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16),
              hour < 24, minute < 60, let civil = CivilDate(year: year, month: month, day: day)
        else { return text }
        var seconds = 0
        if scalars.count >= 19, scalars[16] == ":", let value = number(17..<19) { seconds = value }
        let date = String(text.unicodeScalars.prefix(10))
        var time = format2(hour) + ":" + format2(minute)
        if seconds != 0 { time += ":" + format2(seconds) }
        return "\(date) \(civil.weekday.chineseName) \(time)"
    }

    /// A length of time for people, largest units first, down to minutes: `3h12m`, `2d4h`,
    /// `1d0h5m` is written `1d5m`; under a minute in seconds (`45s`); zero is `0s`. In Chinese
    /// the same with Chinese units: `3小时12分`, `2天4小时`, `45秒`.
    static func duration(seconds: Int, language: Language = .current) -> String {
        let total = abs(seconds)
        let sign = seconds < 0 ? "-" : ""
        if total < 60 { return sign + Message.unitSeconds.text(in: language, ["\(total)"]) }
        let days = total / 86_400, hours = total % 86_400 / 3600, minutes = total % 3600 / 60
        var text = sign
        if days > 0 { text += Message.unitDays.text(in: language, ["\(days)"]) }
        if hours > 0 { text += Message.unitHours.text(in: language, ["\(hours)"]) }
        if minutes > 0 { text += Message.unitMinutes.text(in: language, ["\(minutes)"]) }
        return text
    }

    private static func format2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension String {
    /// Line breaks (CR, LF, CRLF) as single spaces, so a cell stays on one line.
    func replacingLineBreaks() -> String {
        String(map { $0.isNewline ? " " : $0 })
    }
}
