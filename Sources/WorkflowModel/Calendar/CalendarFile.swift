import Foundation
import Yams

/// Reads calendar files (`etc/calendars/<id>.yaml`).
///
/// ```yaml
/// calendar: cn-mainland
/// title: 中国大陆法定节假日
/// weekend: [saturday, sunday]
/// statutory_days_off: cn-2024   # optional: days off of years not listed (provisional)
/// years:
///   2026:
///     source: 国务院办公厅关于2026年部分节假日安排的通知
///     holidays:
///       - name: 国庆节
///         off: 2026-10-01..2026-10-07      # one date, or first..last inclusive
///         workdays: [2026-09-20, 2026-10-10] # make-up workdays (调休上班)
/// ```
public enum CalendarFile {
    /// Parses and validates one calendar file.
    /// - Returns: the calendar (nil when there were errors) and every finding.
    public static func check(_ file: YAMLFile) -> (calendar: WorkCalendar?, diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        guard let root = file.root else {
            return (nil, [.error(file.start, "the calendar file is empty; expected keys: calendar, title, weekend, years")])
        }
        guard var top = MappingReader(root, in: file, what: "the calendar file", diagnostics: &diagnostics) else {
            return (nil, diagnostics)
        }
        let id = top.string("calendar", required: true)
        if let id, let node = top.value("calendar"), !RoleReference.isIdentifier(id) {
            top.report(.error, at: node, "'calendar' must be an id of letters, digits and '-'; found '\(id)'")
        }
        let title = top.string("title") ?? id ?? ""
        var weekend: Set<Weekday> = [.saturday, .sunday]
        if let nodes = top.sequence("weekend") {
            weekend = []
            for node in nodes {
                guard let text = file.text(node, what: "a weekend day", diagnostics: &diagnostics) else { continue }
                if let day = Weekday(rawValue: text.lowercased()) {
                    weekend.insert(day)
                } else {
                    diagnostics.append(.error(file.location(of: node), "unknown weekday '\(text)'; expected one of: \(Weekday.allCases.map(\.rawValue).joined(separator: ", "))"))
                }
            }
        }
        var statutoryRule: StatutoryHolidayRule?
        if let text = top.string("statutory_days_off"), let node = top.value("statutory_days_off") {
            if let rule = StatutoryHolidayRule(rawValue: text) {
                statutoryRule = rule
            } else {
                top.report(.error, at: node, "unknown statutory rule '\(text)' in 'statutory_days_off'; expected one of: \(StatutoryHolidayRule.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        var years: [WorkCalendar.Year] = []
        if let yearsNode = top.value("years", required: true) {
            if case let .mapping(mapping) = yearsNode {
                var seen: [Int: Int] = [:]
                for (keyNode, value) in mapping {
                    guard let text = keyNode.scalar?.string, let year = Int(text), (1900...2999).contains(year) else {
                        diagnostics.append(.error(file.location(of: keyNode), "expected a year such as 2026 as the key, found '\(keyNode.scalar?.string ?? keyNode.kindName)'"))
                        continue
                    }
                    if let line = seen[year] {
                        diagnostics.append(.error(file.location(of: keyNode), "year \(year) is listed twice (first on line \(line))"))
                        continue
                    }
                    seen[year] = file.location(of: keyNode).line
                    if let parsed = parseYear(year, value, file: file, diagnostics: &diagnostics) { years.append(parsed) }
                }
            } else {
                top.report(.error, at: yearsNode, "'years' must be a mapping from year to that year's holidays, found \(yearsNode.kindName)")
            }
        }
        diagnostics = top.finish() + diagnostics
        checkOverlaps(years, file: file, root: root, diagnostics: &diagnostics)
        let hasErrors = diagnostics.contains { $0.severity == .error }
        guard !hasErrors, let id else { return (nil, diagnostics.sortedByPosition()) }
        return (WorkCalendar(id: id, title: title, weekend: weekend, years: years, statutoryRule: statutoryRule), diagnostics.sortedByPosition())
    }

    /// Reads, parses and validates one calendar file.
    /// - Throws: `DiagnosticsError` when it cannot be used; warnings alone do not throw.
    public static func load(path: String) throws(DiagnosticsError) -> WorkCalendar {
        let file: YAMLFile
        do { file = try YAMLFile(path: path) } catch { throw DiagnosticsError([error]) }
        let result = check(file)
        guard let calendar = result.calendar else { throw DiagnosticsError(result.diagnostics) }
        return calendar
    }

    private static func parseYear(_ year: Int, _ node: Node, file: YAMLFile, diagnostics: inout [Diagnostic]) -> WorkCalendar.Year? {
        guard var reader = MappingReader(node, in: file, what: "year \(year)", diagnostics: &diagnostics) else { return nil }
        let source = reader.string("source", required: true)
        var holidays: [WorkCalendar.Holiday] = []
        for item in reader.sequence("holidays", required: true) ?? [] {
            guard var entry = MappingReader(item, in: file, what: "a holiday of \(year)", diagnostics: &diagnostics) else { continue }
            let name = entry.string("name", required: true)
            var off: [CivilDate] = []
            if let node = entry.value("off", required: true), let text = file.text(node, what: "'off'", diagnostics: &diagnostics) {
                if let range = parseRange(text) {
                    off = range
                    for day in [range.first!, range.last!] where abs(day.year - year) > 1 {
                        diagnostics.append(.error(file.location(of: node), "\(day) is too far from \(year); expected days off in or next to that year"))
                    }
                } else {
                    diagnostics.append(.error(file.location(of: node), "'off' must be a date (2026-10-01) or a range first..last (2026-10-01..2026-10-07); found '\(text)'"))
                }
            }
            var makeUp: [CivilDate] = []
            for node in entry.sequence("workdays", allowSingle: true) ?? [] {
                guard let text = file.text(node, what: "a make-up workday", diagnostics: &diagnostics) else { continue }
                guard let day = CivilDate(text) else {
                    diagnostics.append(.error(file.location(of: node), "a make-up workday must be a date YYYY-MM-DD; found '\(text)'"))
                    continue
                }
                makeUp.append(day)
            }
            diagnostics += entry.finish()
            if let name { holidays.append(.init(name: name, daysOff: off, makeUpWorkdays: makeUp)) }
        }
        diagnostics += reader.finish()
        return source.map { WorkCalendar.Year(year: year, source: $0, holidays: holidays) }
    }

    /// `2026-10-01` or `2026-10-01..2026-10-07` (spaces around `..` allowed).
    static func parseRange(_ text: String) -> [CivilDate]? {
        let parts = text.components(separatedBy: "..").map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...2).contains(parts.count), let first = CivilDate(parts[0]) else { return nil }
        let last = parts.count == 2 ? CivilDate(parts[1]) : first
        guard let last, first <= last, last.dayNumber - first.dayNumber < 60 else { return nil }
        return (first.dayNumber...last.dayNumber).map(CivilDate.init(dayNumber:))
    }

    /// Days given twice, days both off and make-up, make-up days that are already workdays.
    private static func checkOverlaps(_ years: [WorkCalendar.Year], file: YAMLFile, root: Node, diagnostics: inout [Diagnostic]) {
        var off: [CivilDate: String] = [:]
        var work: [CivilDate: String] = [:]
        let anchor = SourceLocation(file: file.path, line: root.mark?.line ?? 1, column: root.mark?.column ?? 1)
        for year in years {
            for holiday in year.holidays {
                for day in holiday.daysOff {
                    if let other = off[day] {
                        diagnostics.append(.error(location(of: day, in: file) ?? anchor, "\(day) is a day off of both \(other) and \(holiday.name); expected each day once"))
                    }
                    off[day] = holiday.name
                }
                for day in holiday.makeUpWorkdays {
                    if let other = work[day] {
                        diagnostics.append(.error(location(of: day, in: file) ?? anchor, "\(day) is a make-up workday of both \(other) and \(holiday.name); expected each day once"))
                    }
                    work[day] = holiday.name
                }
            }
        }
        for (day, name) in work {
            if let other = off[day] {
                diagnostics.append(.error(location(of: day, in: file) ?? anchor, "\(day) is both a day off (\(other)) and a make-up workday (\(name))"))
            } else if day.weekday != .saturday && day.weekday != .sunday {
                diagnostics.append(.warning(location(of: day, in: file) ?? anchor, "make-up workday \(day) (\(name)) is a \(day.weekday.rawValue), already a workday; expected a weekend day"))
            }
        }
    }

    /// Where a date first appears in the text (for findings computed after parsing).
    private static func location(of day: CivilDate, in file: YAMLFile) -> SourceLocation? {
        let needle = day.description
        for (index, line) in file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let range = line.range(of: needle) {
                let column = line.unicodeScalars.distance(from: line.unicodeScalars.startIndex, to: range.lowerBound) + 1
                return SourceLocation(file: file.path, line: index + 1, column: column)
            }
        }
        return nil
    }
}

/// The calendars of a folder, by id.
public struct CalendarLibrary: Sendable {
    public var calendars: [String: WorkCalendar]

