import CLibUV
import EventLoop
import Testing

@Suite struct UVErrorTests {
    @Test func descriptionNamesOperationCodeAndMessage() {
        let error = UVError(operation: "uv_pipe_bind", code: UV_EADDRINUSE)
        #expect(error.description == "uv_pipe_bind: EADDRINUSE (address already in use)")
        #expect("\(error)" == "uv_pipe_bind: EADDRINUSE (address already in use)")
    }

    @Test func nameAndMessageComeFromLibuv() {
        let error = UVError(operation: "uv_timer_start", code: UV_EBADF.rawValue)
        #expect(error.code == UV_EBADF.rawValue)
        #expect(error.name == "EBADF")
        #expect(error.message == "bad file descriptor")
        #expect(error.description == "uv_timer_start: EBADF (bad file descriptor)")
    }

    @Test func equalityComparesOperationAndCode() {
        #expect(UVError(operation: "uv_write", code: UV_EPIPE) == UVError(operation: "uv_write", code: UV_EPIPE.rawValue))
        #expect(UVError(operation: "uv_write", code: UV_EPIPE) != UVError(operation: "uv_read", code: UV_EPIPE))
        #expect(UVError(operation: "uv_write", code: UV_EPIPE) != UVError(operation: "uv_write", code: UV_ECANCELED))
    }

    @Test func unknownCodeIsStillDescribed() {
        let error = UVError(operation: "uv_something", code: -99_999)
        #expect(error.name.contains("99999"))
        #expect(error.description.hasPrefix("uv_something: "))
    }
}
