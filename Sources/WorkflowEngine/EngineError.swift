import ControlProtocol

/// Why the engine refused a command: a stable `code` for scripts and a sentence for people.
public struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: RefusalCode
    public var message: String

    public init(_ code: RefusalCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
