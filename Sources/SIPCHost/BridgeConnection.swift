import Foundation
import Logging

/// A sent window message relayed by the shim (`EV_MESSAGE`), or a posted one.
public typealias WindowMessage = Pipe.MessageEvent
/// A `WM_COPYDATA` relayed by the shim (`EV_COPYDATA`), with a copy of its bytes.
public typealias CopyData = Pipe.CopyDataEvent

/// Answers a sent message; the return value becomes the Windows caller's `LRESULT`. It may issue requests on
/// the connection it is given (nested calls). A thrown error answers the shim with an error status, so the
/// Windows caller sees 0.
public typealias MessageHandler = (BridgeConnection, WindowMessage) throws -> Int64
/// Answers a `WM_COPYDATA`; as ``MessageHandler``.
public typealias CopyDataHandler = (BridgeConnection, CopyData) throws -> Int64
/// Receives a posted message (nothing to answer). A thrown error is logged.
public typealias PostedMessageHandler = (BridgeConnection, WindowMessage) throws -> Void

/// A request sent with ``BridgeConnection/start(_:)`` whose `REPLY` has not been collected yet.
public struct PendingRequest<Request: PipeRequest>: Sendable {
    let tag: UInt32
}

/// A connection to one `sipc-shim.exe`: the handshake, the re-entrant synchronous call loop, and the handlers
/// that answer the shim's events.
///
/// ## Threading model
///
/// A connection belongs to one thread, the *call-loop thread*: every method and every handler runs there.
/// The type is deliberately not `Sendable`, so Swift 6 refuses to share it between threads; create it on (or
/// hand it to) the thread that will use it. Work from other threads must be forwarded to that thread by the
/// application. The only cross-thread entry is a ``StopSignal`` given to ``serve(for:stop:until:)``.
///
/// ## Re-entrancy
///
/// A request (``perform(_:timeout:)`` and the typed methods built on it) sends a frame with a fresh non-zero
/// tag, then reads frames until the `REPLY` with that tag arrives. Meanwhile it serves every event inline:
/// a sent `EV_MESSAGE` or an `EV_COPYDATA` runs its handler, whose return value is sent back as the `REPLY`.
/// A handler may itself make requests, so calls nest, up to ``Configuration/maxNestingDepth``. A `REPLY` for an
/// outer call that arrives while an inner one waits is kept until the outer call looks for it. When the shim
/// exits, says goodbye or breaks the protocol, every waiting call throws at once.
public final class BridgeConnection {
    /// Tunables of a connection.
    public struct Configuration: Sendable {
        /// How many requests may be nested on the call-loop thread; one more throws
        /// ``BridgeError/nestingLimitExceeded(limit:)``.
        public var maxNestingDepth: Int = 64
        /// How long to wait for the shim's `HELLO`.
        public var handshakeTimeout: Duration = .seconds(30)
        /// A host-side bound on every request's wait for its `REPLY` (`nil`: wait as long as the shim lives).
        public var replyTimeout: Duration? = nil
        /// How long ``BridgeConnection/shutdown(timeout:)`` waits for the shim to exit before killing it.
        public var shutdownTimeout: Duration = .seconds(5)
        /// Whether ``BridgeConnection/launch(shim:environment:configuration:shimLog:logger:)`` gives the shim a
        /// ring (frames to the shim through shared memory when they fit, docs/PROTOCOL.md "The ring"). On unless
        /// the environment variable `SIPB_RING` is `0`.
        public var useRing: Bool = PipeTransport.ringWantedByEnvironment
        /// Whether ``BridgeConnection/launch(shim:environment:configuration:shimLog:logger:)`` gives the shim an
        /// upload area (the bytes of a `WM_COPYDATA` of 4 KiB or more to a host window come through shared memory,
        /// docs/PROTOCOL.md "The upload area"). On unless the environment variable `SIPB_UPLOAD` is `0`.
        public var useUpload: Bool = PipeTransport.uploadWantedByEnvironment
        /// Creates the default configuration.
        public init() {}
    }

