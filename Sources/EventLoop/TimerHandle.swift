import CLibUV

/// A libuv timer (`uv_timer_t`): calls back once after a delay, optionally repeating.
///
/// Times are in milliseconds relative to the loop's cached ``EventLoop/now``. The timer keeps
/// itself (and its loop) alive until ``close()``; a stopped timer can be started again.
///
/// - Important: Loop-confined: create, start, stop and close it on the loop thread.
public final class TimerHandle: LoopOwnedHandle {
    /// The loop this timer lives on.
    public let loop: EventLoop
    let handle: UnsafeMutablePointer<uv_timer_t>
    private var callback: (() -> Void)?

    /// Whether ``close()`` has been called (the handle may still be waiting for its close callback).
    public private(set) var isClosed = false

    /// Creates a stopped timer on `loop` (`uv_timer_init`).
    ///
    /// - Throws: ``UVError`` `uv_timer_init: EINVAL` when the loop is closed or closing.
    /// - Important: Loop thread only.
    public init(loop: EventLoop) throws {
        let handle = try loop.makeHandle("uv_timer_init", uv_timer_t()) { uv_timer_init($0, $1) }
        self.loop = loop
        self.handle = handle
        loop.adopt(clibuv_handle(handle), by: self)
    }

    deinit {
        handle.deallocate()
    }

    /// Starts (or restarts) the timer (`uv_timer_start`): `callback` runs on the loop after
    /// `milliseconds`, then every `repeating` milliseconds if that is not zero.
    ///
    /// Replaces the callback of an earlier start.
    /// - Throws: ``UVError`` `uv_timer_start: EINVAL` after ``close()``.
    /// - Important: Loop thread only.
    public func start(after milliseconds: UInt64, repeating: UInt64 = 0, _ callback: @escaping () -> Void) throws {
        guard !isClosed else { throw UVError(operation: "uv_timer_start", code: UV_EINVAL) }
        let previous = self.callback
        self.callback = callback
        let result = uv_timer_start(handle, { handle in
            guard let data = handle?.pointee.data else { return }
            Unmanaged<TimerHandle>.fromOpaque(data).takeUnretainedValue().fire()
        }, milliseconds, repeating)
        guard result == 0 else {
            self.callback = previous
            throw UVError(operation: "uv_timer_start", code: result)
        }
    }

    /// Stops the timer (`uv_timer_stop`); its callback will not run until it is started again.
    ///
    /// - Important: Loop thread only.
    public func stop() {
        guard !isClosed else { return }
        uv_timer_stop(handle)
    }

    /// Lets ``EventLoop/run()`` return even while this timer is active (`uv_unref`), for
    /// watchdogs and housekeeping timers.
    ///
    /// - Important: Loop thread only.
    public func unref() {
        guard !isClosed else { return }
        uv_unref(clibuv_handle(handle))
    }

    /// Makes an active timer keep ``EventLoop/run()`` running again (`uv_ref`); the default.
    ///
    /// - Important: Loop thread only.
    public func ref() {
        guard !isClosed else { return }
        uv_ref(clibuv_handle(handle))
    }

    /// Stops the timer and closes the handle (`uv_close`); idempotent, safe inside the timer's
    /// own callback. The callback is released once libuv's close callback has run.
    ///
    /// - Important: Loop thread only.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
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

@available(*, unavailable, message: "TimerHandle is confined to its loop thread")
extension TimerHandle: Sendable {}
