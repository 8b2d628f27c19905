import Foundation
@testable import WorkflowModel

/// Paths of the package checkout and the test fixtures, found from this source file.
enum TestPaths {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let fixtures = testsDirectory + "/Fixtures"
    static let broken = fixtures + "/broken"
    static let calendars = packageRoot + "/etc/calendars"
    static let staff = packageRoot + "/etc/staff.yaml"
    static let workflows = packageRoot + "/workflows"
}

/// Loaded once per use (tests run in parallel; nothing here is shared mutable state).
enum Shipped {
    /// The settings of the shipped etc/huaying.yaml (election.candidate_list_lead_days).
    static let settings = ["candidate_list_lead_days": 5]

    static func calendar() throws -> WorkCalendar {
        try CalendarFile.load(path: TestPaths.calendars + "/cn-mainland.yaml")
    }

    static func chart() throws -> OrgChart {
        try OrgChartFile.load(path: TestPaths.staff)
    }

    static func fixtureChart() throws -> OrgChart {
        try OrgChartFile.load(path: TestPaths.fixtures + "/staff.yaml")
    }
}

/// A deterministic pseudo-random generator (SplitMix64), so property tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func date(_ text: String) -> CivilDate { CivilDate(text)! }

let shanghai = TimeZone(identifier: "Asia/Shanghai")!

/// Files written by a test, each in a fresh temporary folder.
enum Scratch {
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("huaying-model-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func file(_ name: String, _ bytes: Data, in folder: String? = nil) throws -> String {
        let path = (try folder ?? Self.folder()) + "/" + name
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    static func file(_ name: String, _ text: String, in folder: String? = nil) throws -> String {
        try file(name, Data(text.utf8), in: folder)
    }
}

/// A checker with the shipped calendars and the fixture org chart.
func fixtureChecker(knownWorkflows: Set<String>? = nil, maximumSteps: Int = WorkflowChecker.defaultMaximumSteps) throws -> WorkflowChecker {
    WorkflowChecker(calendars: CalendarLibrary.load(directory: TestPaths.calendars).library, orgChart: try Shipped.fixtureChart(),
                    knownWorkflows: knownWorkflows, maximumSteps: maximumSteps)
}

/// A workflow of `count` record steps s0…s(count-1), each after the one before, and s0 after
/// the last: one cycle through all of them.
func cycleWorkflow(steps count: Int) -> String {
    var text = "workflow: long-cycle\ntitle: 长循环\nsteps:\n"
    for index in 0..<count {
        text += "  - id: s\(index)\n    title: 第\(index)步\n    after: s\((index + count - 1) % count)\n    uses: record\n    with: { text: 好 }\n"
    }
    return text
}

/// The findings of a file, with the folder left out of the path.
func findings(_ result: (definition: WorkflowDefinition?, diagnostics: [Diagnostic]), in folder: String) -> [String] {
    result.diagnostics.map { $0.description.replacingOccurrences(of: folder + "/", with: "") }
}

extension WorkflowPlanner {
    /// The planner with the shipped configuration's settings.
    var withShippedSettings: WorkflowPlanner {
        var planner = self
        planner.settings = Shipped.settings
        return planner
    }
}
