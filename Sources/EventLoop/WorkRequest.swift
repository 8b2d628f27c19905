import CLibUV

/// Work on libuv's thread pool (`uv_queue_work`): `work` runs on a pool thread, then
/// `completion` runs on the loop thread with its result.
///
/// For work that would block the loop for more than a few milliseconds and needs nothing of
/// the loop's own state: verifying the whole ledger on a read-only database connection of its
/// own, copying a backup. `work` must not touch loop-confined objects (handles, the engine,
/// the loop's database connection).
public enum WorkRequest {
    /// Queues `work` (`uv_queue_work`); `completion` runs on the loop thread afterwards. The
    /// loop stays alive (and `EventLoop.close()` waits) until the completion has run.
    ///
    /// - Throws: ``UVError`` `uv_queue_work` when the loop refuses the request (closing).
    /// - Important: Loop thread only.
    public static func queue<Result: Sendable>(on loop: EventLoop, _ work: @escaping @Sendable () -> Result,
                                               completion: @escaping (Result) -> Void) throws {
        try loop.checkAcceptsHandles("uv_queue_work")
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.initialize(to: uv_work_t())
        let slot = ResultSlot<Result>()
        let box = WorkBox(work: { slot.value = work() }, completion: { if let value = slot.value { completion(value) } })
        request.pointee.data = Unmanaged.passRetained(box).toOpaque()
        let result = uv_queue_work(loop.pointer, request, { request in
            guard let data = request?.pointee.data else { return }
            Unmanaged<WorkBox>.fromOpaque(data).takeUnretainedValue().work()
        }, { request, _ in
            guard let request, let data = request.pointee.data else { return }
            let box = Unmanaged<WorkBox>.fromOpaque(data).takeRetainedValue()
            request.deinitialize(count: 1)
            request.deallocate()
            box.completion()
        })
        guard result == 0 else {
            Unmanaged<WorkBox>.fromOpaque(request.pointee.data!).release()
            request.deallocate()
            throw UVError(operation: "uv_queue_work", code: result)
        }
    }
}

// Both are @unchecked Sendable, soundly: the result is written once on the pool thread inside
// the work callback and read on the loop thread in the after-work callback, which libuv runs
// only after the work callback has returned (uv_queue_work's ordering); `completion` is touched
// only on the loop thread.

/// Where the pool thread leaves the result.
private final class ResultSlot<Value>: @unchecked Sendable {
    var value: Value?
}

/// The two halves of one request.
private final class WorkBox: @unchecked Sendable {
    let work: () -> Void
    let completion: () -> Void

    init(work: @escaping () -> Void, completion: @escaping () -> Void) {
        self.work = work
        self.completion = completion
    }
}
