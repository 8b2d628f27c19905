import CLibUV

/// A libuv file-system watcher (`uv_fs_event_t`, inotify on Linux): reports changes to a file
/// or to the entries of a directory.
///
/// Watching a directory reports its direct entries only (not recursive); `filename` is then the
/// entry's name relative to the directory. Creating, deleting or renaming an entry reports
/// ``Events-swift.struct/rename``; writing to it reports ``Events-swift.struct/change``.
/// Events may be coalesced or repeated: treat them as "look again", not as an exact log.
///
/// - Important: Loop-confined: create, start, stop and close it on the loop thread.
public final class FSEventHandle: LoopOwnedHandle {
    /// What happened to the watched path (`uv_fs_event`).
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// An entry appeared, disappeared or was renamed (`UV_RENAME`).
        public static let rename = Events(rawValue: Int32(UV_RENAME.rawValue))
        /// An entry's content or metadata changed (`UV_CHANGE`).
        public static let change = Events(rawValue: Int32(UV_CHANGE.rawValue))
    }

    /// The loop this handle lives on.
    public let loop: EventLoop
    let handle: UnsafeMutablePointer<uv_fs_event_t>
    private var callback: ((String?, Events, UVError?) -> Void)?

    /// Whether ``close()`` has been called.
    public private(set) var isClosed = false

    /// Creates a watcher on `loop` (`uv_fs_event_init`); nothing is watched until ``start(path:_:)``.
    ///
    /// - Throws: ``UVError`` `uv_fs_event_init: EINVAL` when the loop is closed or closing.
    /// - Important: Loop thread only.
    public init(loop: EventLoop) throws {
        let handle = try loop.makeHandle("uv_fs_event_init", uv_fs_event_t()) { uv_fs_event_init($0, $1) }
        self.loop = loop
        self.handle = handle
        loop.adopt(clibuv_handle(handle), by: self)
    }

    deinit {
        handle.deallocate()
    }

    /// Starts watching `path` (`uv_fs_event_start`).
    ///
    /// `callback` gets the name of the entry that changed (nil when libuv cannot tell), what
    /// happened, and an error when watching failed (then `filename` is nil and `events` empty).
    /// To watch another path, ``stop()`` first.
    /// - Throws: ``UVError`` naming `uv_fs_event_start`: `ENOENT` for a missing path, `EINVAL`
    ///   when already started or closed, `ENOSPC` when the inotify watch limit is reached.
    /// - Important: Loop thread only.
    public func start(path: String, _ callback: @escaping (_ filename: String?, _ events: Events, _ error: UVError?) -> Void) throws {
        guard !isClosed else { throw UVError(operation: "uv_fs_event_start", code: UV_EINVAL) }
        try checkCString(path, "uv_fs_event_start")
        guard uv_is_active(clibuv_handle(handle)) == 0 else {
            throw UVError(operation: "uv_fs_event_start", code: UV_EINVAL)
        }
        let previous = self.callback
        self.callback = callback
        let result = uv_fs_event_start(handle, { handle, filename, events, status in
            guard let data = handle?.pointee.data else { return }
            Unmanaged<FSEventHandle>.fromOpaque(data).takeUnretainedValue()
                .deliver(filename: filename, events: events, status: status)
        }, path, 0)
        guard result == 0 else {
            self.callback = previous
            throw UVError(operation: "uv_fs_event_start", code: result)
        }
    }

    /// Stops watching (`uv_fs_event_stop`); the handle can be started again.
    ///
    /// - Important: Loop thread only.
    public func stop() {
        guard !isClosed else { return }
        uv_fs_event_stop(handle)
    }

    /// Stops watching and closes the handle (`uv_close`); idempotent, safe inside the callback.
    ///
    /// - Important: Loop thread only.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        closeOwnedHandle(clibuv_handle(handle))
    }

    private func deliver(filename: UnsafePointer<CChar>?, events: Int32, status: Int32) {
        let callback = self.callback
        if status < 0 {
            callback?(nil, [], UVError(operation: "uv_fs_event", code: status))
        } else {
            callback?(filename.map { String(cString: $0) }, Events(rawValue: events), nil)
        }
    }

    func didClose() {
        callback = nil
        loop.unregister(handle)
    }
}

@available(*, unavailable, message: "FSEventHandle is confined to its loop thread")
extension FSEventHandle: Sendable {}
