/// Splits a byte stream into newline-terminated lines, refusing lines longer than a limit
/// without ever buffering more than the limit.
public struct LineFramer: Sendable {
    public enum Event: Equatable, Sendable {
        /// A complete line, without its newline (a trailing `\r` is removed too).
        case line([UInt8])
        /// The current line grew past the limit; its bytes were dropped.
        case tooLong
    }

    public let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var discarding = false

    public init(maxLineBytes: Int = ControlProtocol.maxRequestBytes) {
        self.maxLineBytes = maxLineBytes
    }

    /// True when bytes of an unfinished line are buffered (a client that disconnects now
    /// left a partial request).
    public var hasPartialLine: Bool { !buffer.isEmpty || discarding }

    /// Feeds bytes; returns the events they complete, in order.
    public mutating func append(_ bytes: some Collection<UInt8>) -> [Event] {
        var events: [Event] = []
        var rest = bytes[...]
        while !rest.isEmpty {
            if let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
                let chunk = rest[rest.startIndex..<newline]
                if discarding {
                    discarding = false
                } else if buffer.count + chunk.count > maxLineBytes {
                    events.append(.tooLong)
                } else {
                    buffer.append(contentsOf: chunk)
                    if buffer.last == UInt8(ascii: "\r") { buffer.removeLast() }
                    events.append(.line(buffer))
                }
                buffer.removeAll(keepingCapacity: true)
                rest = rest[rest.index(after: newline)...]
            } else {
                if !discarding {
                    if buffer.count + rest.count > maxLineBytes {
                        buffer.removeAll()
                        discarding = true
                        events.append(.tooLong)
                    } else {
                        buffer.append(contentsOf: rest)
                    }
                }
                break
            }
        }
        return events
    }
}
