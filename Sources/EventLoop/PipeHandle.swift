import CLibUV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connected Unix-domain stream (`uv_pipe_t`): accepted by a ``PipeServer``, connected with
/// ``connect(loop:path:_:)``, or a child's stdio from ``ProcessHandle``.
///
/// Reading is push-based (``startReading(onData:onEnd:)``); writes are queued and copied
/// (``write(_:_:)``). Data already handed to the kernel is delivered even after ``close()``;
/// writes still queued in libuv are cancelled by `close()` (their completion gets
/// `ECANCELED`). To make sure everything queued is sent, ``shutdown(_:)`` first and close in
/// its completion.
///
/// - Important: Loop-confined: create, use and close it on the loop thread. Ignore `SIGPIPE`
///   in the process (writing to a peer that went away raises it).
public final class PipeConnection: LoopOwnedHandle {
    /// The loop this connection lives on.
    public let loop: EventLoop
    let handle: UnsafeMutablePointer<uv_pipe_t>
    private var readBuffer: UnsafeMutableRawBufferPointer?
    private var onData: (([UInt8]) -> Void)?
    private var onEnd: ((UVError?) -> Void)?

    /// Whether ``close()`` has been called (the handle may still be waiting for its close callback).
    public private(set) var isClosed = false

    /// The size of the buffer each read fills; also the largest chunk `onData` receives.
    static let readBufferSize = 64 * 1024

    /// Creates an unconnected pipe handle (`uv_pipe_init`, not for IPC).
    init(loop: EventLoop) throws(UVError) {
        let handle = try loop.makeHandle("uv_pipe_init", uv_pipe_t()) { uv_pipe_init($0, $1, 0) }
        self.loop = loop
        self.handle = handle
        loop.adopt(clibuv_handle(handle), by: self)
    }

    deinit {
        handle.deallocate()
        readBuffer?.deallocate()
    }

    var stream: UnsafeMutablePointer<uv_stream_t> { clibuv_stream(handle) }

    /// Connects to the Unix socket at `path` (`uv_pipe_connect`).
    ///
    /// `completion` runs on the loop with the connected ``PipeConnection`` (which you then own
    /// and must close) or the error: `ENOENT` when nothing is at `path`, `ECONNREFUSED` when
    /// nobody listens there, `ECANCELED` when the loop was closed first.
    /// - Throws: ``UVError`` naming `uv_pipe_connect` before anything starts: `EINVAL` for an
    ///   empty path or one containing NUL, `ENAMETOOLONG` for a path that does not fit
    ///   `sockaddr_un` (107 bytes on Linux; libuv 1.44 would silently truncate it); `EINVAL`
    ///   when the loop is closed or closing.
    /// - Important: Loop thread only.
    public static func connect(loop: EventLoop, path: String, _ completion: @escaping (Result<PipeConnection, UVError>) -> Void) throws {
        try checkSocketPath(path, "uv_pipe_connect")
        try loop.checkAcceptsHandles("uv_pipe_connect")
        let connection = try PipeConnection(loop: loop)
        let request = ConnectRequest(connection: connection, completion: completion)
        request.pointer.pointee.data = Unmanaged.passRetained(request).toOpaque()
        // Errors (including ENOENT) come back through the callback on the next loop iteration.
        uv_pipe_connect(request.pointer, connection.handle, path) { request, status in
            guard let data = request?.pointee.data else { return }
            Unmanaged<ConnectRequest>.fromOpaque(data).takeRetainedValue().complete(status)
        }
    }

    /// Starts delivering incoming bytes (`uv_read_start`).
    ///
    /// `onData` gets each chunk as it arrives (at most 64 KiB, never empty). `onEnd` runs once
    /// when the stream ends: with nil at end of file (the peer closed or shut down its side),
    /// or with the error (`uv_read: ECONNRESET` …); reading has then stopped and neither
    /// callback runs again. ``close()`` drops both callbacks without calling `onEnd`.
    /// - Throws: ``UVError`` naming `uv_read_start`: `EALREADY` when already reading,
    ///   `ENOTCONN` for a write-only stream (a child's stdin), `EINVAL` after ``close()``.
    /// - Important: Loop thread only.
    public func startReading(onData: @escaping ([UInt8]) -> Void, onEnd: @escaping (UVError?) -> Void) throws {
        guard !isClosed else { throw UVError(operation: "uv_read_start", code: UV_EINVAL) }
        guard uv_is_readable(stream) != 0 else { throw UVError(operation: "uv_read_start", code: UV_ENOTCONN) }
        let previous = (self.onData, self.onEnd)
        self.onData = onData
        self.onEnd = onEnd
        let result = uv_read_start(stream, { handle, _, buffer in
            guard let buffer, let data = handle?.pointee.data else { return }
            buffer.pointee = Unmanaged<PipeConnection>.fromOpaque(data).takeUnretainedValue().readBufferForLibuv()
        }, { stream, count, buffer in
            guard let data = stream?.pointee.data else { return }
            Unmanaged<PipeConnection>.fromOpaque(data).takeUnretainedValue().didRead(count, buffer)
        })
        guard result == 0 else {
            (self.onData, self.onEnd) = previous
            throw UVError(operation: "uv_read_start", code: result)
        }
    }

