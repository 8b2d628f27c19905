import Foundation

/// Runs `body` with a fresh, empty directory that is removed afterwards; each test gets its own
/// database files, so tests can run in parallel.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("SQLiteStoreTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// Runs `body` with the path of a database file (not created yet) in a fresh directory.
func withTemporaryDatabasePath<T>(_ body: (String) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in try body(directory + "/state.db") }
}

struct ExpectedTestError: Error, Equatable {}
