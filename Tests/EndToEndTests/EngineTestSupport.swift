import ControlProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `huaying` CLI pointed at one daemon's socket, with `--json` results decoded into the
/// wire types of `ControlProtocol`.
struct EngineCLI {
    let socket: String

    /// Runs `huaying --socket S [--as USER] ARGS…`.
    func run(_ arguments: [String], as user: String? = nil, locale: CLILocale = .english,
             environment: [String: String] = [:]) throws -> ProgramResult {
        var full = ["--socket", socket]
        if let user { full += ["--as", user] }
        return try huaying(full + arguments, locale: locale, environment: environment)
    }

    /// Runs a command with `--json` and decodes its output; a non-zero exit throws.
    func json<T: Decodable>(_ type: T.Type, _ arguments: [String], as user: String? = nil) throws -> T {
        let result = try run(arguments + ["--json"], as: user)
        guard result.status == 0 else {
            throw Failure("huaying \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
        } catch {
            throw Failure("cannot decode the output of huaying \(arguments.joined(separator: " ")): \(error)\n\(result.stdout)")
        }
    }

    func start(_ workflow: String, _ params: [String: String], as user: String? = nil) throws -> Int {
        try json(StartResult.self, ["start", workflow] + params.sorted { $0.key < $1.key }.flatMap { ["--param", "\($0.key)=\($0.value)"] },
                 as: user).id
    }

    @discardableResult
    func advance(_ duration: String) throws -> ClockResult { try json(ClockResult.self, ["clock", "advance", duration]) }

    @discardableResult
    func setClock(_ instant: String) throws -> ClockResult { try json(ClockResult.self, ["clock", "set", instant]) }

    func now() throws -> Date { try isoInstant(json(ClockResult.self, ["clock"]).now) }

    func inbox(_ user: String, all: Bool = false) throws -> [ReminderInfo] {
        try json([ReminderInfo].self, ["inbox"] + (all ? ["--all"] : []), as: user)
    }

    func show(_ id: Int) throws -> InstanceDetail { try json(InstanceDetail.self, ["show", "\(id)"]) }

    func instances() throws -> [InstanceSummary] { try json([InstanceSummary].self, ["instances"]) }

    func audit(instance: Int? = nil) throws -> [LedgerRow] {
        try json(AuditResult.self, ["audit"] + (instance.map { ["--instance", "\($0)"] } ?? [])).rows
    }

    @discardableResult
    func ack(_ reminder: Int, as user: String, note: String? = nil) throws -> ReminderInfo {
        try json(ReminderInfo.self, ["ack", "\(reminder)"] + (note.map { ["--note", $0] } ?? []), as: user)
    }
}

/// Reads an ISO 8601 instant as printed by the daemon (`2026-11-10T09:00:00+08:00`) or the
/// plan (`2026-11-10T01:00:00Z`).
func isoInstant(_ text: String) -> Date {
    // Whole seconds, or with milliseconds (the daemon writes them only when there are any).
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
    guard let date = formatter.date(from: text) else {
        Issue.record("not an ISO 8601 instant: \(text)")
        return .distantPast
    }
    return date
}

/// A local Shanghai wall time (`2026-11-10T09:00`) as an instant.
func shanghaiTime(_ local: String) -> Date { isoInstant(local + ":00+08:00") }

/// An instant in the daemon's notation (`2026-11-10T09:00:00+08:00`), for `--simulated-clock`.
func shanghaiISO(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")!
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

/// A program started without waiting for it (for killing the daemon while a command runs).
final class BackgroundProgram {
    let process: ChildProcess
    private let directory: URL

    init(_ path: String, _ arguments: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("huaying-bg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process = try ChildProcess(executable: path, arguments: arguments,
                                   stdoutPath: directory.appendingPathComponent("out").path,
                                   stderrPath: directory.appendingPathComponent("err").path)
    }

    /// Waits for the exit and returns what the program printed.
    func wait() -> ProgramResult {
        process.waitUntilExit()
        let out = (try? String(contentsOf: directory.appendingPathComponent("out"), encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: directory.appendingPathComponent("err"), encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: directory)
        return ProgramResult(status: process.terminationStatus, stdout: out, stderr: err)
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A small seeded generator (SplitMix64), so a failing crash run can be replayed by its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A daemon on the simulated clock starting at `instant`.
func simulatedDaemon(_ site: TestSite, at instant: String) throws -> TestDaemon {
    try TestDaemon(site: site, extraArguments: ["--simulated-clock", instant])
}

/// The events that mean "this step ran": a reminder was sent or a record was written.
let stepRanEvents: Set<String> = ["reminder.sent", "step.recorded"]

/// `huaying plan --json`, the parts the end-to-end tests use as their oracle.
struct PlanOutput: Decodable {
    struct Instant: Decodable {
        var instant: String
        var local: String
        var estimate: Bool
        var date: Date { isoInstant(instant) }
    }
    struct People: Decodable {
        struct Person: Decodable { var user: String }
        var people: [Person]
    }
    struct Escalation: Decodable {
        var at: Instant
        var level: Int
        var to: People
    }
    struct Step: Decodable {
        var id: String
        var uses: String
        var due: Instant?
        var ackBy: Instant?
        var deadline: Instant?
        var assignees: [People]
        var escalations: [Escalation]

        enum CodingKeys: String, CodingKey {
            case id, uses, due, deadline, assignees, escalations
            case ackBy = "ack_by"
        }
        var users: Set<String> { Set(assignees.flatMap(\.people).map(\.user)) }
    }
    struct Param: Decodable {
        var name: String
        var value: String
    }
    var params: [Param]
    var steps: [Step]

    func step(_ id: String) -> Step? { steps.first { $0.id == id } }
    func param(_ name: String) -> String? { params.first { $0.name == name }?.value }
    /// Everyone the plan names, as an assignee or at some escalation level.
    var everyone: Set<String> {
        Set(steps.flatMap { $0.users.union($0.escalations.flatMap(\.to.people).map(\.user)) })
    }
}