    /// Stops delivering bytes (`uv_read_stop`) and drops the read callbacks; data that arrives
    /// meanwhile waits in the kernel until ``startReading(onData:onEnd:)`` is called again.
    ///
    /// - Important: Loop thread only.
    public func stopReading() {
        guard !isClosed else { return }
        uv_read_stop(stream)
        onData = nil
        onEnd = nil
    }

    /// Queues `bytes` for writing (`uv_write`); the bytes are copied, so the array may change afterwards.
    ///
    /// Writes go out in the order they were queued. `completion` runs on the loop once the bytes
    /// were handed to the kernel (nil), or with the error: `ECANCELED` when the connection was
    /// closed first, `EPIPE` when the peer went away.
    /// - Note: When the write cannot even be queued, `completion` runs before `write` returns:
    ///   `uv_write: EBADF` after ``close()``, `uv_write: EPIPE` after ``shutdown(_:)`` or on a
    ///   read-only stream (a child's stdout).
    /// - Important: Loop thread only.
    public func write(_ bytes: [UInt8], _ completion: ((UVError?) -> Void)? = nil) {
        guard !isClosed else {
            completion?(UVError(operation: "uv_write", code: UV_EBADF))
            return
        }
        let request = StreamRequest(uv_write_t(), copying: bytes, operation: "uv_write", completion: completion)
        request.pointer.pointee.data = Unmanaged.passRetained(request).toOpaque()
        var buffer = uv_buf_t(base: request.bytes?.baseAddress?.assumingMemoryBound(to: CChar.self), len: bytes.count)
        let result = uv_write(request.pointer, stream, &buffer, 1) { request, status in
            guard let data = request?.pointee.data else { return }
            Unmanaged<StreamRequest<uv_write_t>>.fromOpaque(data).takeRetainedValue().complete(status)
        }
        if result != 0 {
            Unmanaged.passUnretained(request).release()
            completion?(UVError(operation: "uv_write", code: result))
        }
    }

    /// Half-closes the connection once every queued write has gone out (`uv_shutdown`): the
    /// peer then reads end of file, while this side can still read.
    ///
    /// `completion` runs on the loop when the queued writes were flushed and the write side
    /// shut (nil), or with the error (`ECANCELED` when closed first). Close the connection in it
    /// to "send everything, then close".
    /// - Note: When the shutdown cannot start, `completion` runs before `shutdown` returns:
    ///   `uv_shutdown: ENOTCONN` after ``close()``, after an earlier shutdown, or on a read-only stream.
    /// - Important: Loop thread only.
    public func shutdown(_ completion: ((UVError?) -> Void)? = nil) {
        guard !isClosed else {
            completion?(UVError(operation: "uv_shutdown", code: UV_ENOTCONN))
            return
        }
        let request = StreamRequest(uv_shutdown_t(), copying: nil, operation: "uv_shutdown", completion: completion)
        request.pointer.pointee.data = Unmanaged.passRetained(request).toOpaque()
        let result = uv_shutdown(request.pointer, stream) { request, status in
            guard let data = request?.pointee.data else { return }
            Unmanaged<StreamRequest<uv_shutdown_t>>.fromOpaque(data).takeRetainedValue().complete(status)
        }
        if result != 0 {
            Unmanaged.passUnretained(request).release()
            completion?(UVError(operation: "uv_shutdown", code: result))
        }
    }

    /// Bytes queued by ``write(_:_:)`` that the kernel has not taken yet
    /// (`uv_stream_get_write_queue_size`); use it to stop producing for a slow reader.
    ///
    /// - Important: Loop thread only.
    public var writeQueueSize: Int {
        isClosed ? 0 : uv_stream_get_write_queue_size(stream)
    }

