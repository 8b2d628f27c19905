import Testing
@testable import WorkflowModel

/// The byte-wise fast path of `LocalDateTime(_:)` agrees with the general, character-wise
/// parse on every input: it either gives the same value or leaves the input to it.
@Suite struct LocalDateTimeParsingTests {
    static let dates = ["2026-12-01", "2024-02-29", "2026-02-29", "2026-13-01", "2026-00-10", "0000-01-01", "2026-1-01", "2026/12/01", "20261201xx"]
    static let times = ["09:00", "23:59", "24:00", "9:00", "09:60", "0900", "09:00:05", "09:00:59", "09:00:60", "09:00:5",
                        "09:00:05.2", "09:00:05.25", "09:00:05.250", "09:00:05.123456789", "09:00:05.1234567890", "09:00:05.", "09:00:05.2x"]
    static let zones = ["", "Z", "+08:00", "-05:30", "+18:00", "+19:00", "+08:60", "+0800", "+8:00", "Zz", "z", " ", "+08:00Z"]

    @Test func theFastPathAgreesWithTheGeneralParseEverywhere() {
        var checked = 0, fast = 0
        for date in Self.dates {
            for separator in ["T", " ", "t", "_"] {
                for time in Self.times {
                    for zone in Self.zones {
                        let text = date + separator + time + zone
                        let general = LocalDateTime(general: text)
                        #expect(LocalDateTime(text) == general, "\(text)")
                        if LocalDateTime.canonical(Array(text.utf8)) != nil { fast += 1 }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == Self.dates.count * 4 * Self.times.count * Self.zones.count)
        #expect(fast >= 160, "the fast path takes the canonical forms (\(fast) of \(checked))")
    }

    @Test func millisecondsAndOffsetsAreRead() throws {
        let value = try #require(LocalDateTime("2026-12-01T09:00:05.25+08:00"))
        #expect(value.second == 5 && value.millisecond == 250 && value.utcOffset == 8 * 3600)
        #expect(LocalDateTime("2026-12-01T09:00:05.123456789Z")?.millisecond == 123)
        #expect(LocalDateTime("2026-12-01 09:00-05:30")?.utcOffset == -(5 * 3600 + 30 * 60))
    }
}
