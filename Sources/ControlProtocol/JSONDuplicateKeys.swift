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
            var path: String
            var keys: Set<String>?  // nil for an array
            var expectingKey: Bool
            var lastKey: String?
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
                let path = top.path.isEmpty ? key : top.path + "." + key
                if top.keys!.contains(key) { return path }
                top.keys!.insert(key)
                top.expectingKey = false
                top.lastKey = key
                stack[stack.count - 1] = top
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let path: String
                if let top = stack.last {
                    if top.keys == nil {
                        path = top.path + "[]"
                    } else {
                        let key = top.lastKey ?? ""
                        path = top.path.isEmpty ? key : top.path + "." + key
                    }
                } else {
                    path = ""
                }
                let isObject = byte == UInt8(ascii: "{")
                stack.append(Frame(path: path, keys: isObject ? [] : nil, expectingKey: isObject, lastKey: nil))
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
