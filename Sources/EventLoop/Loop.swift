import CLibUV

/// One libuv event loop (`uv_loop_t`) and the handles that live on it.
///
/// Every handle type in this module (``TimerHandle``, ``SignalHandle``, ``PipeServer``,
/// ``PipeConnection``, ``FSEventHandle``, ``ProcessHandle``, ``AsyncHandle``) is created on a
/// loop and keeps it alive until the handle's close callback has run. Shut down with
/// ``stop()`` (from a callback) and, once ``run()`` has returned, ``close()``: it closes every
/// handle still open, lets their close callbacks run and then closes the loop.
///
/// - Important: Loop-confined. Create the loop and its handles, and call every method, on the
///   thread that runs the loop. The only way in from another thread is ``AsyncHandle/send()``.
public final class EventLoop {
    /// The `uv_loop_t`, for the handle types of this module and for C APIs not wrapped here.
    ///
    /// Valid until the `EventLoop` is deinitialized; after ``close()`` it must not be passed to libuv.
    public let pointer: UnsafeMutablePointer<uv_loop_t>

    /// The handles whose `data` is a retained wrapper object (see `LoopOwnedHandle`).
    private var ownedHandles: Set<UnsafeMutableRawPointer> = []
    /// True while `uv_run` is on the stack (libuv's run is not reentrant).
    private var isRunning = false
    /// Set when ``close()`` starts: from then on no new handle may be created on the loop.
    private var isShuttingDown = false
    private var timeAtClose: UInt64 = 0

    /// Whether ``close()`` has completed: the loop is closed and can no longer be run.
    public private(set) var isClosed = false

    /// Creates and initializes a loop (`uv_loop_init`).
    ///
    /// - Throws: ``UVError`` naming `uv_loop_init` (for example `EMFILE`).
    /// - Important: The thread that creates the loop should be the one that runs it.
    public init() throws {
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        loop.initialize(to: uv_loop_t())
        let result = uv_loop_init(loop)
        guard result == 0 else {
            loop.deallocate()
            throw UVError(operation: "uv_loop_init", code: result)
        }
        pointer = loop
    }

    deinit {
        // Every wrapper holds its loop strongly until its close callback ran, so only handles
        // created outside this module can still be open here; their memory is not ours to free.
        if isClosed || uv_loop_close(pointer) == 0 {
            pointer.deallocate()
        }
    }

    /// Runs the loop (`uv_run(UV_RUN_DEFAULT)`) until ``stop()`` is called or no referenced,
    /// active handle or request is left.
    ///
    /// Does nothing when the loop is closed or already running (a call from inside a callback).
    /// - Important: Loop thread only.
    public func run() {
        guard !isClosed, !isRunning else { return }
        isRunning = true
        defer { isRunning = false }
        uv_run(pointer, UV_RUN_DEFAULT)
    }

    /// Runs one iteration of the loop: `UV_RUN_ONCE` (blocks for I/O if there is nothing ready)
    /// when `wait` is true, `UV_RUN_NOWAIT` (polls) otherwise.
    ///
    /// - Returns: Whether there is more to do (referenced active handles or requests, or handles
    ///   still closing). False when the loop is closed or the call came from inside a callback.
    /// - Important: Loop thread only.
    @discardableResult
    public func runOnce(wait: Bool) -> Bool {
        guard !isClosed, !isRunning else { return false }
        isRunning = true
        defer { isRunning = false }
        return uv_run(pointer, wait ? UV_RUN_ONCE : UV_RUN_NOWAIT) != 0
    }

    /// Makes ``run()`` return after the current iteration (`uv_stop`).
    ///
    /// - Important: Loop thread only; from another thread, ``AsyncHandle/send()`` to a handle
    ///   whose callback calls `stop()`.
    public func stop() {
        guard !isClosed else { return }
        uv_stop(pointer)
    }

    /// The loop's idea of now, in milliseconds from an arbitrary monotonic origin (`uv_now`).
    ///
    /// Cached at the start of each loop iteration; call ``updateTime()`` to refresh it in a long callback.
    /// - Important: Loop thread only.
    public var now: UInt64 {
        isClosed ? timeAtClose : uv_now(pointer)
    }

    /// Refreshes the cached ``now`` from the monotonic clock (`uv_update_time`).
    ///
    /// Timers start relative to the cached time, so call this before ``TimerHandle/start(after:repeating:_:)``
    /// when the current callback has run for a while.
    /// - Important: Loop thread only.
    public func updateTime() {
        guard !isClosed else { return }
        uv_update_time(pointer)
    }

    /// The number of handles the loop still knows about (counted with `uv_walk`), including
    /// handles that are closing but whose close callback has not run yet.
    ///
    /// Zero after ``close()``. Meant for tests that check nothing leaked.
    /// - Important: Loop thread only.
    public var openHandleCount: Int {
        guard !isClosed else { return 0 }
        var count = 0
        withUnsafeMutablePointer(to: &count) { counter in
            uv_walk(pointer, { _, counter in
                counter?.assumingMemoryBound(to: Int.self).pointee += 1
            }, counter)
        }
        return count
    }

