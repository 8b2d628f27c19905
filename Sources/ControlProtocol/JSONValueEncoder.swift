/// Builds a `JSONValue` straight from an `Encodable` value, as `JSONEncoder` followed by
/// decoding the bytes into a `JSONValue` would, without the bytes in between: a result turned
/// into a response (`ControlCoding.value`) was encoded to JSON, parsed back and encoded again,
/// which made a 1,000-instance page of `instances` cost three passes instead of two.
///
/// Numbers become `.number(Double)` (as JSON has it), `nil` written by `encodeNil` becomes
/// `.null`, and a key an `encodeIfPresent` skips is absent, exactly as with `JSONEncoder`.
enum JSONValueEncoder {
    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let slot = Slot()
        try value.encode(to: SlotEncoder(slot: slot, codingPath: []))
        return slot.resolve()
    }
}

/// One value being built: a scalar, or the children of an array or an object.
private final class Slot {
    var scalar: JSONValue = .null
    var array: [Slot]?
    var object: [String: Slot]?

    func resolve() -> JSONValue {
        if let object { return .object(object.mapValues { $0.resolve() }) }
        if let array { return .array(array.map { $0.resolve() }) }
        return scalar
    }

    /// Writes `value` here: directly for the scalars and `JSONValue`, else through its `encode(to:)`.
    func put<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        switch value {
        case let json as JSONValue: scalar = json
        case let text as String: scalar = .string(text)
        case let flag as Bool: scalar = .bool(flag)
        case let number as Int: scalar = .number(Double(number))
        case let number as Int64: scalar = .number(Double(number))
        case let number as Double: scalar = try Self.finite(number, codingPath)
        default: try value.encode(to: SlotEncoder(slot: self, codingPath: codingPath))
        }
    }

    static func finite(_ number: Double, _ codingPath: [any CodingKey]) throws -> JSONValue {
        guard number.isFinite else {
            throw EncodingError.invalidValue(number, .init(codingPath: codingPath, debugDescription: "\(number) is not a JSON number"))
        }
        return .number(number)
    }
}

private struct SlotEncoder: Encoder {
    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if slot.object == nil { slot.object = [:] }
        return KeyedEncodingContainer(KeyedSlotContainer<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if slot.array == nil { slot.array = [] }
        return UnkeyedSlotContainer(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleSlotContainer(slot: slot, codingPath: codingPath)
    }
}

private struct KeyedSlotContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    private func child(_ key: Key) -> Slot {
        let child = Slot()
        slot.object?[key.stringValue] = child
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).scalar = .null }
    mutating func encode(_ value: Bool, forKey key: Key) throws { child(key).scalar = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { child(key).scalar = .string(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { child(key).scalar = try Slot.finite(value, codingPath + [key]) }
    mutating func encode(_ value: Float, forKey key: Key) throws { child(key).scalar = try Slot.finite(Double(value), codingPath + [key]) }
    mutating func encode(_ value: Int, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { child(key).scalar = .number(Double(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try child(key).put(value, codingPath: codingPath + [key]) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        SlotEncoder(slot: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        SlotEncoder(slot: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        SlotEncoder(slot: child(Key(stringValue: "super")!), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        SlotEncoder(slot: child(key), codingPath: codingPath + [key])
    }
}

private struct UnkeyedSlotContainer: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    var count: Int { slot.array?.count ?? 0 }

    private func next() -> Slot {
        let child = Slot()
        slot.array?.append(child)
        return child
    }

    mutating func encodeNil() throws { next().scalar = .null }
    mutating func encode(_ value: Bool) throws { next().scalar = .bool(value) }
    mutating func encode(_ value: String) throws { next().scalar = .string(value) }
    mutating func encode(_ value: Double) throws { next().scalar = try Slot.finite(value, codingPath) }
    mutating func encode(_ value: Int) throws { next().scalar = .number(Double(value)) }
    mutating func encode(_ value: Int64) throws { next().scalar = .number(Double(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try next().put(value, codingPath: codingPath) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        SlotEncoder(slot: next(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        SlotEncoder(slot: next(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { SlotEncoder(slot: next(), codingPath: codingPath) }
}

private struct SingleSlotContainer: SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.scalar = .null }
    mutating func encode(_ value: Bool) throws { slot.scalar = .bool(value) }
    mutating func encode(_ value: String) throws { slot.scalar = .string(value) }
    mutating func encode(_ value: Double) throws { slot.scalar = try Slot.finite(value, codingPath) }
    mutating func encode(_ value: Float) throws { slot.scalar = try Slot.finite(Double(value), codingPath) }
    mutating func encode(_ value: Int) throws { slot.scalar = .number(Double(value)) }
    mutating func encode(_ value: Int8) throws { slot.scalar = .number(Double(value)) }
    mutating func encode(_ value: Int16) throws { slot.scalar = .number(Double(value)) }
    mutating func encode(_ value: Int32) throws { slot.scalar = .number(Double(value)) }
    mutating func encode(_ value: Int64) throws { slot.scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt) throws { slot.scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt8) throws { slot.scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt16) throws { slot.scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt32) throws { slot.scalar = .number(Double(value)) }
    mutating func encode(_ value: UInt64) throws { slot.scalar = .number(Double(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try slot.put(value, codingPath: codingPath) }
}
