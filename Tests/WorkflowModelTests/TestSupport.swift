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
