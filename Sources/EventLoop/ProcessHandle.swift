import CLibUV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `uv_spawn`, its exit reported on the loop.
///
/// Captured stdio become ``PipeConnection``s: ``stdin`` is writable, ``stdout`` and ``stderr``
/// are readable; stdio that is not captured is inherited from this process. Exit and end of
/// output are separate events in either order: to collect all output, wait for both `onExit`
/// and the pipes' `onEnd` before ``close()``.
///
/// - Important: Loop-confined: create, use and close it on the loop thread.
public final class ProcessHandle: LoopOwnedHandle {
    /// What to run and how (`uv_process_options_t`).
    public struct Options: Sendable {
        /// The program: a path, or a name looked up in `PATH` (of ``environment`` when given).
        public var executable: String
        /// The arguments after `argv[0]` (which is ``executable``).
        public var arguments: [String]
        /// The child's complete environment; nil inherits this process's environment.
        public var environment: [String: String]?
        /// The child's working directory; nil inherits this process's.
        public var workingDirectory: String?
        /// Whether to connect the child's stdin to ``ProcessHandle/stdin`` (otherwise inherited).
        public var captureStdin: Bool
        /// Whether to connect the child's stdout to ``ProcessHandle/stdout`` (otherwise inherited).
        public var captureStdout: Bool
        /// Whether to connect the child's stderr to ``ProcessHandle/stderr`` (otherwise inherited).
        public var captureStderr: Bool
        /// Whether the child starts a session and process group of its own
        /// (`UV_PROCESS_DETACHED`, `setsid`): ``killGroup(_:)`` then reaches it and everything it
        /// started, and a terminal's signals do not.
        public var ownProcessGroup: Bool = false

