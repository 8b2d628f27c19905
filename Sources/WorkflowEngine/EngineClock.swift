import Foundation

/// The engine's notion of "now", injected so tests and demos can run a two-month election in
/// seconds.
///
/// - Important: Loop thread only.
public protocol EngineClock: AnyObject {
    var now: Date { get }
    /// `real` or `simulated`.
    var mode: String { get }
}

/// The wall clock.
public final class RealClock: EngineClock {
    public init() {}
    public var now: Date { Date() }
    public var mode: String { "real" }
}

/// A clock that starts at a given instant and moves only when told (`huaying clock advance 3d`).
public final class SimulatedClock: EngineClock {
    public private(set) var now: Date
    public var mode: String { "simulated" }

    public init(start: Date) {
        now = start
    }

    /// Moves the clock; it never goes backwards (a request to do so is ignored).
    public func set(_ instant: Date) {
        if instant > now { now = instant }
    }

    /// Puts the clock back to where a rolled-back slice of an advance started (the engine's
    /// one use: what that slice did was never committed).
    func rewind(to instant: Date) {
        now = instant
    }
}

/// Milliseconds since 1970 UTC: how instants are stored.
enum Millis {
    static func from(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
