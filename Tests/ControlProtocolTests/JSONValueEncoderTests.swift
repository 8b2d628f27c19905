import ControlProtocol
import Foundation
import Testing

/// `ControlCoding.value` builds the `JSONValue` directly; it must give exactly what encoding to
/// JSON bytes and decoding them back gave (the wire format of every answer depends on it).
@Suite struct JSONValueEncoderTests {
    private func throughBytes<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    private func same<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try ControlCoding.value(value) == throughBytes(value), sourceLocation: sourceLocation)
    }

    static let reminder = ReminderInfo(id: 12, instance: 3, workflow: "election-cycle", step: "publish-voter-list", title: "公布选民名单",
                                       assignees: ["zhaomin", "wanghong"], due: "2026-11-10T09:00:00.250+08:00", deadline: nil, level: 1,
                                       message: "古桥社区：最迟于2026-11-12（周四，含当日）公布。\n\"引号\" \\ 斜杠 /", state: "open",
                                       overdue: true, fields: ["turnout": "87%", "空": ""], onBehalfOf: ["sunli"], nudgedBy: "wanghong")

    @Test func resultsOfEveryShapeComeOutAsThroughJSONBytes() throws {
        try same(Self.reminder)
        try same([Self.reminder, Self.reminder])
        try same([ReminderInfo]())
        try same(StartResult(id: 7, pastDueSteps: 2))
        try same(AuditResult(rows: [LedgerRow(seq: 1, at: "2026-11-02T09:00:00+08:00", actor: "root as zhaomin", instance: nil, step: nil,
                                              event: "instance.started", text: "开始", fields: [:], hash: String(repeating: "0", count: 64))],
                             verification: LedgerVerification(ok: false, rowsChecked: 400_000, firstBadSeq: 9_007_199_254, reason: "row 3")))
        try same(["a": 1.5, "b": -0.0, "c": 1e300])
        try same([Int64.max, Int64.min, 0])
        try same([true, false])
        try same(JSONValue.object(["nested": .array([.null, .bool(true), .number(2), .string("三"), .object([:])])]))
        try same(["key": [String: [Int]]()])
        try same([String?.none, "x"])
    }

    @Test func aNumberJSONCannotHoldIsRefused() {
        #expect(throws: EncodingError.self) { try ControlCoding.value(["x": Double.nan]) }
        #expect(throws: EncodingError.self) { try ControlCoding.value([Double.infinity]) }
    }
}

/// `JSONValue.write(to:)` writes the bytes `JSONEncoder` writes for the same value (the
/// daemon's answers are written with it; scripts and the CLI read them).
@Suite struct JSONValueWriterTests {
    private func encoderBytes(_ value: JSONValue) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(value))
    }

    private func written(_ value: JSONValue) -> [UInt8] {
        var bytes: [UInt8] = []
        value.write(to: &bytes)
        return bytes
    }

    @Test func everyKindOfValueIsWrittenAsJSONEncoderWritesIt() throws {
        let controls = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
        let values: [JSONValue] = [
            .null, .bool(true), .bool(false), .string(""), .string("古桥社区：最迟于2026-11-12（周四，含当日）"),
            .string(controls + "\"\\/\u{7F}\u{2028}😀"), .number(0), .number(-0.0), .number(1), .number(-42), .number(1.5),
            .number(0.1), .number(1e-7), .number(123_456_789_012), .number(9_007_199_254_740_991), .number(1e300), .number(-2.5e-300),
            .array([]), .object([:]),
            .object(["b": .number(2), "a": .array([.null, .string("x")]), "B": .bool(true), "_": .object(["z": .null, "aa": .number(3)])]),
            .object(["open_reminders": .number(2), "openReminders": .number(1), "open": .null, "键": .string("值")]),
        ]
        for value in values {
            let expected = try encoderBytes(value)
            #expect(written(value) == expected, "\(String(decoding: written(value), as: UTF8.self)) vs \(String(decoding: expected, as: UTF8.self))")
        }
    }

    @Test func aResponseLineIsTheSameAsBefore() throws {
        let page = JSONValue.array((1...50).map { .object(["id": .number(Double($0)), "unit": $0 % 2 == 0 ? .null : .string("v\($0)")]) })
        for response in [ControlResponse.success(page), .failure(ControlError(.notVisible, "instance 3 \"不可见\"\n"))] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            #expect(try ControlCoding.encodeLine(response) == [UInt8](try encoder.encode(response)) + [0x0A])
        }
    }
}
