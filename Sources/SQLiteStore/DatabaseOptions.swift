/// How ``Database`` opens and configures a connection.
public struct DatabaseOptions: Sendable {
    /// The `PRAGMA synchronous` levels; see <https://www.sqlite.org/pragma.html#pragma_synchronous>.
    ///
    /// In WAL mode, `full` syncs the WAL on every commit, so a committed transaction survives a
    /// power loss; `normal` syncs only at checkpoints, so the last commits before a power loss
    /// may be lost (the database stays consistent either way).
    public enum Synchronous: String, Sendable {
        case off = "OFF", normal = "NORMAL", full = "FULL", extra = "EXTRA"
    }

    /// Durability of commits. Default `full`: governance records must survive power loss.
    public var synchronous: Synchronous = .full

    /// How long a statement waits for another connection's lock before failing with
    /// `SQLITE_BUSY`; see <https://www.sqlite.org/c3ref/busy_timeout.html>. Default 5 s.
    public var busyTimeoutMilliseconds: Int32 = 5000

    /// Opens with `SQLITE_OPEN_READONLY` instead of creating / writing. The file must exist and
    /// already be in WAL mode.
    public var readOnly = false

    /// Creates options; every parameter has the default described on its property.
    public init(synchronous: Synchronous = .full, busyTimeoutMilliseconds: Int32 = 5000, readOnly: Bool = false) {
        self.synchronous = synchronous
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.readOnly = readOnly
    }
}