    /// Closes every handle still open (`uv_walk` + each wrapper's `close()`, or `uv_close` for
    /// handles created outside this module), runs the loop until all close callbacks have run,
    /// then closes the loop (`uv_loop_close`).
    ///
    /// Pending writes on closing connections complete with `ECANCELED`; requests on the thread
    /// pool are waited for. From the moment `close()` starts, creating a handle on this loop
    /// throws `EINVAL`. Calling `close()` again after it succeeded does nothing.
    ///
    /// - Throws: ``UVError`` `uv_loop_close: EBUSY` when called from inside a callback of this
    ///   loop (nothing is closed then: call ``stop()`` and close after ``run()`` returned), or
    ///   when something is still open after closing (the loop stays usable and `close()` may be retried).
    /// - Important: Loop thread only, with the loop not running.
    public func close() throws {
        guard !isClosed else { return }
        guard !isRunning else { throw UVError(operation: "uv_loop_close", code: UV_EBUSY) }
        isShuttingDown = true
        isRunning = true
        // A close callback may run user code that ends up opening nothing new (refused above),
        // but requests it started still have to finish: go round until nothing is left.
        for _ in 0..<16 {
            closeAllHandles()
            uv_run(pointer, UV_RUN_DEFAULT)
            if uv_loop_alive(pointer) == 0 && openHandleCount == 0 { break }
        }
        isRunning = false
        timeAtClose = uv_now(pointer)
        let result = uv_loop_close(pointer)
        guard result == 0 else {
            isShuttingDown = false
            throw UVError(operation: "uv_loop_close", code: result)
        }
        isClosed = true
    }

    /// Starts closing every handle that is not closing yet.
    private func closeAllHandles() {
        uv_walk(pointer, { handle, loop in
            guard let handle, let loop, uv_is_closing(handle) == 0 else { return }
            let eventLoop = Unmanaged<EventLoop>.fromOpaque(loop).takeUnretainedValue()
            if eventLoop.ownedHandles.contains(UnsafeMutableRawPointer(handle)),
               let data = handle.pointee.data,
               let owner = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue() as? any LoopOwnedHandle
            {
                owner.close()
            } else {
                // Not created through this module: close it; its memory belongs to whoever made it.
                uv_close(handle, nil)
            }
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}

@available(*, unavailable, message: "EventLoop is confined to its loop thread; use AsyncHandle to reach it")
extension EventLoop: Sendable {}

// MARK: - Handle ownership

/// A wrapper object that owns one libuv handle on an ``EventLoop``.
///
/// While libuv holds the handle, `handle->data` is `Unmanaged.passRetained(wrapper)`
/// (``EventLoop/adopt(_:by:)``); ``closeOwnedHandle(_:)``'s close callback takes that
/// reference back and calls ``didClose()``, which drops the user callbacks and unregisters the
/// handle. The wrapper's `deinit` only frees memory.
protocol LoopOwnedHandle: AnyObject {
    /// Starts closing the handle; idempotent. ``EventLoop/close()`` calls it for handles still open.
    func close()
    /// Runs once libuv's close callback has run: drop user callbacks (breaking self-capture
    /// cycles) and ``EventLoop/unregister(_:)`` the handle.
    func didClose()
}

extension EventLoop {
    /// Allocates a handle and initializes it with `initialize` (a `uv_*_init` call), freeing the
    /// memory again when that fails.
    /// - Throws: ``UVError`` naming `operation` (`EINVAL` when the loop no longer accepts handles).
    func makeHandle<Handle>(_ operation: String, _ blank: Handle,
                            _ initialize: (UnsafeMutablePointer<uv_loop_t>, UnsafeMutablePointer<Handle>) -> Int32) throws(UVError) -> UnsafeMutablePointer<Handle> {
        try checkAcceptsHandles(operation)
        let handle = UnsafeMutablePointer<Handle>.allocate(capacity: 1)
        handle.initialize(to: blank)
        let result = initialize(pointer, handle)
        guard result == 0 else {
            handle.deallocate()
            throw UVError(operation: operation, code: result)
        }
        return handle
    }

    /// Gives libuv a retained reference to `owner` in `handle->data` until the close callback.
    func adopt(_ handle: UnsafeMutablePointer<uv_handle_t>, by owner: some LoopOwnedHandle) {
        handle.pointee.data = Unmanaged.passRetained(owner).toOpaque()
        register(handle)
    }
}

/// `uv_close` with the close callback every wrapper shares: it releases the reference
/// ``EventLoop/adopt(_:by:)`` gave libuv and calls the wrapper's ``LoopOwnedHandle/didClose()``.
func closeOwnedHandle(_ handle: UnsafeMutablePointer<uv_handle_t>) {
    uv_close(handle) { handle in
        guard let handle, let data = handle.pointee.data else { return }
        handle.pointee.data = nil
        (Unmanaged<AnyObject>.fromOpaque(data).takeRetainedValue() as? any LoopOwnedHandle)?.didClose()
    }
}

extension EventLoop {
    /// Throws `EINVAL` for `operation` when the loop no longer accepts new handles.
    func checkAcceptsHandles(_ operation: String) throws(UVError) {
        guard !isClosed, !isShuttingDown else {
            throw UVError(operation: operation, code: UV_EINVAL)
        }
    }

    /// Records that `handle->data` holds a retained ``LoopOwnedHandle``.
    func register(_ handle: UnsafeMutableRawPointer) {
        ownedHandles.insert(handle)
    }

    /// Forgets `handle`; called from its close callback.
    func unregister(_ handle: UnsafeMutableRawPointer) {
        ownedHandles.remove(handle)
    }
}

/// Throws `EINVAL` for `operation` when `string` cannot be passed to C unchanged (it contains a
/// NUL byte, which would silently cut it short).
func checkCString(_ string: String, _ operation: String) throws(UVError) {
    guard !string.utf8.contains(0) else { throw UVError(operation: operation, code: UV_EINVAL) }
}
