import Testing

@testable import SIPCHost

private let hostWindow = WindowHandle(rawValue: 0x10010)
private let peerWindow = WindowHandle(rawValue: 0x20020)
private let msgNest: UInt32 = 0x8003

/// A fake shim that forwards `SEND_MESSAGE 0x8003 (w, n)` to a simulated Windows peer which, like msg-peer,
/// answers `n > 0` by sending `0x8003 (own, n - 1)` back to the host's window (an `EV_MESSAGE`) and returning
/// that result + 1; the peer's answer to `n == 0` is 1. An error REPLY from the host counts as `LRESULT` 0.
private func nestingShim() -> FakeShim {
    let shim = FakeShim()
    var pending: [UInt32: UInt32] = [:]  // shim event tag -> host request tag
    shim.script = { frame, shim in
        switch frame.type {
        case .sendMessage:
            guard let request = try? Pipe.SendMessage(decoding: frame.payload, frame: frame.type) else { return }
            if request.lParam > 0 {
                let eventTag = shim.sendEvent(
                    hwnd: hostWindow, message: msgNest, wParam: peerWindow.rawValue, lParam: request.lParam - 1)
                pending[eventTag] = frame.tag
            } else {
                shim.replyOK(frame.tag, Pipe.SendResult(lresult: 1, delivered: true))
            }
        case .reply:
            guard let hostTag = pending.removeValue(forKey: frame.tag),
                let reply = try? Pipe.Reply(decoding: frame.payload, frame: .reply)
            else { return }
            var lresult: Int64 = 0
            if case .ok(let bytes) = reply, let value = try? Pipe.LResult(decoding: bytes, frame: .reply) {
                lresult = value.lresult
            }
            shim.replyOK(hostTag, Pipe.SendResult(lresult: lresult + 1, delivered: true))
        default: break
        }
    }
    return shim
}

/// The host side of the nesting game: answer `n > 0` by sending `n - 1` to the peer, plus one.
private func installNestingHandler(on connection: BridgeConnection, maxSeen: Box<Int>) {
    connection.onMessage(msgNest, to: hostWindow) { connection, message in
        maxSeen.value = max(maxSeen.value, connection.nestingDepth)
        guard message.lParam > 0 else { return 1 }
        let outcome = try connection.sendMessage(
            to: WindowHandle(rawValue: message.wParam), message: msgNest, wParam: hostWindow.rawValue,
            lParam: message.lParam - 1)
        return outcome.lresult + 1
    }
}

final class Box<T> {
    var value: T
    init(_ value: T) { self.value = value }
}

@Suite("Call loop with a fake shim")
struct CallLoopTests {
    @Test("the handshake answers HELLO with HELLO_ACK and keeps the shim's pid")
    func handshake() throws {
        let shim = FakeShim()
        let connection = try BridgeConnection(transport: shim)
        #expect(connection.hello.processId == 4242)
        #expect(shim.sent.map(\.type) == [.helloAck])
        #expect(try Pipe.HelloAck(decoding: shim.sent[0].payload, frame: .helloAck) == Pipe.HelloAck())
    }

