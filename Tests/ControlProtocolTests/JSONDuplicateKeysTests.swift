import ControlProtocol
import Testing

@Suite struct JSONDuplicateKeysTests {
    private func first(_ json: String) -> String? { JSONDuplicateKeys.first(in: Array(json.utf8)) }

    @Test func distinctKeysPass() {
        #expect(first(#"{"version":1,"command":"ack","arguments":{"id":3,"note":"a,b:{}"}}"#) == nil)
        #expect(first(#"[{"a":1},{"a":2}]"#) == nil, "the same key in two objects is fine")
        #expect(first(#"{"a":{"a":{"a":1}}}"#) == nil, "and at different depths")
    }

    @Test func aRepeatedKeyIsNamedWithItsPath() {
        #expect(first(#"{"command":"status","command":"cancel"}"#) == "command")
        #expect(first(#"{"arguments":{"id":1,"id":2}}"#) == "arguments.id")
        #expect(first(#"{"arguments":{"list":[{"x":1,"x":2}]}}"#) == "arguments.list[].x")
    }

    @Test func keysAreComparedAfterTheirEscapes() {
        #expect(first(#"{"command":"status","comm\u0061nd":"cancel"}"#) == "command")
        #expect(first(#"{"a\"b":1,"a\"b":2}"#) == "a\"b")
        #expect(first(#"{"k":"value with \" and , and :","j":1}"#) == nil)
    }

    @Test func deepNestingDoesNotExhaustTheStack() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        #expect(first(deep) == nil)
    }
}
