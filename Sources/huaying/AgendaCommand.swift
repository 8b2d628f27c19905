import ArgumentParser
import ControlProtocol
import Foundation
import WorkflowModel

/// `huaying agenda [--from DATE] [--until DATE|+7d] [--under UNIT] [--overdue] [--ics FILE]`:
/// what is due or overdue across the caller's units, by date.
struct Agenda: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractAgenda(),
        discussion: """
            One line per step not yet done of a running instance you can see (your units and \
            those below them; an admin sees all): its date and weekday (the open reminder's \
            acknowledgement deadline, else when the step falls due), unit, workflow, step, who \
            holds it and its state, overdue and escalated ones marked (in colour on a \
            terminal). Default: the next 7 days, plus everything overdue whatever its date. \
            --ics writes the same items as an iCalendar file (a deadline at 00:00 as an all-day \
            event, others as 30-minute events); each event's UID names the instance and step, \
            so importing a newer file updates the events rather than adding copies.
            """
    )

    @OptionGroup var globals: GlobalOptions
    @OptionGroup var table: TableOptions

    @Flag(name: .long, help: "Print {\"from\", \"until\", \"items\": […]} for scripts.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("From this day (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM) (default: now).", valueName: "date"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Up to this day (inclusive), this time, or a length after --from such as +7d or +2w (default: +7d).", valueName: "date"))
    var until: String?

    @Option(name: .long, help: ArgumentHelp("Only instances of this unit and the units below it.", valueName: "unit"))
    var under: String?

    @Flag(name: .long, help: "Only what is overdue.")
    var overdue = false

    @Option(name: .long, help: ArgumentHelp("Also write the items as an iCalendar file here.", valueName: "file"))
    var ics: String?

    func run() throws {
        var arguments: [String: JSONValue] = ["overdue": .bool(overdue)]
        if let from { arguments["from"] = .string(from) }
        if let until { arguments["until"] = .string(until) }
        if let under { arguments["under"] = .string(under) }
        var result = try EngineOutput.call("agenda", arguments: arguments, globals: globals, as: AgendaResult.self)
        // A page per 5 instances (the daemon never holds its loop for a long listing).
        var next = result.nextBefore
        while let before = next {
            var page = arguments
            page["before"] = .number(Double(before))
            let more = try EngineOutput.call("agenda", arguments: page, globals: globals, as: AgendaResult.self)
            result.items += more.items
            next = more.nextBefore
        }
        result.items.sort { ($0.at, $0.instance, $0.step) < ($1.at, $1.instance, $1.step) }
        result.nextBefore = nil
        if let ics {
            // The configured zone when the config can be read, else the one the instants were written in.
            let zone = (try? HuayingConfig.load(path: globals.configPath).timeZone) ?? Self.zone(of: result.from)
            let text = ICalendar.document(result.items, name: "Huaying agenda", stamp: Date(), zone: zone)
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: ics))
            } catch {
                printError(Message.errorCommand("agenda", "\(ics): \(error.localizedDescription)"))
                throw ExitCode(ExitStatus.failed)
            }
            if !json { printError(Message.agendaWrote(ics, result.items.count)) }
        }
        if json {
            try printJSON(result)
            return
        }
        if result.items.isEmpty {
            print(Message.agendaNothing(EngineOutput.time(result.from), EngineOutput.time(result.until)))
            return
        }
        Self.layout(result.items).print(wide: table.wide)
    }

    /// The zone the daemon wrote its instants in (the configured one), from an instant's offset.
    static func zone(of instant: String) -> TimeZone {
        let offset = instant.suffix(6)
        guard offset.count == 6, let sign = offset.first, sign == "+" || sign == "-",
              let hours = Int(offset.dropFirst().prefix(2)), let minutes = Int(offset.suffix(2))
        else { return TimeZone(identifier: "UTC")! }
        let seconds = (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
        return TimeZone(secondsFromGMT: seconds) ?? TimeZone(identifier: "UTC")!
    }

    static func layout(_ items: [AgendaItem]) -> TableLayout {
        var table = TableLayout([
            .init(header: Message.headerDate()), .init(header: Message.headerUnit()), .init(header: Message.headerWorkflow()),
            .init(header: Message.headerStep()), .init(header: Message.headerTitle(), wideOnly: true, flexible: true),
            .init(header: Message.headerWho()), .init(header: Message.headerState()),
            .init(header: Message.headerInstance(), wideOnly: true), .init(header: Message.headerDeadline(), wideOnly: true),
        ])
        for item in items {
            table.append([
                ProvisionalMark.time(item.at, item.provisionalYears), item.unitName ?? item.unit ?? "-", item.workflow, item.step, item.stepTitle,
                item.assignees.isEmpty ? "-" : item.assignees.joined(separator: ", "), state(item), String(item.instance),
                ProvisionalMark.time(item.deadline, item.provisionalYears),
            ], mark: item.overdue ? .overdue : item.escalated ? .escalated : nil)
        }
        return table
    }

    /// 逾期 / 已升级至乡镇 / the step's state.
    static func state(_ item: AgendaItem) -> String {
        var words: [String] = []
        if item.overdue { words.append(Message.overdue()) }
        if item.escalated { words.append(Message.escalated()) }
        return words.isEmpty ? Catalogue.stepState(item.state) : words.joined(separator: " · ")
    }
}

/// `huaying whoami`: whom the daemon takes you for.
struct Whoami: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: Message.abstractWhoami(),
        discussion: "Your Unix user as the daemon reads it from the socket (or the --as user), your name and roles in the org chart, the units whose instances you see, and whether you are an admin.")

    @OptionGroup var globals: GlobalOptions

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        let result = try EngineOutput.call("whoami", globals: globals, as: WhoamiResult.self)
        if json {
            try printJSON(result)
            return
        }
        print(Message.whoamiUser(result.name.map { "\(result.user)（\($0)）" } ?? result.user))
        print(result.admin ? Message.whoamiAdmin() : Message.whoamiNotAdmin())
        if result.inOrgChart {
            if result.roles.isEmpty {
                print(Message.whoamiNoRoles())
            } else {
                print(Message.whoamiRoles())
                print(TextFormatting.table(result.roles.map { ["  " + $0.roleName, $0.role, $0.unitName, $0.unit] }))
            }
        } else {
            print(Message.whoamiNotInChart(result.user))
        }
        if result.actor != result.user { print(Message.whoamiActingAs(result.actor, result.user)) }
        if let units = result.units { print(Message.whoamiUnits(units.joined(separator: ", "))) }
        if result.admin, !result.inOrgChart, result.user == result.actor { print(Message.whoamiUseAs()) }
    }
}