    /// A flag another thread can raise to stop ``BridgeConnection/serve(for:stop:until:)``.
    public final class StopSignal: @unchecked Sendable {
        private let lock = NSLock()
        private var raised = false
        /// Creates a lowered signal.
        public init() {}
        /// Asks the serving loop to return (within about 20 ms).
        public func stop() {
            lock.lock()
            raised = true
            lock.unlock()
        }
        /// Whether ``stop()`` was called.
        public var isStopped: Bool {
            lock.lock()
            defer { lock.unlock() }
            return raised
        }
    }

    private enum State {
        case open
        case closing
        case failed(BridgeError)
        case closed
    }

    /// The transport under this connection.
    public let transport: any BridgeTransport

    /// Whether frames to the shim go through its ring when they fit (a ``PipeTransport`` whose shim reads it).
    public var usesRing: Bool { (transport as? PipeTransport)?.usesRing ?? false }
    /// Whether the shim puts the bytes of large `WM_COPYDATA` in the upload area (docs/PROTOCOL.md, "The upload
    /// area").
    public var usesUploadArea: Bool { (transport as? PipeTransport)?.usesUploadArea ?? false }
    /// The configuration in force.
    public let configuration: Configuration
    /// What the shim said in its `HELLO` (its Windows process id and version).
    public let hello: Pipe.Hello
    private let logger: Logger

    private var state = State.open
    private var lastTag: UInt32 = 0
    private var waiting: Set<UInt32> = []
    private var arrived: [UInt32: Pipe.Reply] = [:]
    private var abandoned: Set<UInt32> = []
    private var depth = 0
    private var messageHandlers: [MessageKey: MessageHandler] = [:]
    private var copyDataHandlers: [WindowHandle: CopyDataHandler] = [:]
    /// Where the bytes of the last `EV_COPYDATA_UPLOADED` went, kept for the next one (call-loop thread only).
    private var uploadBuffer: [UInt8] = []
    private var postedHandlers: [WindowHandle: PostedMessageHandler] = [:]

    private struct MessageKey: Hashable {
        let hwnd: WindowHandle
        let message: UInt32
    }

