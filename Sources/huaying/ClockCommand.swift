import ArgumentParser
import ControlProtocol
import Foundation

/// `huaying clock [advance DURATION | set T]`: the daemon's clock; moving it needs the simulated clock.
struct ClockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract: Message.abstractClock(),
        discussion: """
            Without a subcommand, prints the clock's mode (real or simulated) and its current \
            time. The clock moves only when the daemon runs on the simulated clock \
            (huayingd --simulated-clock 2026-11-01T09:00+08:00); everything that falls due \
            while it moves runs, in order, before the command returns.
            """,
        subcommands: [Advance.self, Set.self]
    )

    @OptionGroup var globals: GlobalOptions
    @OptionGroup var output: ClockOutputOptions

    func run() throws {
        try Self.move(arguments: [:], globals: globals, json: output.json)
    }

    /// Sends `clock` with the given move and prints the result.
    static func move(arguments: [String: JSONValue], globals: GlobalOptions, json: Bool) throws {
        let result = try EngineOutput.call("clock", arguments: arguments, globals: globals, as: ClockResult.self)
        if json {
            try printJSON(result)
            return
        }
        print(Message.clockLine(clockMode(result.mode), EngineOutput.time(result.now), result.now))
        if !arguments.isEmpty {
            print(Message.clockRan(result.stepsRun))
        }
    }

    /// `real` or `simulated` in the run's language.
    static func clockMode(_ mode: String) -> String {
        switch mode {
        case "real": return Message.clockModeReal()
        case "simulated": return Message.clockModeSimulated()
        default: return mode
        }
    }
}

/// `--json` for `clock` and its subcommands (a group, so `huaying clock --json` and
/// `huaying clock advance 3d --json` both work).
struct ClockOutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print the clock as JSON for scripts.")
    var json = false
}

extension ClockCommand {
    /// `huaying clock advance DURATION`.
    struct Advance: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: Message.abstractClockAdvance(),
            discussion: "DURATION is whole numbers with units w, d, h, m written together: 3d, 2h, 90m, 1w, 1d12h."
        )

        @OptionGroup var globals: GlobalOptions
        @OptionGroup var output: ClockOutputOptions

        @Argument(help: ArgumentHelp("How far to move, e.g. 3d or 1d12h.", valueName: "duration"))
        var duration: String

        @Flag(name: .long, help: "Confirm a move of more than a year (everything due on the way runs).")
        var yes = false

        func validate() throws {
            guard ClockDuration.seconds(in: duration) != nil else {
                throw ValidationError("'\(duration)' is not a duration; expected whole numbers with units w, d, h or m written together, e.g. 3d, 90m, 1d12h")
            }
        }

        func run() throws {
            try ClockCommand.move(arguments: ["advance": .string(duration), "yes": .bool(yes)], globals: globals, json: output.json)
        }
    }

    /// `huaying clock set T`.
    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: Message.abstractClockSet(),
            discussion: "T is an ISO 8601 instant (2026-11-25T09:00:00+08:00) or YYYY-MM-DDTHH:MM in the configured zone."
        )

        @OptionGroup var globals: GlobalOptions
        @OptionGroup var output: ClockOutputOptions

        @Argument(help: ArgumentHelp("The time to move to, e.g. 2026-11-25T09:00.", valueName: "time"))
        var time: String

        @Flag(name: .long, help: "Confirm a move of more than a year (everything due on the way runs).")
        var yes = false

        func validate() throws {
            guard TextFormatting.instant(time) != time else {
                throw ValidationError("'\(time)' is not a time; expected YYYY-MM-DDTHH:MM (in the configured zone) or an ISO 8601 instant such as 2026-11-25T09:00:00+08:00")
            }
        }

        func run() throws {
            try ClockCommand.move(arguments: ["set": .string(time), "yes": .bool(yes)], globals: globals, json: output.json)
        }
    }
}
