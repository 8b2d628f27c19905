import ControlProtocol

/// The mark after a date that lies in a year the daemon's calendar lacks
/// (`provisional_years` in the answer): its workdays are provisional until the State
/// Council's holiday notice for that year is in the calendar.
enum ProvisionalMark {
    static var text: String { Message.provisionalMark() }

    /// `date` as EngineOutput writes it, marked when its year is one of `years`.
    static func time(_ date: String?, _ years: [Int]) -> String {
        EngineOutput.time(date) + (isProvisional(date, years: years) ? text : "")
    }

    /// The line `start` and `update` print when dates are provisional.
    static func note(_ years: [Int]) -> String? {
        guard !years.isEmpty else { return nil }
        return Message.provisionalNote(years.map(String.init).joined(separator: ", "))
    }
}
