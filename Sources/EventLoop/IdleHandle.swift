import CLibUV

/// A libuv idle handle (`uv_idle_t`): while started, its callback runs once per loop
/// iteration, and the loop polls for I/O without blocking.
///
/// This is how long work is sliced: do a bounded slice in the callback and keep the handle
/// started while work is left, so every slice is followed by a full pass of the loop (timers,
/// socket reads and writes, signals, fs events). A 0 ms timer re-armed from its own callback is
/// not a substitute: libuv 1.44 (Debian 12's) may run it again in the same pass.
///
/// - Important: Loop-confined: create, start, stop and close it on the loop thread.
public final class IdleHandle: LoopOwnedHandle {
    /// The loop this handle lives on.
    public let loop: EventLoop
    let handle: UnsafeMutablePointer<uv_idle_t>
    private var callback: (() -> Void)?

    /// Whether ``close()`` has been called.
    public private(set) var isClosed = false
    /// Whether the handle is started (its callback runs every iteration).
    public private(set) var isActive = false

    /// Creates a stopped idle handle on `loop` (`uv_idle_init`).
    ///
    /// - Throws: ``UVError`` `uv_idle_init: EINVAL` when the loop is closed or closing.
    /// - Important: Loop thread only.
    public init(loop: EventLoop) throws {
        let handle = try loop.makeHandle("uv_idle_init", uv_idle_t()) { uv_idle_init($0, $1) }
        self.loop = loop
        self.handle = handle
        loop.adopt(clibuv_handle(handle), by: self)
    }

    deinit {
        handle.deallocate()
    }

    /// Starts the handle (`uv_idle_start`): `callback` runs once per loop iteration until
    /// ``stop()``. Starting a started handle replaces its callback.
    ///
    /// - Throws: ``UVError`` `uv_idle_start: EINVAL` after ``close()``.
    /// - Important: Loop thread only.
    public func start(_ callback: @escaping () -> Void) throws {
        guard !isClosed else { throw UVError(operation: "uv_idle_start", code: UV_EINVAL) }
        self.callback = callback
        guard !isActive else { return }
        let result = uv_idle_start(handle) { handle in
            guard let data = handle?.pointee.data else { return }
            Unmanaged<IdleHandle>.fromOpaque(data).takeUnretainedValue().fire()
        }
        guard result == 0 else { throw UVError(operation: "uv_idle_start", code: result) }
        isActive = true
    }

    /// Stops the handle (`uv_idle_stop`); safe inside its own callback.
    ///
    /// - Important: Loop thread only.
    public func stop() {
        guard !isClosed, isActive else { return }
        uv_idle_stop(handle)
        isActive = false
    }

    /// Stops and closes the handle (`uv_close`); idempotent, safe inside the callback.
    ///
    /// - Important: Loop thread only.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        isActive = false
        closeOwnedHandle(clibuv_handle(handle))
    }

    private func fire() {
        let callback = self.callback
        callback?()
    }

    func didClose() {
        callback = nil
        loop.unregister(handle)
    }
}

@available(*, unavailable, message: "IdleHandle is confined to its loop thread")
extension IdleHandle: Sendable {}