    public init(_ calendars: [WorkCalendar] = []) {
        self.calendars = Dictionary(calendars.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(id: String) -> WorkCalendar? { calendars[id] }

    public var ids: [String] { calendars.keys.sorted() }

    /// Loads every `*.yaml`/`*.yml` file of a folder; broken files are left out and reported.
    public static func load(directory: String) -> (library: CalendarLibrary, diagnostics: [Diagnostic]) {
        var calendars: [WorkCalendar] = []
        var diagnostics: [Diagnostic] = []
        var seen: [String: String] = [:]
        for path in YAMLFiles.list(in: directory, diagnostics: &diagnostics) {
            let file: YAMLFile
            do { file = try YAMLFile(path: path) } catch { diagnostics.append(error); continue }
            let result = CalendarFile.check(file)
            diagnostics += result.diagnostics
            guard let calendar = result.calendar else { continue }
            if let other = seen[calendar.id] {
                diagnostics.append(.error(file.start, "calendar id '\(calendar.id)' is also used by \(other); expected one file per calendar"))
                continue
            }
            seen[calendar.id] = path
            calendars.append(calendar)
        }
        return (CalendarLibrary(calendars), diagnostics)
    }
}

/// Finding YAML files in folders.
public enum YAMLFiles {
    /// The `*.yaml`/`*.yml` files directly in `directory`, sorted by name.
    public static func list(in directory: String, diagnostics: inout [Diagnostic]) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            diagnostics.append(Diagnostic(.error, file: directory, "cannot read folder: \((error as NSError).localizedDescription)"))
            return []
        }
        return names.filter { !$0.hasPrefix(".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) }
            .sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }
}

extension Array where Element == Diagnostic {
    /// Sorted by file, line, column; findings without a position first. Stable for equal positions.
    public func sortedByPosition() -> [Diagnostic] {
        enumerated().sorted { a, b in
            let l = (a.element.file, a.element.line ?? 0, a.element.column ?? 0, a.offset)
            let r = (b.element.file, b.element.line ?? 0, b.element.column ?? 0, b.offset)
            return l < r
        }.map(\.element)
    }
}
