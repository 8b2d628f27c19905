import CLibUV

/// A libuv signal watcher (`uv_signal_t`): calls back on the loop when the process receives a signal.
///
/// The callback runs on the loop thread in a normal loop iteration, not in the signal handler,
/// so it may do anything. Several handles (on one or several loops) may watch the same signal.
/// While watched, the signal's default action (for example termination) does not happen.
///
/// - Important: Loop-confined: create, start, stop and close it on the loop thread.
public final class SignalHandle: LoopOwnedHandle {
    /// The loop this handle lives on.
    public let loop: EventLoop
    let handle: UnsafeMutablePointer<uv_signal_t>
    private var callback: ((Int32) -> Void)?

    /// Whether ``close()`` has been called.
    public private(set) var isClosed = false

    /// Creates a signal handle on `loop` (`uv_signal_init`).
    ///
    /// - Throws: ``UVError`` naming `uv_signal_init` (`EINVAL` when the loop is closed or closing).
    /// - Important: Loop thread only.
    public init(loop: EventLoop) throws {
        let handle = try loop.makeHandle("uv_signal_init", uv_signal_t()) { uv_signal_init($0, $1) }
        self.loop = loop
        self.handle = handle
        loop.adopt(clibuv_handle(handle), by: self)
    }

    deinit {
        handle.deallocate()
    }

    /// Starts watching `signal` (`uv_signal_start`); `callback` gets the signal number each time
    /// it arrives. Starting again replaces the signal and the callback.
    ///
    /// - Throws: ``UVError`` `uv_signal_start: EINVAL` for an invalid signal number or after ``close()``.
    /// - Important: Loop thread only.
    public func start(_ signal: Int32, _ callback: @escaping (Int32) -> Void) throws {
        guard !isClosed else { throw UVError(operation: "uv_signal_start", code: UV_EINVAL) }
        let previous = self.callback
        self.callback = callback
        let result = uv_signal_start(handle, { handle, signal in
            guard let data = handle?.pointee.data else { return }
            Unmanaged<SignalHandle>.fromOpaque(data).takeUnretainedValue().deliver(signal)
        }, signal)
        guard result == 0 else {
            self.callback = previous
            throw UVError(operation: "uv_signal_start", code: result)
        }
    }

    /// Stops watching (`uv_signal_stop`); the signal's previous disposition applies again if no
    /// other handle watches it.
    ///
    /// - Important: Loop thread only.
    public func stop() {
        guard !isClosed else { return }
        uv_signal_stop(handle)
    }

    /// Lets ``EventLoop/run()`` return even while this handle is watching (`uv_unref`).
    ///
    /// - Important: Loop thread only.
    public func unref() {
        guard !isClosed else { return }
        uv_unref(clibuv_handle(handle))
    }

    /// Makes a watching handle keep ``EventLoop/run()`` running again (`uv_ref`); the default.
    ///
    /// - Important: Loop thread only.
    public func ref() {
        guard !isClosed else { return }
        uv_ref(clibuv_handle(handle))
    }

    /// Stops watching and closes the handle (`uv_close`); idempotent, safe inside the callback.
    ///
    /// - Important: Loop thread only.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        closeOwnedHandle(clibuv_handle(handle))
    }

    private func deliver(_ signal: Int32) {
        let callback = self.callback
        callback?(signal)
    }

    func didClose() {
        callback = nil
        loop.unregister(handle)
    }
}

@available(*, unavailable, message: "SignalHandle is confined to its loop thread")
extension SignalHandle: Sendable {}
