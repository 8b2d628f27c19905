import Foundation
import WorkflowModel

/// Output helpers shared by the offline commands (lint, plan, calendar).
enum OfflineOutput {
    /// Prints a value as pretty JSON with sorted keys on standard output.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// A path relative to the current directory when it lies below it, for shorter messages.
    static func shortPath(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// A diagnostic with its path shortened.
    static func text(of diagnostic: Diagnostic) -> String {
        var copy = diagnostic
        copy.file = shortPath(diagnostic.file)
        return copy.description
    }

    /// Columns padded to their widest cell, counting CJK characters as two columns.
    static func table(_ rows: [[String]], gap: Int = 2) -> String {
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

    /// Terminal columns of a string: East Asian wide and full-width characters take two.
    static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { width, scalar in
            let v = scalar.value
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
            let zero = (0x0300...0x036F).contains(v) || v == 0x200B
            return width + (zero ? 0 : wide ? 2 : 1)
        }
    }

    /// `2026-10-08 周四`.
    static func day(_ date: CivilDate) -> String { "\(date) \(date.weekday.chineseName)" }

    /// Parses `--start`/`--now` values: a date (at 00:00), a date and time, or `now`.
    static func instant(_ text: String, zone: TimeZone) -> Date? {
        if text == "now" { return Date() }
        if let date = CivilDate(text) { return LocalDateTime(date: date, time: .midnight).instant(in: zone) }
        if let dateTime = LocalDateTime(text) { return dateTime.instant(in: zone) }
        return nil
    }
}
