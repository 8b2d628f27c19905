/// A value as SQLite stores it: one of its five storage classes.
///
/// Statement arguments and row values are both `SQLiteValue`s. Arguments can be written as
/// literals (`[42, "华蓥", 2.5, true, nil]`); for variables, wrap any ``SQLiteBindable`` value
/// with ``init(_:)`` (`[.init(stepID), .init(dueAt)]`) or use its ``SQLiteBindable/sqliteValue``.
///
/// `Bool` is stored as the integer 0 or 1, as SQLite itself does.
///
/// See <https://www.sqlite.org/datatype3.html>.
public enum SQLiteValue: Equatable, Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// Wraps a Swift value that has an SQLite representation.
    ///
    /// - Parameter value: An `Int`, `Int64`, `Int32`, `Double`, `String`, `Bool`, `[UInt8]`,
    ///   an `Optional` of one of these (`nil` becomes ``null``), or an `SQLiteValue`.
    public init(_ value: some SQLiteBindable) {
        self = value.sqliteValue
    }

    /// The storage class of this value, used in error messages.
    public var storageClass: StorageClass {
        switch self {
        case .null: .null
        case .integer: .integer
        case .real: .real
        case .text: .text
        case .blob: .blob
        }
    }

    /// The five SQLite storage classes, spelled as SQLite's documentation spells them.
    public enum StorageClass: String, Sendable, CustomStringConvertible {
        case null = "NULL", integer = "INTEGER", real = "REAL", text = "TEXT", blob = "BLOB"

        public var description: String { rawValue }
    }
}

extension SQLiteValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension SQLiteValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension SQLiteValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .real(value) }
}

extension SQLiteValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}

extension SQLiteValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .integer(value ? 1 : 0) }
}

/// A Swift type that can be bound to a statement parameter.
///
/// The statement APIs take `[SQLiteValue]`; conforming types convert with
/// ``SQLiteValue/init(_:)`` or ``sqliteValue``. Conformances: `Int`, `Int64`, `Int32`, `Double`,
/// `String`, `Bool` (0/1), `[UInt8]` (a blob), `Optional` of any of these (`nil` is NULL) and
/// `SQLiteValue` itself.
public protocol SQLiteBindable {
    /// This value as SQLite stores it.
    var sqliteValue: SQLiteValue { get }
}

extension SQLiteValue: SQLiteBindable {
    public var sqliteValue: SQLiteValue { self }
}

extension Int: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .integer(Int64(self)) }
}

extension Int64: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .integer(self) }
}

extension Int32: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .integer(Int64(self)) }
}

extension Double: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .real(self) }
}

extension String: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .text(self) }
}

extension Bool: SQLiteBindable {
    public var sqliteValue: SQLiteValue { .integer(self ? 1 : 0) }
}

extension Array: SQLiteBindable where Element == UInt8 {
    public var sqliteValue: SQLiteValue { .blob(self) }
}

extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    public var sqliteValue: SQLiteValue {
        switch self {
        case .none: .null
        case .some(let wrapped): wrapped.sqliteValue
        }
    }
}
