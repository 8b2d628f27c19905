import CLibUV
import EventLoop
import Foundation
import Testing

/// A server on a fresh socket path plus a client connected to it; the server side of the
/// connection arrives through `onServerSide`.
private struct Connected {
    let directory: TemporaryDirectory
    let server: PipeServer

    init(
        loop: EventLoop,
        onServerSide: @escaping (PipeConnection) -> Void,
        onClient: @escaping (PipeConnection) -> Void
    ) throws {
        directory = try TemporaryDirectory()
        let path = directory.file("test.sock")
        server = try PipeServer(loop: loop)
        try server.bind(path: path)
        try server.listen(onServerSide)
        try PipeConnection.connect(loop: loop, path: path) { result in
            switch result {
            case .success(let client): onClient(client)
            case .failure(let error):
                Issue.record(error)
                loop.stop()
            }
        }
    }
}

@Suite struct PipeConnectionTests {
    init() {
        ignoreSIGPIPE()
    }

    @Test func bytesRoundTripInBothDirections() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var serverReceived: [UInt8] = []
        var clientReceived: [UInt8] = []
        var serverSawEnd = false
        var writeResults: [UVError?] = []
        let setup = try Connected(loop: loop, onServerSide: { connection in
            recordingErrors {
                try connection.startReading(onData: { chunk in
                    serverReceived += chunk
                    if serverReceived.count == 4 {
                        connection.write(bytes("pong")) { writeResults.append($0) }
                    }
                }, onEnd: { error in
                    #expect(error == nil)
                    serverSawEnd = true
                    connection.close()
                })
            }
        }, onClient: { client in
            client.write(bytes("ping")) { writeResults.append($0) }
            recordingErrors {
                try client.startReading(onData: { chunk in
                    clientReceived += chunk
                    if clientReceived.count == 4 { client.close() }
                }, onEnd: { _ in Issue.record("the server never closes first") })
            }
        })
        defer { setup.directory.remove() }

        // Runs until the client closed, the server side saw EOF and closed; then only the
        // listening server keeps the loop alive, so stop once the exchange is over.
        let poll = try TimerHandle(loop: loop)
        try poll.start(after: 1, repeating: 1) { if serverSawEnd { loop.stop() } }
        loop.run()

