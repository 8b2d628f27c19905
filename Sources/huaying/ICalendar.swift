import ControlProtocol
import Foundation

/// iCalendar (RFC 5545) for `huaying agenda --ics`: one VEVENT per item, for WPS, Outlook and
/// phone calendars. The UID names the instance and the step, so importing a later export
/// updates the same events instead of adding copies.
enum ICalendar {
    /// The file's text: CRLF line ends, long lines folded at 75 octets (never inside a UTF-8
    /// sequence), text values escaped.
    static func document(_ items: [AgendaItem], name: String, stamp: Date, zone: TimeZone) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Huaying//huaying agenda//EN", "CALSCALE:GREGORIAN",
                     "METHOD:PUBLISH", "X-WR-CALNAME:" + escape(name)]
        // Timed events are in UTC; the zone (an IANA name) only tells calendars how to show them.
        if zone.identifier.contains("/") { lines.append("X-WR-TIMEZONE:" + zone.identifier) }
        for item in items {
            guard let at = EngineOutput.parseInstant(item.at) else { continue }
            lines.append("BEGIN:VEVENT")
            lines.append("UID:" + uid(item))
            lines.append("DTSTAMP:" + utc(stamp))
            if isMidnight(at, zone: zone) {
                // A deadline "by the day": an all-day event on that date.
                lines.append("DTSTART;VALUE=DATE:" + day(at, zone: zone))
                lines.append("DTEND;VALUE=DATE:" + day(at.addingTimeInterval(86_400), zone: zone))
            } else {
                lines.append("DTSTART:" + utc(at))
                lines.append("DURATION:PT30M")
            }
            var summary = "\(item.unitName ?? item.unit ?? "-") · \(item.stepTitle)"
            if item.overdue { summary = "[\(Message.overdue())] " + summary }
            if item.escalated { summary = "[\(Message.escalated())] " + summary }
            if item.provisional { summary += ProvisionalMark.text }
            lines.append("SUMMARY:" + escape(summary))
            var description = ["\(item.title) (\(item.workflow)) · \(Message.headerInstance()) \(item.instance) · \(Message.headerStep()) \(item.step)"]
            if !item.assignees.isEmpty { description.append("\(Message.headerWho()): \(item.assignees.joined(separator: ", "))") }
            if let deadline = item.deadline { description.append("\(Message.headerDeadline()): \(EngineOutput.time(deadline))") }
            if let ackBy = item.ackBy { description.append("\(Message.headerAckBy()): \(EngineOutput.time(ackBy))") }
            if let note = ProvisionalMark.note(item.provisionalYears) { description.append(note) }
            lines.append("DESCRIPTION:" + escape(description.joined(separator: "\n")))
            lines.append("CATEGORIES:" + escape(item.workflow))
            lines.append("STATUS:CONFIRMED")
            lines.append("END:VEVENT")
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// `huaying-instance-12-step-notify@huaying`: stable for the same instance and step.
    static func uid(_ item: AgendaItem) -> String {
        let step = item.step.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" ? String($0) : "." }.joined()
        return "huaying-instance-\(item.instance)-step-\(step)@huaying"
    }

    /// A TEXT value: backslash, semicolon and comma escaped, line breaks as `\n`, other
    /// control characters dropped.
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case ";": result += "\\;"
            case ",": result += "\\,"
            case "\n": result += "\\n"
            case "\r": continue
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { continue }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A content line folded into lines of at most 75 octets, continuations starting with a space.
    static func fold(_ line: String) -> String {
        var pieces: [String] = []
        var current = ""
        var octets = 0
        for character in line {
            let size = String(character).utf8.count
            let limit = pieces.isEmpty ? 75 : 74
            if octets + size > limit {
                pieces.append(current)
                current = ""
                octets = 0
            }
            current.append(character)
            octets += size
        }
        pieces.append(current)
        return pieces.joined(separator: "\r\n ")
    }

    private static func utc(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    private static func day(_ date: Date, zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyyMMdd"
        return formatter.string(from: date)
    }

    private static func isMidnight(_ date: Date, zone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        return parts.hour == 0 && parts.minute == 0 && parts.second == 0
    }
}
