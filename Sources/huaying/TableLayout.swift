import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--wide` for the commands that print tables (as `kubectl get -o wide`).
struct TableOptions: ParsableArguments {
    @Flag(name: .long, help: "Show every column (by default the table fits the terminal: some columns are left out, long text is cut).")
    var wide = false
}

/// What the terminal allows: its width and whether to colour.
enum Terminal {
    /// The width to fit tables to: `$COLUMNS` when set, else the terminal's when standard
    /// output is one, else none (a pipe or a file gets whole lines).
    static func columns(environment: [String: String] = ProcessInfo.processInfo.environment,
                        isTerminal: Bool = isatty(STDOUT_FILENO) == 1) -> Int? {
        if let text = environment["COLUMNS"], let value = Int(text), value > 0 { return value }
        guard isTerminal else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Colour only on a terminal, never with `NO_COLOR` set (https://no-color.org) or `TERM=dumb`.
    static func colours(environment: [String: String] = ProcessInfo.processInfo.environment,
                        isTerminal: Bool = isatty(STDOUT_FILENO) == 1) -> Bool {
        guard isTerminal else { return false }
        if let value = environment["NO_COLOR"], !value.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }
}

/// A table for people: a header and rows, some columns only with `--wide`, one column that
/// may be cut to fit the width, and rows that may be marked (coloured on a terminal).
struct TableLayout {
    enum Mark { case overdue, escalated }

    struct Column {
        var header: String
        /// Shown only with `--wide`.
        var wideOnly = false
        /// Cut (with `…`) to fit the width.
        var flexible = false
    }

    var columns: [Column]
    var rows: [[String]] = []
    var marks: [Int: Mark] = [:]

    init(_ columns: [Column]) { self.columns = columns }

    mutating func append(_ row: [String], mark: Mark? = nil) {
        if let mark { marks[rows.count] = mark }
        rows.append(row)
    }

    /// The table laid out: narrow (no wide-only columns) unless `wide`, the flexible column cut
    /// so lines fit `width` (never below 12 columns), marked rows in colour when `colour`.
    func render(wide: Bool, width: Int?, colour: Bool) -> String {
        let kept = columns.indices.filter { wide || !columns[$0].wideOnly }
        var cells = [kept.map { columns[$0].header }] + rows.map { row in kept.map { $0 < row.count ? row[$0] : "" } }
        if !wide, let width, let flexible = kept.firstIndex(where: { columns[$0].flexible }) {
            let natural = TextFormatting.table(cells).split(separator: "\n").map { TextFormatting.displayWidth(String($0)) }.max() ?? 0
            if natural > width {
                let widest = cells.map { TextFormatting.displayWidth($0[flexible]) }.max() ?? 0
                let room = max(12, widest - (natural - width))
                for index in cells.indices where index > 0 {
                    cells[index][flexible] = TextFormatting.truncate(cells[index][flexible], toWidth: room)
                }
            }
        }
        let lines = TextFormatting.table(cells).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard colour else { return lines.joined(separator: "\n") }
        return lines.enumerated().map { index, line in
            guard index > 0, let mark = marks[index - 1] else { return line }
            // Red for overdue, yellow for escalated; the text was made safe by `table`.
            return (mark == .overdue ? "\u{1B}[31m" : "\u{1B}[33m") + line + "\u{1B}[0m"
        }.joined(separator: "\n")
    }

    /// Prints the table as `render` lays it out for this terminal. Colour escapes are ours, so
    /// this goes past the terminal-safe `print` (every cell already went through it).
    func print(wide: Bool) {
        Swift.print(render(wide: wide, width: Terminal.columns(), colour: Terminal.colours()))
    }
}
