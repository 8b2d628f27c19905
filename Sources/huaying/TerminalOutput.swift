import ControlProtocol

/// Every line of human output goes through here: this `print` shadows the standard library's
/// within the CLI, so text that came from the daemon or a file (a staff member's note, a
/// title, an error naming a value) reaches the terminal with its control characters as
/// visible escapes (``ControlCharacters/terminalSafe(_:)``) whichever command prints it.
///
/// Output that must stay byte for byte calls `Swift.print` on purpose: `--json` (JSON
/// escapes control characters itself) and the CSV export (whose cells are made safe one by one).
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator)
    Swift.print(ControlCharacters.terminalSafe(text), terminator: terminator)
}
