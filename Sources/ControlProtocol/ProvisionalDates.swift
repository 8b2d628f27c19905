/// Dates in a year the daemon's calendar does not cover are provisional: their workdays come
/// from the statutory days off without the State Council's make-up days
/// (docs/procedures.md#calendar-fails-closed). Answers that carry dates (`start`, `update`,
/// `show`, `inbox`) say so with `provisional` and `provisional_years`; both are always written,
/// and a missing key (an older daemon) decodes as false / empty.
@propertyWrapper
public struct FalseWhenMissing: Codable, Equatable, Sendable {
    public var wrappedValue: Bool

    public init(wrappedValue: Bool) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Bool.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

/// The years of `provisional_years`; see `FalseWhenMissing`.
@propertyWrapper
public struct EmptyWhenMissing: Codable, Equatable, Sendable {
    public var wrappedValue: [Int]

    public init(wrappedValue: [Int]) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode([Int].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension KeyedDecodingContainer {
    public func decode(_ type: FalseWhenMissing.Type, forKey key: Key) throws -> FalseWhenMissing {
        try decodeIfPresent(type, forKey: key) ?? FalseWhenMissing(wrappedValue: false)
    }

    public func decode(_ type: EmptyWhenMissing.Type, forKey key: Key) throws -> EmptyWhenMissing {
        try decodeIfPresent(type, forKey: key) ?? EmptyWhenMissing(wrappedValue: [])
    }
}

/// Whether a date written by the daemon (`2027-01-04T09:00:00+08:00`) lies in one of `years`.
public func isProvisional(_ date: String?, years: [Int]) -> Bool {
    guard let date, let year = Int(date.prefix(4)) else { return false }
    return years.contains(year)
}