    /// Performs the handshake over `transport`: waits for `HELLO`, checks magic and major version, answers
    /// `HELLO_ACK`.
    /// - Parameters:
    ///   - transport: A transport to a freshly started shim. On failure it is closed and terminated.
    ///   - configuration: Tunables.
    ///   - logger: Where to log; by default nowhere.
    /// - Throws: ``BridgeError/timedOut(_:)`` without a `HELLO`; ``BridgeError/protocolViolation(_:)`` for a
    ///   bad one (a different major version is answered with `PROTOCOL_ERROR` `SIPB_E_VERSION`);
    ///   ``BridgeError/shimExited(_:)`` if the shim died first.
    public init(
        transport: any BridgeTransport, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "sipb.host", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(BridgeError) {
        self.transport = transport
        self.configuration = configuration
        self.logger = logger
        do {
            hello = try Self.handshake(transport, timeout: configuration.handshakeTimeout, logger: logger)
        } catch {
            transport.closeOutput()
            transport.terminate()
            throw error
        }
    }

    private static func handshake(_ transport: any BridgeTransport, timeout: Duration, logger: Logger)
        throws(BridgeError) -> Pipe.Hello
    {
        let deadline = ContinuousClock.now + timeout
        guard let event = transport.receive(deadline: deadline) else {
            throw .timedOut("no HELLO from the shim within \(timeout)")
        }
        let frame: PipeFrame
        switch event {
        case .frame(let received): frame = received
        case .exited(let status): throw .shimExited(status)
        case .failed(let error): throw error
        }
        do {
            guard frame.type == .hello, frame.tag == 0 else {
                throw PipeProtocolError.unexpectedFrame(
                    type: frame.type, tag: frame.tag, why: "expected HELLO with tag 0")
            }
            let hello = try Pipe.Hello(decoding: frame.payload, frame: .hello)
            guard hello.magic == PipeProtocol.magic else { throw PipeProtocolError.badMagic(hello.magic) }
            guard hello.major == PipeProtocol.versionMajor else {
                throw PipeProtocolError.versionMismatch(peerMajor: hello.major, peerMinor: hello.minor)
            }
            try transport.send(PipeFrame(type: .helloAck, payload: try Pipe.HelloAck().encoded()))
            logger.debug(
                "handshake done",
                metadata: ["shimPid": "\(hello.processId)", "version": "\(hello.major).\(hello.minor)"])
            return hello
        } catch let error as PipeProtocolError {
            let text = Pipe.ReasonText(reason: error.reason, text: error.description)
            try? transport.send(PipeFrame(type: .protocolError, payload: (try? text.encoded()) ?? []))
            throw .protocolViolation(error)
        } catch let error as BridgeError {
            throw error
        } catch {
            throw .invalidArgument("\(error)")
        }
    }

    deinit {
        if case .closed = state { return }
        transport.closeOutput()
        transport.terminate()
    }

    // MARK: Requests

    /// The number of requests currently waiting on the call-loop thread (0 outside any call).
    public var nestingDepth: Int { depth }

    /// Sends a request and waits for its `REPLY`, serving events (and their nested calls) meanwhile.
    /// - Parameters:
    ///   - request: The request payload.
    ///   - timeout: A host-side bound on the wait; `nil` uses ``Configuration/replyTimeout``.
    /// - Returns: The decoded result of a `REPLY` with status OK.
    /// - Throws: ``BridgeError/requestFailed(request:status:lastError:message:)`` for any other status;
    ///   ``BridgeError/nestingLimitExceeded(limit:)``; ``BridgeError/timedOut(_:)``; the connection's terminal
    ///   error (``BridgeError/shimExited(_:)``, ``BridgeError/shimLeft(reason:message:)``,
    ///   ``BridgeError/protocolViolation(_:)``, …) when it ends while waiting; ``BridgeError/closed``.
    public func perform<Request: PipeRequest>(_ request: Request, timeout: Duration? = nil)
        throws(BridgeError) -> Request.Result
    {
        try finish(try start(request), timeout: timeout)
    }

    /// Sends a request without waiting for its `REPLY`, so that several independent requests cost one round
    /// trip: the shim answers them in order. Every started request must be passed to ``finish(_:timeout:)``
    /// (or ``abandon(_:)``).
    /// - Throws: ``BridgeError/nestingLimitExceeded(limit:)``, ``BridgeError/invalidArgument(_:)`` for a payload
    ///   that cannot be encoded, or the connection's terminal error.
    public func start<Request: PipeRequest>(_ request: Request) throws(BridgeError) -> PendingRequest<Request> {
        try checkUsable()
        guard depth < configuration.maxNestingDepth else {
            throw .nestingLimitExceeded(limit: configuration.maxNestingDepth)
        }
        let payload: [UInt8]
        do { payload = try request.encoded() } catch { throw .invalidArgument(error.description) }
        let tag = nextTag()
        waiting.insert(tag)
        do {
            try sendOrFail(PipeFrame(type: Request.frameType, tag: tag, payload: payload))
        } catch {
            waiting.remove(tag)
            throw error
        }
        return PendingRequest(tag: tag)
    }

    /// Waits for the `REPLY` of a started request, serving events (and their nested calls) meanwhile.
    /// - Returns: The decoded result of a `REPLY` with status OK.
    /// - Throws: As ``perform(_:timeout:)``.
    public func finish<Request: PipeRequest>(_ pending: PendingRequest<Request>, timeout: Duration? = nil)
        throws(BridgeError) -> Request.Result
    {
        let tag = pending.tag
        defer { waiting.remove(tag) }
        depth += 1
        defer { depth -= 1 }
        let limit = timeout ?? configuration.replyTimeout
        let reply = try waitForReply(tag: tag, type: Request.frameType, deadline: limit.map { .now + $0 })
        switch reply {
        case .ok(let bytes):
            do {
                return try Request.Result(decoding: bytes, frame: .reply)
            } catch {
                fail(.protocolViolation(error), tell: true)
                throw .protocolViolation(error)
            }
        case .failure(let status, let lastError, let message):
            throw .requestFailed(request: Request.frameType, status: status, lastError: lastError, message: message)
        }
    }

    /// Gives up on a started request: its `REPLY`, when it comes, is dropped.
    public func abandon<Request: PipeRequest>(_ pending: PendingRequest<Request>) {
        guard waiting.remove(pending.tag) != nil else { return }
        if arrived.removeValue(forKey: pending.tag) == nil { abandoned.insert(pending.tag) }
    }

    private func nextTag() -> UInt32 {
        repeat {
            lastTag &+= 1
        } while lastTag == 0 || waiting.contains(lastTag) || abandoned.contains(lastTag)
        return lastTag
    }

    private func waitForReply(tag: UInt32, type: FrameType, deadline: ContinuousClock.Instant?)
        throws(BridgeError) -> Pipe.Reply
    {
        while true {
            if let reply = arrived.removeValue(forKey: tag) { return reply }
            try checkUsable()
            guard let event = transport.receive(deadline: deadline) else {
                abandoned.insert(tag)
                throw .timedOut("no REPLY to \(type) (tag \(tag)) in time")
            }
            handle(event)
        }
    }

    private func checkUsable() throws(BridgeError) {
        switch state {
        case .open, .closing: return
        case .failed(let error): throw error
        case .closed: throw .closed
        }
    }

    // MARK: Serving events

    /// Serves events while nothing else is waiting: handlers run, posted messages are delivered.
    /// - Parameters:
    ///   - duration: Return after this long (`nil`: no limit).
    ///   - stop: Return soon after another thread raises this signal.
    ///   - condition: Checked after every event and at least every 20 ms; return when it is true.
    /// - Throws: The connection's terminal error when the shim exits, says goodbye, or breaks the protocol.
    public func serve(for duration: Duration? = nil, stop: StopSignal? = nil, until condition: () -> Bool = { false })
        throws(BridgeError)
    {
        let end = duration.map { ContinuousClock.now + $0 }
        while true {
            try checkUsable()
            if condition() || stop?.isStopped == true { return }
            let now = ContinuousClock.now
            if let end, now >= end { return }
            var wake = now + .milliseconds(20)
            if let end, end < wake { wake = end }
            if let event = transport.receive(deadline: wake) { handle(event) }
        }
    }

    private func handle(_ event: consuming TransportEvent) {
        switch consume event {
        case .exited(let status):
            logger.debug("the shim exited", metadata: ["status": "\(status)"])
            fail(.shimExited(status), tell: false)
        case .failed(let error):
            if case .protocolViolation = error { fail(error, tell: true) } else { fail(error, tell: false) }
        case .frame(let frame):
            do { try handle(frame) } catch { fail(.protocolViolation(error), tell: true) }
        }
    }

    private func handle(_ frame: consuming PipeFrame) throws(PipeProtocolError) {
        guard frame.flags == 0 else { throw .nonZeroFlags(type: frame.type, flags: frame.flags) }
        switch frame.type {
        case .reply:
            let reply = try Pipe.Reply(decoding: frame.payload, frame: .reply)
            if waiting.contains(frame.tag) {
                arrived[frame.tag] = reply
            } else if abandoned.remove(frame.tag) != nil {
                logger.debug("dropped a late REPLY", metadata: ["tag": "\(frame.tag)"])
            } else {
                throw .unexpectedFrame(type: frame.type, tag: frame.tag, why: "no request with this tag is waiting")
            }
        case .eventMessage:
            let message = try Pipe.MessageEvent(decoding: frame.payload, frame: frame.type)
            if message.kind == .posted {
                guard frame.tag == 0 else {
                    throw .unexpectedFrame(type: frame.type, tag: frame.tag, why: "a posted message must have tag 0")
                }
                deliverPosted(message)
            } else {
                guard frame.tag != 0 else {
                    throw .unexpectedFrame(type: frame.type, tag: 0, why: "a sent message needs a non-zero tag")
                }
                answer(tag: frame.tag, what: "message 0x\(String(message.message, radix: 16))") {
                    messageHandlers[MessageKey(hwnd: message.hwnd, message: message.message)].map { handler in
                        { try handler(self, message) }
                    }
                }
            }
        case .eventCopyData:
            guard frame.tag != 0 else {
                throw .unexpectedFrame(type: frame.type, tag: 0, why: "EV_COPYDATA needs a non-zero tag")
            }
            let tag = frame.tag
            // Moved out of the frame, so that the data keeps the payload's storage (no copy, no fresh memory).
            var owned = consume frame
            let payload = owned.payload
            owned.payload = []
            let copy = try Pipe.CopyDataEvent(taking: payload)
            answer(tag: tag, what: "WM_COPYDATA") {
                copyDataHandlers[copy.hwnd].map { handler in { try handler(self, copy) } }
            }
        case .eventCopyDataUploaded:
            guard frame.tag != 0 else {
                throw .unexpectedFrame(type: frame.type, tag: 0, why: "EV_COPYDATA_UPLOADED needs a non-zero tag")
            }
            let uploaded = try Pipe.CopyDataUploadedEvent(decoding: frame.payload, frame: frame.type)
            // The bytes go into a buffer kept from the last time (moved out, so it is ours alone unless a
            // handler kept its data): no fresh megabytes to fault in.
            var data = uploadBuffer
            uploadBuffer = []
            try transport.takeUpload(length: uploaded.length, into: &data)
            let copy = Pipe.CopyDataEvent(
                hwnd: uploaded.hwnd, sender: uploaded.sender, dwData: uploaded.dwData, data: data)
            data = []
            answer(tag: frame.tag, what: "WM_COPYDATA") {
                copyDataHandlers[copy.hwnd].map { handler in { try handler(self, copy) } }
            }
            // Back for the next one (by then `copy` is gone, so the buffer is ours alone again unless the handler
            // kept its `data`, which the next fill then leaves alone: copy on write).
            if copy.data.capacity <= ShimUpload.Layout.maxCapacity { uploadBuffer = copy.data }
        case .goodbye:
            let goodbye = try Pipe.ReasonText(decoding: frame.payload, frame: frame.type)
            logger.debug("the shim said goodbye", metadata: ["reason": "\(goodbye.reason)", "text": "\(goodbye.text)"])
            fail(.shimLeft(reason: goodbye.reason, message: goodbye.text), tell: false)
        case .protocolError:
            let report = try Pipe.ReasonText(decoding: frame.payload, frame: frame.type)
            logger.error(
                "the shim reported a protocol error",
                metadata: ["reason": "\(report.reason)", "text": "\(report.text)"])
            fail(.peerProtocolError(reason: report.reason, message: report.text), tell: false)
        default:
            guard frame.tag != 0 else {
                throw .unexpectedFrame(type: frame.type, tag: 0, why: "not a frame the shim may send to the host")
            }
            reply(
                tag: frame.tag,
                .failure(status: .unknownType, lastError: nil, message: "host does not serve \(frame.type)"))
        }
    }

    /// Runs the handler found by `lookup` (if any) and answers `tag` with its result or an error status. `what` names
    /// the event in errors only, so it is not built for a call that succeeds.
    private func answer(tag: UInt32, what: @autoclosure () -> String, lookup: () -> (() throws -> Int64)?) {
        if case .closing = state {
            reply(tag: tag, .failure(status: .shuttingDown, lastError: nil, message: "host is shutting down"))
            return
        }
        guard let handler = lookup() else {
            logger.debug("no handler", metadata: ["event": "\(what())"])
            reply(tag: tag, .failure(status: .notFound, lastError: nil, message: "no host handler for \(what())"))
            return
        }
        do {
            let lresult = try handler()
            reply(tag: tag, .ok(Pipe.LResult(lresult).bytes))
        } catch {
            logger.debug("handler failed", metadata: ["event": "\(what())", "error": "\(error)"])
            reply(tag: tag, .failure(status: .badRequest, lastError: nil, message: "host handler failed: \(error)"))
        }
    }

    private func deliverPosted(_ message: WindowMessage) {
        guard let handler = postedHandlers[message.hwnd] else {
            logger.debug("posted message without handler", metadata: ["msg": "\(message.message)"])
            return
        }
        do { try handler(self, message) } catch {
            logger.warning("posted-message handler failed", metadata: ["error": "\(error)"])
        }
    }

    private func reply(tag: UInt32, _ reply: Pipe.Reply) {
        switch state {
        case .failed, .closed: return
        case .open, .closing:
            do { try sendOrFail(PipeFrame(type: .reply, tag: tag, payload: reply.bytes)) } catch {}
        }
    }

    private func sendOrFail(_ frame: PipeFrame) throws(BridgeError) {
        do { try transport.send(frame) } catch {
            fail(error, tell: false)
            throw error
        }
    }

    /// Makes `error` the connection's terminal error (the first one wins). With `tell`, reports it to the shim
    /// with `PROTOCOL_ERROR` first. Closes the host → shim pipe so the shim leaves too.
    private func fail(_ error: BridgeError, tell: Bool) {
        switch state {
        case .failed, .closed: return
        case .open, .closing: break
        }
        state = .failed(error)
        if tell, case .protocolViolation(let violation) = error {
            logger.error("protocol violation", metadata: ["error": "\(violation)"])
            let text = Pipe.ReasonText(reason: violation.reason, text: violation.description)
            try? transport.send(PipeFrame(type: .protocolError, payload: (try? text.encoded()) ?? []))
        }
        transport.closeOutput()
    }

    // MARK: Handlers

    /// Registers the handler for a sent message to one of the shim's windows (replacing any earlier one).
    /// - Parameters:
    ///   - message: The message id; it must be in the window's relayed list.
    ///   - window: The window (one the shim created for this host).
    ///   - handler: Returns the `LRESULT`.
    public func onMessage(_ message: UInt32, to window: WindowHandle, handler: @escaping MessageHandler) {
        messageHandlers[MessageKey(hwnd: window, message: message)] = handler
    }

    /// Registers the handler for `WM_COPYDATA` sent to one of the shim's windows (which must relay 0x004A).
    /// - Parameters:
    ///   - window: The window.
    ///   - handler: Returns the `LRESULT`.
    public func onCopyData(to window: WindowHandle, handler: @escaping CopyDataHandler) {
        copyDataHandlers[window] = handler
    }

    /// Registers the handler for messages posted to one of the shim's windows.
    /// - Parameters:
    ///   - window: The window.
    ///   - handler: Receives each posted message.
    public func onPostedMessage(to window: WindowHandle, handler: @escaping PostedMessageHandler) {
        postedHandlers[window] = handler
    }

    /// Removes every handler of a window.
    /// - Parameter window: The window.
    public func removeHandlers(for window: WindowHandle) {
        messageHandlers = messageHandlers.filter { $0.key.hwnd != window }
        copyDataHandlers[window] = nil
        postedHandlers[window] = nil
    }

    // MARK: Shutdown

    /// The terminal error, if the connection has failed (the shim exited, left, or broke the protocol).
    public var failure: BridgeError? {
        if case .failed(let error) = state { return error }
        return nil
    }

    /// Ends the session: sends `GOODBYE`, answers any late event with `SHUTTING_DOWN`, waits for the shim to
    /// exit, and kills it if it has not within the timeout. Safe to call more than once and after a failure.
    /// - Parameter timeout: How long the shim has to exit (``Configuration/shutdownTimeout`` by default).
    /// - Returns: How the shim ended, when known.
    @discardableResult
    public func shutdown(timeout: Duration? = nil) -> ProcessExitStatus? {
        var exit: ProcessExitStatus?
        if case .closed = state { return nil }
        if case .failed(.shimExited(let status)) = state { exit = status }
        if case .open = state {
            state = .closing
            let goodbye = Pipe.ReasonText(reason: .none, text: "host shutting down")
            try? transport.send(PipeFrame(type: .goodbye, payload: goodbye.bytes))
        }
        let deadline = ContinuousClock.now + (timeout ?? configuration.shutdownTimeout)
        var killed = false
        while exit == nil {
            guard let event = transport.receive(deadline: killed ? .now + .seconds(5) : deadline) else {
                if killed { break }
                logger.warning("the shim did not exit in time; killing it")
                transport.closeOutput()
                transport.terminate()
                killed = true
                continue
            }
            switch event {
            case .exited(let status): exit = status
            case .failed: transport.closeOutput()
            case .frame(let frame):
                if frame.tag != 0, frame.type == .eventMessage || frame.type == .eventCopyData {
                    let refusal = Pipe.Reply.failure(
                        status: .shuttingDown, lastError: nil, message: "host is shutting down")
                    try? transport.send(PipeFrame(type: .reply, tag: frame.tag, payload: refusal.bytes))
                }
            }
        }
        transport.closeOutput()
        state = .closed
        return exit
    }
}