    @Test("a different major version is refused with PROTOCOL_ERROR SIPB_E_VERSION")
    func versionMismatch() throws {
        let shim = FakeShim(hello: Pipe.Hello(major: 2, minor: 5, processId: 1))
        #expect(throws: BridgeError.protocolViolation(.versionMismatch(peerMajor: 2, peerMinor: 5))) {
            _ = try BridgeConnection(transport: shim)
        }
        let report = try Pipe.ReasonText(
            decoding: shim.sent(.protocolError).first?.payload ?? [], frame: .protocolError)
        #expect(report.reason == .version)
        #expect(shim.terminated && shim.outputClosed)
    }

    @Test("a bad magic, a frame other than HELLO, or no HELLO at all fails the handshake")
    func badHandshakes() throws {
        #expect(throws: BridgeError.protocolViolation(.badMagic(0x1234))) {
            _ = try BridgeConnection(transport: FakeShim(hello: Pipe.Hello(magic: 0x1234, processId: 1)))
        }
        let wrong = FakeShim(hello: nil)
        wrong.push(PipeFrame(type: .reply, tag: 1))
        #expect(throws: BridgeError.self) { _ = try BridgeConnection(transport: wrong) }
        var configuration = BridgeConnection.Configuration()
        configuration.handshakeTimeout = .milliseconds(10)
        #expect(throws: BridgeError.timedOut("no HELLO from the shim within 0.01 seconds")) {
            _ = try BridgeConnection(transport: FakeShim(hello: nil), configuration: configuration)
        }
        let dead = FakeShim(hello: nil)
        dead.push(.exited(.exited(3)))
        #expect(throws: BridgeError.shimExited(.exited(3))) { _ = try BridgeConnection(transport: dead) }
    }

    @Test("a request gets a fresh non-zero tag and its typed result")
    func simpleRequest() throws {
        let shim = FakeShim()
        shim.script = { frame, shim in
            if frame.type == .isWindow { shim.replyOK(frame.tag, Pipe.Flag(true)) }
            if frame.type == .findWindow { shim.replyOK(frame.tag, Pipe.Window(.null)) }
        }
        let connection = try BridgeConnection(transport: shim)
        #expect(try connection.isWindow(peerWindow))
        #expect(try connection.findWindow(title: "none") == nil)
        let tags = shim.sent.filter { $0.type.isHostRequest }.map(\.tag)
        #expect(tags.count == 2 && !tags.contains(0) && Set(tags).count == 2)
    }

    @Test("pipelined requests: several in flight, replies in any order, each finish gets its own result")
    func pipelinedRequests() throws {
        let shim = FakeShim()
        var held: [PipeFrame] = []
        shim.script = { frame, _ in if frame.type.isHostRequest { held.append(frame) } }
        let connection = try BridgeConnection(transport: shim)
        let first = try connection.start(Pipe.IsWindow(hwnd: peerWindow))
        let second = try connection.start(Pipe.FindWindow(parent: .null, childAfter: .null, className: nil, title: "x"))
        let third = try connection.start(Pipe.IsWindow(hwnd: .null))
        #expect(held.count == 3, "all three are sent before any answer")
        // The shim answers in reverse order; the third is abandoned before its answer comes.
        connection.abandon(third)
        shim.replyOK(held[2].tag, Pipe.Flag(false))
        shim.replyOK(held[1].tag, Pipe.Window(peerWindow))
        shim.replyOK(held[0].tag, Pipe.Flag(true))
        #expect(try connection.finish(second).hwnd == peerWindow)
        #expect(try connection.finish(first).value == true)
        #expect(connection.failure == nil, "the abandoned request's late REPLY is dropped, not a protocol error")
        // A further request works and gets a tag none of the three used.
        shim.script = { frame, shim in if frame.type == .isWindow { shim.replyOK(frame.tag, Pipe.Flag(true)) } }
        #expect(try connection.isWindow(peerWindow))
        #expect(!held.map(\.tag).contains(shim.sent.last!.tag))
    }

    @Test("an error status becomes requestFailed with the shim's text and GetLastError")
    func errorStatus() throws {
        let shim = FakeShim()
        shim.script = { frame, shim in
            if frame.type.isHostRequest {
                shim.replyFailure(frame.tag, .win32Error, lastError: 2, "OpenFileMappingW failed")
            }
        }
        let connection = try BridgeConnection(transport: shim)
        #expect(
            throws: BridgeError.requestFailed(
                request: .openMapping, status: .win32Error, lastError: 2, message: "OpenFileMappingW failed")
        ) { _ = try connection.openMapping(name: "missing") }
    }

    @Test("a sent event while a request waits runs its handler, whose nested request unwinds correctly")
    func nestedCall() throws {
        let shim = nestingShim()
        let connection = try BridgeConnection(transport: shim)
        let deepest = Box(0)
        installNestingHandler(on: connection, maxSeen: deepest)
        let outcome = try connection.sendMessage(
            to: peerWindow, message: msgNest, wParam: hostWindow.rawValue, lParam: 1)
        #expect(outcome.lresult == 2)
        #expect(deepest.value == 1)
        #expect(connection.nestingDepth == 0)
    }

    @Test("nesting 40 levels deep (20 host calls) unwinds to the right result")
    func deepNesting() throws {
        let shim = nestingShim()
        let connection = try BridgeConnection(transport: shim)
        let deepest = Box(0)
        installNestingHandler(on: connection, maxSeen: deepest)
        let outcome = try connection.sendMessage(
            to: peerWindow, message: msgNest, wParam: hostWindow.rawValue, lParam: 40)
        #expect(outcome.lresult == 41)
        #expect(deepest.value == 20)
        let replies = shim.hostReplies
        #expect(replies.count == 20)
        #expect(replies.values.allSatisfy { if case .ok = $0 { true } else { false } })
    }

    @Test("past the depth limit the host code gets nestingLimitExceeded and the shim an error REPLY")
    func depthLimit() throws {
        let shim = nestingShim()
        var configuration = BridgeConnection.Configuration()
        configuration.maxNestingDepth = 5
        let connection = try BridgeConnection(transport: shim, configuration: configuration)
        var limitErrors: [BridgeError] = []
        connection.onMessage(msgNest, to: hostWindow) { connection, message in
            guard message.lParam > 0 else { return 1 }
            do {
                return try connection.sendMessage(
                    to: peerWindow, message: msgNest, wParam: hostWindow.rawValue, lParam: message.lParam - 1
                ).lresult + 1
            } catch {
                if let error = error as? BridgeError { limitErrors.append(error) }
                throw error
            }
        }
        let outcome = try connection.sendMessage(to: peerWindow, message: msgNest, lParam: 40)
        #expect(limitErrors == [.nestingLimitExceeded(limit: 5)])
        // Host calls 1…5 are made; the handler inside call 5 cannot call again and fails, so the peer sees 0
        // there. On the way out each of the 5 peer levels adds 1 and each of the 4 successful handlers adds 1.
        #expect(outcome.lresult == 0 + 5 + 4)
        let failures = shim.hostReplies.values.filter { if case .failure = $0 { true } else { false } }
        #expect(failures.count == 1)
        if case .failure(let status, _, let message)? = failures.first {
            #expect(status != .ok)
            #expect(message.contains("nested call limit of 5 exceeded"))
        }
        #expect(connection.failure == nil)
    }

    @Test("a REPLY for an outer call that arrives while an inner one waits is kept for the outer call")
    func outOfOrderReplies() throws {
        let shim = FakeShim()
        var outerTag: UInt32 = 0
        shim.script = { frame, shim in
            switch frame.type {
            case .isWindow:
                outerTag = frame.tag
                shim.sendEvent(hwnd: hostWindow, message: 0x8001, wParam: 2, lParam: 3)
            case .getWindowThreadProcessId:
                shim.replyOK(outerTag, Pipe.Flag(true))  // the outer reply first…
                shim.replyOK(frame.tag, Pipe.GetWindowThreadProcessId.Result(threadId: 7, processId: 8))  // …then the inner
            default: break
            }
        }
        let connection = try BridgeConnection(transport: shim)
        var inner: (UInt32, UInt32)?
        connection.onMessage(0x8001, to: hostWindow) { connection, message in
            inner = try connection.windowThreadProcessId(peerWindow)
            return Int64(message.wParam + message.lParam)
        }
        #expect(try connection.isWindow(peerWindow))
        #expect(inner.map { [$0.0, $0.1] } == [7, 8])
        let reply = shim.hostReplies.first?.value
        #expect(reply == .ok(Pipe.LResult(5).bytes))
    }

    @Test("two replies for two outer levels in reverse order are each matched to their own call")
    func replyOrderAcrossLevels() throws {
        let shim = FakeShim()
        var tags: [UInt32] = []
        shim.script = { frame, shim in
            guard frame.type == .sendMessage else { return }
            tags.append(frame.tag)
            if tags.count < 3 {
                shim.sendEvent(hwnd: hostWindow, message: 0x8001)
            } else {
                for (index, tag) in tags.enumerated() {
                    shim.replyOK(tag, Pipe.SendResult(lresult: Int64(100 + index), delivered: true))
                }
            }
        }
        let connection = try BridgeConnection(transport: shim)
        var seen: [Int64] = []
        connection.onMessage(0x8001, to: hostWindow) { connection, _ in
            let result = try connection.sendMessage(to: peerWindow, message: 0x8001).lresult
            seen.append(result)
            return result
        }
        let outer = try connection.sendMessage(to: peerWindow, message: 0x8001).lresult
        #expect(seen == [102, 101])
        #expect(outer == 100)
    }

    @Test("the shim exiting while calls are nested fails every one of them, promptly")
    func exitMidCall() throws {
        let shim = FakeShim()
        shim.script = { frame, shim in
            guard frame.type == .sendMessage else { return }
            let request = try? Pipe.SendMessage(decoding: frame.payload, frame: frame.type)
            if request?.lParam ?? 0 < 3 {
                shim.sendEvent(hwnd: hostWindow, message: 0x8001, lParam: (request?.lParam ?? 0) + 1)
            } else {
                shim.push(.exited(.signaled(9)))
            }
        }
        let connection = try BridgeConnection(transport: shim)
        var innerErrors: [BridgeError] = []
        connection.onMessage(0x8001, to: hostWindow) { connection, message in
            do {
                return try connection.sendMessage(to: peerWindow, message: 0x8001, lParam: message.lParam).lresult
            } catch {
                if let error = error as? BridgeError { innerErrors.append(error) }
                throw error
            }
        }
        let start = ContinuousClock.now
        #expect(throws: BridgeError.shimExited(.signaled(9))) {
            _ = try connection.sendMessage(to: peerWindow, message: 0x8001, lParam: 0)
        }
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(innerErrors == Array(repeating: .shimExited(.signaled(9)), count: 3))
        #expect(connection.failure == .shimExited(.signaled(9)))
        #expect(throws: BridgeError.shimExited(.signaled(9))) { _ = try connection.isWindow(peerWindow) }
        #expect(shim.outputClosed)
    }

    @Test("GOODBYE from the shim fails the waiting call with shimLeft")
    func goodbyeMidCall() throws {
        let shim = FakeShim()
        shim.script = { _, shim in
            shim.push(PipeFrame(type: .goodbye, payload: Pipe.ReasonText(reason: .io, text: "stdin broke").bytes))
        }
        let connection = try BridgeConnection(transport: shim)
        #expect(throws: BridgeError.shimLeft(reason: .io, message: "stdin broke")) {
            _ = try connection.isWindow(peerWindow)
        }
    }

    @Test("PROTOCOL_ERROR from the shim fails the waiting call with its reason and text")
    func peerProtocolError() throws {
        let shim = FakeShim()
        shim.script = { _, shim in
            shim.push(
                PipeFrame(type: .protocolError, payload: Pipe.ReasonText(reason: .malformed, text: "bad size").bytes))
        }
        let connection = try BridgeConnection(transport: shim)
        #expect(throws: BridgeError.peerProtocolError(reason: .malformed, message: "bad size")) {
            _ = try connection.isWindow(peerWindow)
        }
    }

    @Test("malformed frames from the shim fail the call, answer PROTOCOL_ERROR, and close the pipe")
    func hostDetectsViolations() throws {
        let cases: [(PipeFrame, PipeProtocolError)] = [
            (
                PipeFrame(type: .reply, tag: 999, payload: Pipe.Reply.ok([]).bytes),
                .unexpectedFrame(type: .reply, tag: 999, why: "no request with this tag is waiting")
            ),
            (
                PipeFrame(type: .reply, tag: 1, payload: [0, 0]),
                .truncated(frame: .reply, field: "status", needed: 4, remaining: 2)
            ),
            (
                PipeFrame(
                    type: .eventMessage, tag: 5,
                    payload: Pipe.MessageEvent(hwnd: hostWindow, message: 1, kind: .posted, wParam: 0, lParam: 0).bytes),
                .unexpectedFrame(type: .eventMessage, tag: 5, why: "a posted message must have tag 0")
            ),
            (
                PipeFrame(
                    type: .eventMessage, tag: 0,
                    payload: Pipe.MessageEvent(hwnd: hostWindow, message: 1, kind: .sent, wParam: 0, lParam: 0).bytes),
                .unexpectedFrame(type: .eventMessage, tag: 0, why: "a sent message needs a non-zero tag")
            ),
            (
                PipeFrame(
                    type: .eventMessage, tag: 5,
                    payload: Pipe.MessageEvent(hwnd: hostWindow, message: 1, kind: .sent, wParam: 0, lParam: 0).bytes
                        + [0]),
                .trailingBytes(frame: .eventMessage, count: 1)
            ),
            (
                PipeFrame(type: .hello, payload: Pipe.Hello(processId: 1).bytes),
                .unexpectedFrame(type: .hello, tag: 0, why: "not a frame the shim may send to the host")
            ),
            (PipeFrame(type: .reply, tag: 1, flags: 2), .nonZeroFlags(type: .reply, flags: 2)),
            (
                PipeFrame(
                    type: .eventCopyDataUploaded, tag: 0,
                    payload: Pipe.CopyDataUploadedEvent(hwnd: hostWindow, sender: .null, dwData: 0, length: 1).bytes),
                .unexpectedFrame(type: .eventCopyDataUploaded, tag: 0, why: "EV_COPYDATA_UPLOADED needs a non-zero tag")
            ),
            (
                PipeFrame(
                    type: .eventCopyDataUploaded, tag: 6,
                    payload: Pipe.CopyDataUploadedEvent(hwnd: hostWindow, sender: .null, dwData: 0, length: 1).bytes),
                .unexpectedFrame(type: .eventCopyDataUploaded, tag: 0, why: "the shim has no upload area")
            ),
            (
                PipeFrame(type: .eventCopyDataUploaded, tag: 6, payload: [UInt8](repeating: 0, count: 26)),
                .truncated(frame: .eventCopyDataUploaded, field: "length", needed: 4, remaining: 2)
            ),
        ]
        for (bad, expected) in cases {
            let shim = FakeShim()
            shim.script = { frame, shim in if frame.type == .isWindow { shim.push(bad) } }
            let connection = try BridgeConnection(transport: shim)
            #expect(throws: BridgeError.protocolViolation(expected)) { _ = try connection.isWindow(peerWindow) }
            let report = try Pipe.ReasonText(
                decoding: shim.sent(.protocolError).first?.payload ?? [], frame: .protocolError)
            #expect(report.reason == .malformed && report.text == expected.description)
            #expect(shim.outputClosed)
        }
    }

    @Test("the result of an OK REPLY with trailing bytes is a protocol violation")
    func resultTrailingBytes() throws {
        let shim = FakeShim()
        shim.script = { frame, shim in
            if frame.type.isHostRequest {
                shim.push(PipeFrame(type: .reply, tag: frame.tag, payload: Pipe.Reply.ok([1, 0, 0, 0, 9]).bytes))
            }
        }
        let connection = try BridgeConnection(transport: shim)
        #expect(throws: BridgeError.protocolViolation(.trailingBytes(frame: .reply, count: 1))) {
            _ = try connection.isWindow(peerWindow)
        }
    }

    @Test("an unknown request type from the shim is answered with UNKNOWN_TYPE and the session goes on")
    func unknownRequestType() throws {
        let shim = FakeShim()
        shim.script = { frame, shim in
            if frame.type == .isWindow {
                shim.push(PipeFrame(type: FrameType(rawValue: 0x0300), tag: 77, payload: [1, 2]))
                shim.replyOK(frame.tag, Pipe.Flag(false))
            }
        }
        let connection = try BridgeConnection(transport: shim)
        #expect(try connection.isWindow(peerWindow) == false)
        guard case .failure(let status, _, _)? = shim.hostReplies[77] else {
            Issue.record("no reply to tag 77")
            return
        }
        #expect(status == .unknownType)
    }

    @Test(
        "events without a handler get NOT_FOUND; handler errors get an error status; posted events reach their handler")
    func dispatchRules() throws {
        let shim = FakeShim()
        let connection = try BridgeConnection(transport: shim)
        var posted: [WindowMessage] = []
        var copies: [CopyData] = []
        connection.onPostedMessage(to: hostWindow) { _, message in posted.append(message) }
        connection.onCopyData(to: hostWindow) { _, copy in
            copies.append(copy)
            return Int64(copy.data.count)
        }
        connection.onMessage(0x8009, to: hostWindow) { _, _ in throw BridgeError.invalidArgument("handler says no") }
        let noHandler = shim.sendEvent(hwnd: hostWindow, message: 0x8001)
        let failing = shim.sendEvent(hwnd: hostWindow, message: 0x8009)
        shim.postEvent(hwnd: hostWindow, message: 0x8002, wParam: 1, lParam: 2)
        let copy = shim.copyDataEvent(hwnd: hostWindow, dwData: 5, data: [1, 2, 3])
        try connection.serve(until: { copies.count == 1 })
        let replies = shim.hostReplies
        #expect(replies[noHandler].map { if case .failure(.notFound, _, _) = $0 { true } else { false } } == true)
        #expect(replies[failing].map { if case .failure(let s, _, _) = $0 { s != .ok } else { false } } == true)
        #expect(replies[copy] == .ok(Pipe.LResult(3).bytes))
        #expect(posted.map(\.message) == [0x8002] && posted.first?.kind == .posted)
        #expect(copies.first?.dwData == 5 && copies.first?.data == [1, 2, 3])
        #expect(shim.sent(.reply).count == 3)
    }

    @Test("serve returns on its condition, its duration, or a stop signal")
    func serveStops() throws {
        let shim = FakeShim()
        let connection = try BridgeConnection(transport: shim)
        let start = ContinuousClock.now
        try connection.serve(for: .milliseconds(50))
        #expect(ContinuousClock.now - start >= .milliseconds(50))
        let stop = BridgeConnection.StopSignal()
        stop.stop()
        try connection.serve(stop: stop)
        shim.push(.exited(.exited(0)))
        #expect(throws: BridgeError.shimExited(.exited(0))) { try connection.serve() }
    }

    @Test("a host-side reply timeout gives timedOut, and the late REPLY is dropped quietly")
    func replyTimeout() throws {
        let shim = FakeShim()
        var firstTag: UInt32 = 0
        shim.script = { frame, shim in
            if firstTag == 0 {
                firstTag = frame.tag  // no answer now
            } else {
                shim.replyOK(firstTag, Pipe.Flag(true))  // the late answer to the first call
                shim.replyOK(frame.tag, Pipe.Flag(false))
            }
        }
        var configuration = BridgeConnection.Configuration()
        configuration.replyTimeout = .milliseconds(20)
        let connection = try BridgeConnection(transport: shim, configuration: configuration)
        #expect(throws: BridgeError.self) { _ = try connection.isWindow(peerWindow) }
        #expect(try connection.isWindow(peerWindow) == false)
        #expect(connection.failure == nil)
    }

    @Test("shutdown sends GOODBYE, refuses late events with SHUTTING_DOWN, and returns the exit status")
    func shutdown() throws {
        let shim = FakeShim()
        shim.script = { frame, shim in
            if frame.type == .goodbye {
                shim.sendEvent(hwnd: hostWindow, message: 0x8001)
                shim.push(.exited(.exited(0)))
            }
        }
        let connection = try BridgeConnection(transport: shim)
        connection.onMessage(0x8001, to: hostWindow) { _, _ in 1 }
        #expect(connection.shutdown() == .exited(0))
        #expect(shim.sent(.goodbye).count == 1)
        #expect(
            shim.hostReplies.values.first.map { if case .failure(.shuttingDown, _, _) = $0 { true } else { false } }
                == true)
        #expect(throws: BridgeError.closed) { _ = try connection.isWindow(peerWindow) }
        #expect(connection.shutdown() == nil)
    }

    @Test("shutdown kills a shim that does not leave in time")
    func shutdownKills() throws {
        let shim = FakeShim()
        let connection = try BridgeConnection(transport: shim)
        #expect(connection.shutdown(timeout: .milliseconds(10)) == .signaled(9))
        #expect(shim.terminated)
    }

    @Test("invalid arguments are refused before anything is sent")
    func invalidArguments() throws {
        let shim = FakeShim()
        let connection = try BridgeConnection(transport: shim)
        #expect(throws: BridgeError.self) { _ = try connection.createMapping(name: "m", size: 1, devShmFile: "../etc") }
        #expect(throws: BridgeError.self) {
            _ = try connection.createWindow(className: "c", title: "t", relaying: Array(repeating: 1, count: 300))
        }
        #expect(throws: BridgeError.self) { _ = try connection.findWindow(title: String(repeating: "x", count: 40000)) }
        #expect(shim.sent.count == 1)  // only HELLO_ACK
        #expect(SharedFileMapping.isValidFileName("sipb-test_1.map"))
        #expect(
            !SharedFileMapping.isValidFileName("a/b") && !SharedFileMapping.isValidFileName("..")
                && !SharedFileMapping.isValidFileName(""))
    }
}
