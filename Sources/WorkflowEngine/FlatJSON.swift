import Foundation

/// A JSON object of text values (`{"unit":"guqiao-shequ"}`): how params, acknowledgement
/// fields and ledger fields are stored. Encoded canonically (keys sorted, compact) because the
/// ledger hash covers it; decoded by hand because it runs for every loaded instance
/// (JSONDecoder was an eighth of the catch-up time).
enum FlatJSON {
    /// Compact JSON with sorted keys.
    static func encode(_ fields: [String: String]) -> String {
        var out = "{"
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            appendQuoted(key, to: &out)
            out += ":"
            appendQuoted(fields[key]!, to: &out)
        }
        return out + "}"
    }

    /// The object's entries; an object that is not flat text (never written by us) is read
    /// with JSONDecoder, and anything unreadable gives an empty map.
    static func decode(_ json: String) -> [String: String] {
        var parser = Parser(Array(json.utf8))
        if let result = parser.object() { return result }
        return (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
    }

    private static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// The flat subset: `{`, `"key":"value"` pairs with the escapes `encode` writes, `}`.
    /// Returns nil for anything else (the caller falls back to JSONDecoder).
    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func object() -> [String: String]? {
            var result: [String: String] = [:]
            guard take(UInt8(ascii: "{")) else { return nil }
            if take(UInt8(ascii: "}")) { return index == bytes.count ? result : nil }
            repeat {
                guard let key = string(), take(UInt8(ascii: ":")), let value = string() else { return nil }
                result[key] = value
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")), index == bytes.count else { return nil }
            return result
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                    case UInt8(ascii: "n"): out.append(0x0a)
                    case UInt8(ascii: "r"): out.append(0x0d)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        // Only the control characters `encode` escapes; anything else falls back.
                        guard index + 4 <= bytes.count, let code = UInt8(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                              code < 0x20 else { return nil }
                        index += 4
                        out.append(code)
                    default: return nil
                    }
                default: out.append(byte)
                }
            }
            return nil
        }
    }
}