        #expect(!watchdog.fired)
        #expect(text(serverReceived) == "ping")
        #expect(text(clientReceived) == "pong")
        #expect(writeResults.count == 2 && writeResults.allSatisfy { $0 == nil })
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func peerClosingDeliversEndOfFile() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var ends: [UVError?] = []
        var data: [UInt8] = []
        var server: PipeServer?
        let setup = try Connected(loop: loop, onServerSide: { connection in
            recordingErrors {
                try connection.startReading(onData: { data += $0 }, onEnd: { error in
                    ends.append(error)
                    connection.close()
                    server?.close()
                })
            }
        }, onClient: { client in
            client.write(bytes("bye"))
            client.close()
        })
        server = setup.server
        defer { setup.directory.remove() }
        loop.run()
        #expect(!watchdog.fired)
        #expect(text(data) == "bye")
        #expect(ends.count == 1)
        #expect(ends.first == .some(nil))
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func peerCredentialsAreOurOwnProcess() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var credentials: [(pid: Int32, uid: UInt32, gid: UInt32)] = []
        var server: PipeServer?
        var clientSide: PipeConnection?
        let setup = try Connected(loop: loop, onServerSide: { connection in
            recordingErrors { credentials.append(try connection.peerCredentials()) }
            connection.close()
            clientSide?.close()
            server?.close()
        }, onClient: { client in
            recordingErrors { credentials.append(try client.peerCredentials()) }
            clientSide = client
        })
        server = setup.server
        defer { setup.directory.remove() }
        loop.run()
        #expect(!watchdog.fired)
        #expect(credentials.count == 2)
        for credential in credentials {
            #expect(credential.pid == getpid())
            #expect(credential.uid == getuid())
            #expect(credential.gid == getgid())
        }
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func connectingToAMissingPathFailsWithENOENT() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var results: [Result<PipeConnection, UVError>] = []
        try PipeConnection.connect(loop: loop, path: directory.file("nobody.sock")) { results.append($0) }
        loop.run()
        #expect(!watchdog.fired)
        #expect(results.count == 1)
        if case .failure(let error) = results.first {
            #expect(error == UVError(operation: "uv_pipe_connect", code: UV_ENOENT))
        } else {
            Issue.record("expected a failure, got \(results)")
        }
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func closeCancelsWritesStillQueued() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var server: PipeServer?
        var serverSide: PipeConnection?
        var queuedBeforeClose = 0
        var results: [UVError?] = []
        let setup = try Connected(loop: loop, onServerSide: { serverSide = $0 }, onClient: { client in
            // Far more than a socket buffer holds, and nobody reads it.
            client.write([UInt8](repeating: 7, count: 8 << 20)) { error in
                results.append(error)
                serverSide?.close()
                server?.close()
            }
            queuedBeforeClose = client.writeQueueSize
            client.close()
        })
        server = setup.server
        defer { setup.directory.remove() }
        loop.run()
        #expect(!watchdog.fired)
        #expect(queuedBeforeClose > 0)
        #expect(results.count == 1)
        #expect(results.first == .some(UVError(operation: "uv_write", code: UV_ECANCELED)))
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func shutdownFlushesQueuedWritesBeforeThePeerSeesEndOfFile() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        let payload = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var received: [UInt8] = []
        var events: [String] = []
        var server: PipeServer?
        let setup = try Connected(loop: loop, onServerSide: { connection in
            recordingErrors {
                try connection.startReading(onData: { received += $0 }, onEnd: { error in
                    #expect(error == nil)
                    events.append("server saw end")
                    connection.close()
                    server?.close()
                })
            }
        }, onClient: { client in
            client.write(payload) { error in
                #expect(error == nil)
                events.append("write done")
            }
            client.shutdown { error in
                #expect(error == nil)
                events.append("shutdown done")
                client.close()
            }
        })
        server = setup.server
        defer { setup.directory.remove() }
        loop.run()
        #expect(!watchdog.fired)
        #expect(received == payload)
        #expect(events == ["write done", "shutdown done", "server saw end"])
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func writingAfterCloseReportsEBADFImmediately() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var results: [UVError?] = []
        var server: PipeServer?
        var serverSide: PipeConnection?
        let setup = try Connected(loop: loop, onServerSide: { serverSide = $0 }, onClient: { client in
            client.close()
            client.write(bytes("late")) { results.append($0) }
            #expect(results == [UVError(operation: "uv_write", code: UV_EBADF)])
            client.shutdown { results.append($0) }
            #expect(throws: UVError(operation: "uv_read_start", code: UV_EINVAL)) {
                try client.startReading(onData: { _ in }, onEnd: { _ in })
            }
            serverSide?.close()
            server?.close()
        })
        server = setup.server
        defer { setup.directory.remove() }
        loop.run()
        #expect(!watchdog.fired)
        #expect(results == [UVError(operation: "uv_write", code: UV_EBADF), UVError(operation: "uv_shutdown", code: UV_ENOTCONN)])
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func readingTwiceThrowsEALREADY() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var server: PipeServer?
        var serverSide: PipeConnection?
        let setup = try Connected(loop: loop, onServerSide: { serverSide = $0 }, onClient: { client in
            recordingErrors {
                try client.startReading(onData: { _ in }, onEnd: { _ in })
                #expect(throws: UVError(operation: "uv_read_start", code: UV_EALREADY)) {
                    try client.startReading(onData: { _ in }, onEnd: { _ in })
                }
                client.stopReading()
                try client.startReading(onData: { _ in }, onEnd: { _ in })
            }
            client.close()
            serverSide?.close()
            server?.close()
        })
        server = setup.server
        defer { setup.directory.remove() }
        loop.run()
        #expect(!watchdog.fired)
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }

    @Test func loopCloseCancelsAConnectionStillOpen() throws {
        let loop = try EventLoop()
        let watchdog = try Watchdog(loop)
        var client: PipeConnection?
        var serverSide: PipeConnection?
        var writeResult: [UVError?] = []
        let setup = try Connected(loop: loop, onServerSide: { connection in
            serverSide = connection
            loop.stop()
        }, onClient: { connection in
            client = connection
            connection.write([UInt8](repeating: 1, count: 8 << 20)) { writeResult.append($0) }
        })
        defer { setup.directory.remove() }
        while serverSide == nil || client == nil, !watchdog.fired { loop.runOnce(wait: true) }
        #expect(!watchdog.fired)
        try loop.close()
        #expect(writeResult == [UVError(operation: "uv_write", code: UV_ECANCELED)])
        #expect(client?.isClosed == true && serverSide?.isClosed == true && setup.server.isClosed)
        #expect(loop.openHandleCount == 0)
    }
}