        public init(
            executable: String,
            arguments: [String] = [],
            environment: [String: String]? = nil,
            workingDirectory: String? = nil,
            captureStdin: Bool = false,
            captureStdout: Bool = false,
            captureStderr: Bool = false
        ) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.captureStdin = captureStdin
            self.captureStdout = captureStdout
            self.captureStderr = captureStderr
        }
    }

    /// The loop this process handle lives on.
    public let loop: EventLoop
    let handle: UnsafeMutablePointer<uv_process_t>
    private var onExit: ((Int64, Int32) -> Void)?

    /// The child's process id.
    public let pid: Int32
    /// The write end of the child's stdin, when captured.
    public let stdin: PipeConnection?
    /// The read end of the child's stdout, when captured.
    public let stdout: PipeConnection?
    /// The read end of the child's stderr, when captured.
    public let stderr: PipeConnection?

    /// Whether the child has exited (`onExit` has run).
    public private(set) var hasExited = false
    /// Whether ``close()`` has been called.
    public private(set) var isClosed = false

    /// Starts the child (`uv_spawn`); `onExit(exitStatus, termSignal)` runs on the loop when it
    /// exits: `termSignal` is 0 for a normal exit, else the signal that ended it (then
    /// `exitStatus` is 0).
    ///
    /// - Throws: ``UVError`` naming `uv_spawn`: `ENOENT` when the executable does not exist,
    ///   `EACCES` when it is not executable, `EINVAL` for a string containing NUL, an empty
    ///   executable, an environment name that is empty or contains `=`, or a closed or closing
    ///   loop. Nothing is left running or open then.
    /// - Important: Loop thread only.
    public init(loop: EventLoop, options: Options, onExit: @escaping (Int64, Int32) -> Void) throws {
        try loop.checkAcceptsHandles("uv_spawn")
        try Self.validate(options)
        var pipes: [PipeConnection?] = []
        do {
            for capture in [options.captureStdin, options.captureStdout, options.captureStderr] {
                pipes.append(capture ? try PipeConnection(loop: loop) : nil)
            }
        } catch {
            pipes.forEach { $0?.close() }
            throw error
        }
        let handle = UnsafeMutablePointer<uv_process_t>.allocate(capacity: 1)
        handle.initialize(to: uv_process_t())
        let result: Int32
        do {
            result = try Self.spawn(loop: loop, handle: handle, options: options, pipes: pipes)
        } catch {
            pipes.forEach { $0?.close() }
            handle.deallocate()
            throw error
        }
        guard result == 0 else {
            pipes.forEach { $0?.close() }
            // uv_spawn initialized the handle before failing, so it must be closed; nothing
            // else refers to it, so its close callback only frees the memory.
            handle.pointee.data = nil
            uv_close(clibuv_handle(handle)) { handle in
                UnsafeMutableRawPointer(handle)?.deallocate()
            }
            throw UVError(operation: "uv_spawn", code: result)
        }
        self.loop = loop
        self.handle = handle
        self.pid = handle.pointee.pid
        self.stdin = pipes[0]
        self.stdout = pipes[1]
        self.stderr = pipes[2]
        self.onExit = onExit
        loop.adopt(clibuv_handle(handle), by: self)
    }

    deinit {
        handle.deallocate()
    }

    /// Sends `signal` to the child (`uv_process_kill`).
    ///
    /// - Throws: ``UVError`` naming `uv_process_kill`: `ESRCH` once the child has exited (its
    ///   pid may belong to another process by then), `EINVAL` after ``close()`` or for an
    ///   invalid signal.
    /// - Important: Loop thread only.
    public func kill(_ signal: Int32) throws {
        guard !isClosed else { throw UVError(operation: "uv_process_kill", code: UV_EINVAL) }
        guard !hasExited else { throw UVError(operation: "uv_process_kill", code: UV_ESRCH) }
        try UVError.check(uv_process_kill(handle, signal), "uv_process_kill")
    }

    /// Sends `signal` to the child's whole process group (`kill(-pid, signal)`); only for a
    /// child started with ``Options/ownProcessGroup``. Works after the child itself exited,
    /// while anything it started still runs.
    ///
    /// - Throws: ``UVError`` naming `kill`: `ESRCH` when nothing is left in the group.
    /// - Important: Loop thread only.
    public func killGroup(_ signal: Int32) throws {
        guard pid > 0 else { throw UVError(operation: "kill", code: UV_EINVAL) }
        try UVError.check(uv_kill(-pid, signal), "kill")
    }

    /// Closes the process handle and the captured stdio connections (`uv_close`); idempotent,
    /// safe inside `onExit`.
    ///
    /// Closing does not stop the child. A child still running when its handle is closed is no
    /// longer watched: it is not reaped when it exits. Kill it and wait for `onExit` first.
    /// - Important: Loop thread only.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        stdin?.close()
        stdout?.close()
        stderr?.close()
        closeOwnedHandle(clibuv_handle(handle))
    }

    private func didExit(status: Int64, signal: Int32) {
        hasExited = true
        let onExit = self.onExit
        onExit?(status, signal)
    }

    func didClose() {
        onExit = nil
        loop.unregister(handle)
    }

    // MARK: Spawning

    private static func validate(_ options: Options) throws(UVError) {
        guard !options.executable.isEmpty else { throw UVError(operation: "uv_spawn", code: UV_EINVAL) }
        try checkCString(options.executable, "uv_spawn")
        for argument in options.arguments {
            try checkCString(argument, "uv_spawn")
        }
        for (name, value) in options.environment ?? [:] {
            guard !name.isEmpty, !name.contains("=") else { throw UVError(operation: "uv_spawn", code: UV_EINVAL) }
            try checkCString(name, "uv_spawn")
            try checkCString(value, "uv_spawn")
        }
        if let workingDirectory = options.workingDirectory {
            try checkCString(workingDirectory, "uv_spawn")
        }
    }

    /// Calls `uv_spawn` with C copies of `options`; returns its status.
    private static func spawn(
        loop: EventLoop,
        handle: UnsafeMutablePointer<uv_process_t>,
        options: Options,
        pipes: [PipeConnection?]
    ) throws(UVError) -> Int32 {
        // uv_spawn has forked and exec'd (or failed) by the time it returns, so these copies
        // only need to live for the call.
        let arguments = try CStringArray([options.executable] + options.arguments)
        defer { arguments.deallocate() }
        let environment = try options.environment.map { environment throws(UVError) in
            try CStringArray(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        }
        defer { environment?.deallocate() }

        var stdio = pipes.enumerated().map { fd, pipe in
            var container = uv_stdio_container_t()
            if let pipe {
                // Readable/writable from the child's point of view.
                let direction = fd == 0 ? UV_READABLE_PIPE : UV_WRITABLE_PIPE
                container.flags = uv_stdio_flags(rawValue: UV_CREATE_PIPE.rawValue | direction.rawValue)
                container.data.stream = pipe.stream
            } else {
                container.flags = UV_INHERIT_FD
                container.data.fd = Int32(fd)
            }
            return container
        }

        return options.executable.withCString { file in
            withOptionalCString(options.workingDirectory) { workingDirectory in
                stdio.withUnsafeMutableBufferPointer { stdio in
                    var processOptions = uv_process_options_t()
                    processOptions.exit_cb = { process, status, signal in
                        guard let data = process?.pointee.data else { return }
                        Unmanaged<ProcessHandle>.fromOpaque(data).takeUnretainedValue().didExit(status: status, signal: signal)
                    }
                    processOptions.file = file
                    processOptions.args = arguments.pointer
                    processOptions.env = environment?.pointer
                    processOptions.cwd = workingDirectory
                    processOptions.stdio_count = Int32(stdio.count)
                    processOptions.stdio = stdio.baseAddress
                    if options.ownProcessGroup { processOptions.flags |= UInt32(UV_PROCESS_DETACHED.rawValue) }
                    return uv_spawn(loop.pointer, handle, &processOptions)
                }
            }
        }
    }
}

@available(*, unavailable, message: "ProcessHandle is confined to its loop thread")
extension ProcessHandle: Sendable {}

/// A NUL-terminated C array of `strdup`ed strings (`char **argv`); call ``deallocate()`` when done.
private struct CStringArray {
    let pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) throws(UVError) {
        pointer = .allocate(capacity: strings.count + 1)
        pointer.initialize(repeating: nil, count: strings.count + 1)
        count = strings.count
        for (index, string) in strings.enumerated() {
            guard let copy = strdup(string) else {
                deallocate()
                throw UVError(operation: "uv_spawn", code: UV_ENOMEM)
            }
            pointer[index] = copy
        }
    }

    func deallocate() {
        for index in 0..<count {
            free(pointer[index])
        }
        pointer.deallocate()
    }
}

private func withOptionalCString<Result>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> Result) -> Result {
    guard let string else { return body(nil) }
    return string.withCString(body)
}
