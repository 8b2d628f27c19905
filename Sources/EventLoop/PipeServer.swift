import CLibUV

/// A listening Unix-domain socket (`uv_pipe_t` + `uv_listen`) that accepts ``PipeConnection``s.
///
/// ``bind(path:)`` creates the socket file; it fails with `EADDRINUSE` if anything exists at the
/// path, so remove a stale socket first (after making sure no other daemon is listening on it).
/// ``close()`` removes the socket file again (libuv unlinks a path it bound); a server whose
/// bind failed never removes anything.
///
/// - Important: Loop-confined: create, use and close it on the loop thread.
public final class PipeServer: LoopOwnedHandle {
    /// The loop this server lives on.
    public let loop: EventLoop
    let handle: UnsafeMutablePointer<uv_pipe_t>
    private var onConnection: ((PipeConnection) -> Void)?

    /// Called on the loop when a connection could not be accepted (`uv_listen` with an error
    /// status such as `EMFILE`, or `uv_accept` failing); the server keeps listening.
    public var onAcceptError: ((UVError) -> Void)?

    /// The path given to a successful ``bind(path:)``.
    public private(set) var path: String?

    /// Whether ``close()`` has been called.
    public private(set) var isClosed = false

    /// Creates an unbound server on `loop` (`uv_pipe_init`).
    ///
    /// - Throws: ``UVError`` `uv_pipe_init: EINVAL` when the loop is closed or closing.
    /// - Important: Loop thread only.
    public init(loop: EventLoop) throws {
        let handle = try loop.makeHandle("uv_pipe_init", uv_pipe_t()) { uv_pipe_init($0, $1, 0) }
        self.loop = loop
        self.handle = handle
        loop.adopt(clibuv_handle(handle), by: self)
    }

    deinit {
        handle.deallocate()
    }

    /// Creates the socket file at `path` and binds to it (`uv_pipe_bind`).
    ///
    /// The caller unlinks a stale socket file first; set the file's mode and group afterwards
    /// (`chmod`/`chown` on `path`) before calling ``listen(backlog:_:)``.
    /// - Throws: ``UVError`` naming `uv_pipe_bind`: `EADDRINUSE` when something exists at
    ///   `path`, `EACCES` when the directory is missing or not writable (libuv reports a
    ///   missing directory as `EACCES`), `ENAMETOOLONG` for a path longer than `sockaddr_un`
    ///   holds (107 bytes on Linux), `EINVAL` for an empty path, one containing NUL, a second
    ///   bind, or after ``close()``.
    /// - Important: Loop thread only.
    public func bind(path: String) throws {
        guard !isClosed else { throw UVError(operation: "uv_pipe_bind", code: UV_EINVAL) }
        try checkSocketPath(path, "uv_pipe_bind")
        try UVError.check(uv_pipe_bind(handle, path), "uv_pipe_bind")
        self.path = path
    }

    /// Starts listening (`uv_listen`) and accepts every incoming connection (`uv_accept`),
    /// handing it to `onConnection` on the loop.
    ///
    /// The new ``PipeConnection`` is yours: keep it while you use it and close it when done
    /// (a connection you drop without closing stays open until ``EventLoop/close()``).
    /// Accept failures go to ``onAcceptError``.
    /// - Throws: ``UVError`` naming `uv_listen` (`EINVAL` before ``bind(path:)`` or after ``close()``).
    /// - Important: Loop thread only.
    public func listen(backlog: Int32 = 128, _ onConnection: @escaping (PipeConnection) -> Void) throws {
        guard !isClosed else { throw UVError(operation: "uv_listen", code: UV_EINVAL) }
        let previous = self.onConnection
        self.onConnection = onConnection
        let result = uv_listen(clibuv_stream(handle), backlog) { server, status in
            guard let data = server?.pointee.data else { return }
            Unmanaged<PipeServer>.fromOpaque(data).takeUnretainedValue().accept(status)
        }
        guard result == 0 else {
            self.onConnection = previous
            throw UVError(operation: "uv_listen", code: result)
        }
    }

    /// Stops listening and closes the socket (`uv_close`), removing the socket file it bound;
    /// idempotent. Connections already accepted stay open.
    ///
    /// - Important: Loop thread only.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        closeOwnedHandle(clibuv_handle(handle))
    }

    private func accept(_ status: Int32) {
        guard status == 0 else {
            report(UVError(operation: "uv_listen", code: status))
            return
        }
        let connection: PipeConnection
        do {
            connection = try PipeConnection(loop: loop)
        } catch {
            report(error)
            return
        }
        let result = uv_accept(clibuv_stream(handle), connection.stream)
        guard result == 0 else {
            connection.close()
            report(UVError(operation: "uv_accept", code: result))
            return
        }
        let onConnection = self.onConnection
        if let onConnection {
            onConnection(connection)
        } else {
            connection.close()
        }
    }

    private func report(_ error: UVError) {
        let onAcceptError = self.onAcceptError
        onAcceptError?(error)
    }

    func didClose() {
        onConnection = nil
        onAcceptError = nil
        loop.unregister(handle)
    }
}

@available(*, unavailable, message: "PipeServer is confined to its loop thread")
extension PipeServer: Sendable {}
