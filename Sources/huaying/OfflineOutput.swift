import Foundation
import WorkflowModel

/// Output helpers shared by the offline commands (lint, plan, calendar); tables and JSON use
/// `TextFormatting.table` and `printJSON` like every other command.
enum OfflineOutput {
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
