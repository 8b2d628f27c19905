import ArgumentParser

@main
struct Huaying: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "huaying",
        abstract: "Talk to the Huaying workflow daemon, and check workflow files offline.",
        discussion: """
            Exit codes: 0 success; 1 a check failed (lint errors, a day off for \
            `calendar is-workday`); 2 bad usage or a broken config file; 3 the daemon \
            could not be reached; 4 the daemon refused the request.
            """,
        subcommands: [Status.self, Lint.self, Plan.self, CalendarCommand.self]
    )

    /// Declared here too so `huaying --config X status` works as well as `huaying status --config X`:
    /// ArgumentParser hands a parent's option group to children that declare the same group.
    @OptionGroup var globals: GlobalOptions
}
