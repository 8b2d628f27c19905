import ControlProtocol
import Foundation
import Logging

/// Writes one plain line per log event to standard error.
///
/// Under systemd (`JOURNAL_STREAM` is set) each line starts with the syslog priority in angle
/// brackets (`<6>`), which journald turns into the entry's priority and strips; journald adds
/// the time and unit itself. Elsewhere (a terminal, a test) lines start with a UTC timestamp
/// and the level. Metadata follows the message as `key=value`, dotted keys sorted.
struct JournalLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let label: String
    let underJournald: Bool

    init(label: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.label = label
        self.underJournald = environment["JOURNAL_STREAM"] != nil
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let extra = event.metadata { all.merge(extra) { $1 } }
        if let error = event.error { all["error"] = "\(error)" }
        var line = underJournald
            ? "<\(Self.syslogPriority(event.level))>"
            : "\(Self.timestamp()) \(event.level.rawValue.uppercased()) "
        // One event, one line, nothing a terminal obeys: a message may quote a file or a note.
        line += ControlCharacters.escaping(event.message.description)
        for key in all.keys.sorted() {
            line += " \(key)=\(Self.quoted("\(all[key]!)"))"
        }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// sd-daemon(3) priorities.
    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func quoted(_ value: String) -> String {
        if value.isEmpty || value.unicodeScalars.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || ControlCharacters.isControl($0) })
            || value.contains(where: \.isNewline) {
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\"\(ControlCharacters.escaping(escaped))\""
        }
        return value
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
