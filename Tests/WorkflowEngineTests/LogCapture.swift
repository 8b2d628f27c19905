import Foundation
import Logging

/// Keeps what an engine logs, for tests that check a log line (its level, message and
/// metadata), not only the engine's state.
///
/// `@unchecked Sendable`: `records` is only touched under `lock`.
final class LogCapture: @unchecked Sendable {
    struct Record {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let lock = NSLock()
    private var kept: [Record] = []

    var records: [Record] { lock.withLock { kept } }

    /// A logger at `trace` that keeps every line here.
    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    fileprivate func append(_ record: Record) { lock.withLock { kept.append(record) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            if let extra = event.metadata { all.merge(extra) { $1 } }
            capture.append(Record(level: event.level, message: event.message.description,
                                  metadata: all.mapValues { "\($0)" }))
        }
    }
}
