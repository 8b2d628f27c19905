import CLibUV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A libuv async handle (`uv_async_t`): the one way for another thread to wake the loop.
///
/// ``send()`` may be called from any thread; the callback then runs on the loop thread.
/// Sends are coalesced: several sends before the loop gets to it give one callback, so the
/// callback should drain whatever queue the other threads fill. Sends after ``close()`` are
/// ignored.
///
/// - Important: Create it and call ``close()`` on the loop thread; ``send()`` and ``isClosed``
///   may be used from any thread.
public final class AsyncHandle: LoopOwnedHandle, @unchecked Sendable {
    // @unchecked Sendable is sound: the only state touched off the loop thread is `isSendable`,
    // read and written under `lock`, and `uv_async_send`, which libuv documents as thread-safe
    // and which the lock keeps from running once `uv_close` has been called. Everything else
    // (the callback, `loop`, `handle->data`) is used only on the loop thread, and the memory the
    // lock and the handle live in is freed only in `deinit`, when no thread can hold a reference.

    /// The loop this handle lives on (not public: the handle crosses threads, the loop must not).
    let loop: EventLoop
    let handle: UnsafeMutablePointer<uv_async_t>
    private let lock: UnsafeMutablePointer<pthread_mutex_t>
    /// Whether `send` may still call `uv_async_send`; guarded by `lock`.
    private var isSendable = true
    private var callback: (() -> Void)?

    /// Whether ``close()`` has been called.
    ///
    /// - Important: Any thread.
    public var isClosed: Bool {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return !isSendable
    }

    /// Creates the handle on `loop` (`uv_async_init`) with the callback to run on the loop after ``send()``.
    ///
    /// The handle keeps ``EventLoop/run()`` running until it is closed.
    /// - Throws: ``UVError`` naming `uv_async_init` (`EINVAL` when the loop is closed or closing).
    /// - Important: Loop thread only.
    public init(loop: EventLoop, _ callback: @escaping () -> Void) throws {
        let handle = try loop.makeHandle("uv_async_init", uv_async_t()) {
            uv_async_init($0, $1) { handle in
                guard let data = handle?.pointee.data else { return }
                Unmanaged<AsyncHandle>.fromOpaque(data).takeUnretainedValue().wake()
            }
        }
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        lock.initialize(to: pthread_mutex_t())
        pthread_mutex_init(lock, nil)
        self.loop = loop
        self.handle = handle
        self.lock = lock
        self.callback = callback
        loop.adopt(clibuv_handle(handle), by: self)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
        handle.deallocate()
    }

    /// Wakes the loop (`uv_async_send`): the callback runs on the loop thread soon after.
    /// Does nothing once ``close()`` has been called.
    ///
    /// - Important: Any thread.
    public func send() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard isSendable else { return }
        // Can only fail for a handle that is not an async handle.
        _ = uv_async_send(handle)
    }

    /// Closes the handle (`uv_close`); idempotent, safe inside the callback. Later sends are
    /// ignored, and a wake-up still pending is dropped: the callback does not run again.
    ///
    /// - Important: Loop thread only.
    public func close() {
        pthread_mutex_lock(lock)
        let wasOpen = isSendable
        isSendable = false
        pthread_mutex_unlock(lock)
        guard wasOpen else { return }
        closeOwnedHandle(clibuv_handle(handle))
    }

    private func wake() {
        let callback = self.callback
        callback?()
    }

    func didClose() {
        callback = nil
        loop.unregister(handle)
    }
}