    /// Closes the connection (`uv_close`); idempotent, safe inside its own callbacks.
    ///
    /// Reading stops and the read callbacks are dropped without `onEnd`; writes still queued
    /// complete with `ECANCELED` (see the type's documentation for flushing first).
    /// - Important: Loop thread only.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        closeOwnedHandle(clibuv_handle(handle))
    }

    /// The credentials of the process at the other end (`SO_PEERCRED`), as they were when the
    /// connection was made: for a server the client's, for a client the server's.
    ///
    /// - Throws: ``UVError`` naming `uv_fileno` (`EBADF` when closed or not connected) or
    ///   `getsockopt(SO_PEERCRED)` (`ENOTSOCK` for a pipe that is not a socket).
    /// - Important: Loop thread only.
    public func peerCredentials() throws -> (pid: Int32, uid: UInt32, gid: UInt32) {
        guard !isClosed else { throw UVError(operation: "uv_fileno", code: UV_EBADF) }
        var fd: uv_os_fd_t = -1
        try UVError.check(uv_fileno(clibuv_handle(handle), &fd), "uv_fileno")
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        try UVError.check(clibuv_peer_credentials(fd, &pid, &uid, &gid), "getsockopt(SO_PEERCRED)")
        return (pid, uid, gid)
    }

    // MARK: Callbacks

    private func readBufferForLibuv() -> uv_buf_t {
        let buffer: UnsafeMutableRawBufferPointer
        if let existing = readBuffer {
            buffer = existing
        } else {
            buffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
            readBuffer = buffer
        }
        return uv_buf_t(base: buffer.baseAddress?.assumingMemoryBound(to: CChar.self), len: buffer.count)
    }

    private func didRead(_ count: Int, _ buffer: UnsafePointer<uv_buf_t>?) {
        if count > 0 {
            guard let base = buffer?.pointee.base else { return }
            let bytes = [UInt8](UnsafeRawBufferPointer(start: base, count: count))
            let onData = self.onData
            onData?(bytes)
        } else if count < 0 {
            // EOF or error: reading is over, whatever the callbacks do next.
            uv_read_stop(stream)
            let onEnd = self.onEnd
            self.onData = nil
            self.onEnd = nil
            onEnd?(count == Int(UV_EOF.rawValue) ? nil : UVError(operation: "uv_read", code: Int32(truncatingIfNeeded: count)))
        }
        // count == 0 means "nothing now" (EAGAIN); libuv will call again.
    }

    func didClose() {
        onData = nil
        onEnd = nil
        loop.unregister(handle)
    }
}

@available(*, unavailable, message: "PipeConnection is confined to its loop thread")
extension PipeConnection: Sendable {}

// MARK: - Requests

/// A write or shutdown request in flight. `pointer->data` holds it retained until libuv's
/// callback, which takes it back, reports the status and so frees the request and its bytes.
final class StreamRequest<Request> {
    let pointer: UnsafeMutablePointer<Request>
    /// The copy of the bytes being written; libuv reads from it until the callback.
    let bytes: UnsafeMutableRawBufferPointer?
    private let operation: String
    private let completion: ((UVError?) -> Void)?

    init(_ request: Request, copying bytes: [UInt8]?, operation: String, completion: ((UVError?) -> Void)?) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: request)
        if let bytes {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            copy.copyBytes(from: bytes)
            self.bytes = copy
        } else {
            self.bytes = nil
        }
        self.operation = operation
        self.completion = completion
    }

    deinit {
        pointer.deallocate()
        bytes?.deallocate()
    }

    func complete(_ status: Int32) {
        completion?(status == 0 ? nil : UVError(operation: operation, code: status))
    }
}

/// A `uv_pipe_connect` in flight; owns the connection until it is handed to the completion.
final class ConnectRequest {
    let pointer: UnsafeMutablePointer<uv_connect_t>
    private let connection: PipeConnection
    private let completion: (Result<PipeConnection, UVError>) -> Void

    init(connection: PipeConnection, completion: @escaping (Result<PipeConnection, UVError>) -> Void) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: uv_connect_t())
        self.connection = connection
        self.completion = completion
    }

    deinit {
        pointer.deallocate()
    }

    func complete(_ status: Int32) {
        if status == 0 {
            completion(.success(connection))
        } else {
            connection.close()
            completion(.failure(UVError(operation: "uv_pipe_connect", code: status)))
        }
    }
}

/// Throws unless `path` can be bound or connected to exactly as given: not empty, no NUL, and
/// short enough for `sockaddr_un.sun_path` with its terminator (libuv 1.44 truncates silently).
func checkSocketPath(_ path: String, _ operation: String) throws(UVError) {
    try checkCString(path, operation)
    guard !path.isEmpty else { throw UVError(operation: operation, code: UV_EINVAL) }
    let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
    guard path.utf8.count < capacity else { throw UVError(operation: operation, code: UV_ENAMETOOLONG) }
}
