import Foundation

/// Finds a key that occurs twice in one JSON object. `JSONDecoder` silently keeps one of
/// them, so `{"command":"inbox","command":"cancel"}` would mean whatever the decoder picked;
/// the daemon refuses such a request instead.
public enum JSONDuplicateKeys {
    /// The first repeated key, as a dotted path from the top (`arguments.note`, `[]` for an
    /// array element), or nil when every object's keys are distinct.
    ///
    /// Meant for text that already decoded as JSON: it does not validate, and it scans
    /// iteratively, so deep nesting cannot exhaust the stack. Keys are compared after their
    /// escapes are decoded (`"a"` and `"\u0061"` are the same key).
    public static func first(in bytes: [UInt8]) -> String? {
        struct Frame {
            var keys: Set<String>?  // nil for an array
            var expectingKey: Bool
            var lastKey: String?
        }
        // The path is built only for the answer, so deep nesting costs memory in proportion.
        func path(_ stack: [Frame], _ key: String) -> String {
            var parts: [String] = []
            for (depth, frame) in stack.enumerated() where depth < stack.count - 1 {
                if frame.keys == nil {
                    parts.append("[]")
                } else {
                    parts.append((parts.isEmpty ? "" : ".") + (frame.lastKey ?? ""))
                }
            }
            let prefix = parts.joined()
            return prefix.isEmpty ? key : prefix + "." + key
        }
        var stack: [Frame] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let start = index + 1
                var end = start
                var escaped = false
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                    if bytes[end] == UInt8(ascii: "\\") {
                        escaped = true
                        end += 1
                    }
                    end += 1
                }
                index = end + 1
                guard var top = stack.last, top.keys != nil, top.expectingKey else { continue }
                let key = decodeKey(bytes, start..<min(end, bytes.count), escaped: escaped)
                if top.keys!.contains(key) { return path(stack, key) }
                top.keys!.insert(key)
                top.expectingKey = false
                top.lastKey = key
                stack[stack.count - 1] = top
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = byte == UInt8(ascii: "{")
                stack.append(Frame(keys: isObject ? [] : nil, expectingKey: isObject, lastKey: nil))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","):
                if let top = stack.last, top.keys != nil { stack[stack.count - 1].expectingKey = true }
            default:
                break
            }
            index += 1
        }
        return nil
    }

    private static func decodeKey(_ bytes: [UInt8], _ range: Range<Int>, escaped: Bool) -> String {
        let raw = bytes[range]
        guard escaped else { return String(decoding: raw, as: UTF8.self) }
        let quoted = Data([UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")])
        if let text = (try? JSONSerialization.jsonObject(with: quoted, options: .fragmentsAllowed)) as? String {
            return text
        }
        return String(decoding: raw, as: UTF8.self)
    }
}
