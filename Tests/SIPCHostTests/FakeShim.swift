import SIPCHost

/// An in-memory transport that plays the shim: frames the host sends go to `script`, which may queue frames
/// (or an exit) for the host to receive. Everything runs on the test's thread.
///
/// When the queue is empty, `receive` returns `nil` at once if the host gave a deadline (a simulated timeout),
/// and otherwise `.failed(.timedOut("fake shim starved"))`, so a test that forgot to script an answer fails
/// instead of hanging.
final class FakeShim: BridgeTransport {
    private(set) var sent: [PipeFrame] = []
    private var queue: [TransportEvent] = []
    private(set) var outputClosed = false
    private(set) var terminated = false
    private var nextEventTag: UInt32 = 1000
    var script: (PipeFrame, FakeShim) -> Void = { _, _ in }

    /// A fake whose first frame is a valid `HELLO` from pid 4242.
    init(hello: Pipe.Hello? = Pipe.Hello(processId: 4242)) {
        if let hello { push(PipeFrame(type: .hello, payload: hello.bytes)) }
    }

    func send(_ frame: PipeFrame) throws(BridgeError) {
        guard !outputClosed else { throw .io(operation: "write to fake shim (closed)", errno: 32) }
        sent.append(frame)
        script(frame, self)
    }

    func receive(deadline: ContinuousClock.Instant?) -> TransportEvent? {
        guard !queue.isEmpty else { return deadline == nil ? .failed(.timedOut("fake shim starved")) : nil }
        return queue.removeFirst()
    }

    func closeOutput() { outputClosed = true }

    func terminate() {
        terminated = true
        queue.append(.exited(.signaled(9)))
    }

    // MARK: Scripting helpers

    func push(_ frame: PipeFrame) { queue.append(.frame(frame)) }
    func push(_ event: TransportEvent) { queue.append(event) }

    /// Queues `REPLY(tag)` with status OK and `result`.
    func replyOK(_ tag: UInt32, _ result: some PipePayload) {
        push(PipeFrame(type: .reply, tag: tag, payload: Pipe.Reply.ok((try? result.encoded()) ?? []).bytes))
    }

    /// Queues a `REPLY(tag)` with a failure status.
    func replyFailure(_ tag: UInt32, _ status: ReplyStatus, lastError: UInt32? = nil, _ message: String = "") {
        push(
            PipeFrame(
                type: .reply, tag: tag,
                payload: Pipe.Reply.failure(status: status, lastError: lastError, message: message).bytes))
    }

    /// Queues a sent `EV_MESSAGE` and returns its tag.
    @discardableResult
    func sendEvent(hwnd: WindowHandle, message: UInt32, wParam: UInt64 = 0, lParam: UInt64 = 0) -> UInt32 {
        nextEventTag += 1
        let event = Pipe.MessageEvent(hwnd: hwnd, message: message, kind: .sent, wParam: wParam, lParam: lParam)
        push(PipeFrame(type: .eventMessage, tag: nextEventTag, payload: event.bytes))
        return nextEventTag
    }

    /// Queues a posted `EV_MESSAGE` (tag 0).
    func postEvent(hwnd: WindowHandle, message: UInt32, wParam: UInt64 = 0, lParam: UInt64 = 0) {
        let event = Pipe.MessageEvent(hwnd: hwnd, message: message, kind: .posted, wParam: wParam, lParam: lParam)
        push(PipeFrame(type: .eventMessage, tag: 0, payload: event.bytes))
    }

    /// Queues an `EV_COPYDATA` and returns its tag.
    @discardableResult
    func copyDataEvent(hwnd: WindowHandle, dwData: UInt64, data: [UInt8]) -> UInt32 {
        nextEventTag += 1
        let event = Pipe.CopyDataEvent(hwnd: hwnd, sender: .null, dwData: dwData, data: data)
        push(PipeFrame(type: .eventCopyData, tag: nextEventTag, payload: (try? event.encoded()) ?? []))
        return nextEventTag
    }

    /// The frames of one type the host sent.
    func sent(_ type: FrameType) -> [PipeFrame] { sent.filter { $0.type == type } }

    /// The replies the host sent, by tag.
    var hostReplies: [UInt32: Pipe.Reply] {
        var replies: [UInt32: Pipe.Reply] = [:]
        for frame in sent(.reply) { replies[frame.tag] = try? Pipe.Reply(decoding: frame.payload, frame: .reply) }
        return replies
    }
}
