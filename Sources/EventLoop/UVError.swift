import CLibUV

/// A failed libuv call: which call failed and libuv's (negative) error code.
///
/// The description reads `uv_pipe_bind: EADDRINUSE (address already in use)`. Two errors are
/// equal when they name the same operation and code.
///
/// On Unix, libuv's codes are negated `errno` values, so `UVError` also carries plain syscall
/// failures (for example `getsockopt(SO_PEERCRED)`).
///
/// - Important: A plain value: usable on any thread.
public struct UVError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The libuv function (or syscall) that failed, for example `"uv_timer_start"`.
    public let operation: String
    /// The negative libuv error code, for example `UV_EBADF.rawValue`.
    public let code: Int32

    /// Creates an error for `operation` failing with the negative libuv `code`.
    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// Creates an error for `operation` failing with a libuv error constant such as `UV_EINVAL`.
    public init(operation: String, code: uv_errno_t) {
        self.init(operation: operation, code: code.rawValue)
    }

    /// The symbolic name of the code, for example `"EBADF"` (`uv_err_name_r`).
    public var name: String {
        Self.text(code, uv_err_name_r)
    }

    /// The human-readable message for the code, for example `"bad file descriptor"` (`uv_strerror_r`).
    public var message: String {
        Self.text(code, uv_strerror_r)
    }

    /// `operation: NAME (message)`.
    public var description: String {
        "\(operation): \(name) (\(message))"
    }

    /// Calls one of libuv's reentrant `*_r` formatters; the non-`_r` ones leak a string for
    /// codes libuv does not know.
    private static func text(
        _ code: Int32,
        _ format: (Int32, UnsafeMutablePointer<CChar>?, Int) -> UnsafeMutablePointer<CChar>?
    ) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 128) { buffer in
            buffer.initialize(repeating: 0)
            guard let text = format(code, buffer.baseAddress, buffer.count) else { return "" }
            return String(cString: text)
        }
    }
}

extension UVError {
    /// Throws a `UVError` for `operation` when `result` is a negative libuv status; returns it otherwise.
    @discardableResult
    static func check(_ result: Int32, _ operation: String) throws(UVError) -> Int32 {
        guard result >= 0 else { throw UVError(operation: operation, code: result) }
        return result
    }
}
