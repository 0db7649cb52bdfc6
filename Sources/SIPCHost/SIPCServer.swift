import Foundation
import Logging
import SIPC

/// Why an outgoing SIPC call did not produce outputs.
public enum SIPCCallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The frame could not be written or the outputs could not be read.
    case wire(SIPCError)
    /// The bridge failed (the shim exited, a timeout, a protocol error).
    case bridge(BridgeError)
    /// The peer answered 0: no handler for this id, or its handler failed.
    case notHandled(functionID: UInt32)
    /// The peer's window is gone.
    case peerGone
    /// The connection was closed on this side.
    case closed
    /// The peer did not answer within the call's timeout. Its late answer, if one ever comes, is ignored; the
    /// slot the call used is not used again on this connection (the peer may still write into it).
    case timedOut(functionID: UInt32, after: Duration)

    public var description: String {
        switch self {
        case .wire(let error): "SIPC wire error: \(error)"
        case .bridge(let error): "bridge error: \(error)"
        case .notHandled(let id): "the peer did not handle function \(id)"
        case .peerGone: "the peer's window is gone"
        case .closed: "the connection is closed"
        case .timedOut(let id, let after): "the peer did not answer function \(id) within \(after)"
        }
    }
}

/// One SIPC connection as seen from the Swift host: two shared buffers, this side's window and the
/// peer's, and the state of this side's outgoing calls.
///
/// Handlers receive it as their context so that they can call back into the peer (nested calls).
public final class SIPCPeer {
    /// The window the peer calls (server side: the per-connection window; v1: the server main window).
    public let localWindow: WindowHandle
    /// The peer's window.
    public let remoteWindow: WindowHandle
    /// The peer's process id, and its executable when it could be read.
    public let processId: UInt32
    /// The peer's executable path (empty when it could not be read, or not read yet: a server reads it
    /// just after the connect has been answered).
    public internal(set) var executablePath: String
    /// The frame format and slot layout.
    public let profile: SIPCProfile
    /// This side's send buffer (written by us, read by the peer).
    public let sendBuffer: SharedBuffer
    /// This side's receive buffer.
    public let receiveBuffer: SharedBuffer

    unowned let bridge: BridgeConnection
    var callState: CallStackState
    /// Set when the peer created the mappings (pagefile-backed, out of our reach): the buffers above
    /// are local copies, synchronised through the shim around every call.
    var sendMirror: MappingMirror?
    var receiveMirror: MappingMirror?
    /// With a ``sendMirror``: true makes each call one `CALL_MAPPED`; false makes it `WRITE_MAPPING`,
    /// `SEND_MESSAGE`, `READ_MAPPING` (three round trips; kept to measure against, and for a shim without
    /// `CALL_MAPPED`).
    var mirrorsInOneRoundTrip = true
    var resources: [SharedFileMapping] = []
    var shimHandles: [ShimHandle] = []
    var ownsLocalWindow: Bool
    /// Whether the connection is still open.
    public private(set) var isOpen = true
    /// v2 slots whose call timed out: the peer may still write its late answer there, so they stay unused.
    public private(set) var quarantinedSlots: Set<Int> = []
    /// When set, every outgoing frame is logged here.
    var traceLogger: Logger?

    /// Logs a v2 call after it was served: slot, sequence number, function, outcome, and the bytes of the
    /// frame and its answer.
    func trace(incomingSlot slot: Int, outcome: DispatchOutcome, names: (UInt32) -> String?, logger: Logger) {
        guard let range = try? profile.layout.range(ofSlot: slot, capacity: receiveBuffer.capacity),
            let end = try? receiveBuffer.header().cursor, end >= range.lowerBound, end <= range.upperBound,
            var reader = try? receiveBuffer.reader(from: range.lowerBound, limit: end),
            let sequence = try? reader.readInteger(as: Int32.self), let id = try? reader.readInteger(as: UInt32.self)
        else {
            logger.info("frame in", metadata: ["slot": "\(slot)", "outcome": "\(outcome)"])
            return
        }
        logger.info(
            "frame in",
            metadata: [
                "slot": "\(slot)", "seq": "\(sequence)", "function": "\(id) \(names(id) ?? "?")",
                "outcome": "\(outcome)",
                "bytes": "\(Self.hex(receiveBuffer, range.lowerBound..<end))",
            ])
    }

    static func hex(_ buffer: SharedBuffer, _ range: Range<Int>) -> String {
        range.map { offset in
            let byte = buffer.data.load(fromByteOffset: offset, as: UInt8.self)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
    /// The deepest nesting of this side's own v1 calls (Wine stops calling window procedures past 64).
    public static let maximumV1Depth = 64

    init(
        bridge: BridgeConnection, localWindow: WindowHandle, remoteWindow: WindowHandle, processId: UInt32,
        executablePath: String, profile: SIPCProfile, sendBuffer: SharedBuffer, receiveBuffer: SharedBuffer,
        ownsLocalWindow: Bool
    ) {
        self.bridge = bridge
        self.localWindow = localWindow
        self.remoteWindow = remoteWindow
        self.processId = processId
        self.executablePath = executablePath
        self.profile = profile
        self.sendBuffer = sendBuffer
        self.receiveBuffer = receiveBuffer
        self.ownsLocalWindow = ownsLocalWindow
        // v1 has no slots: frames stack in one buffer, so only the buffer's capacity and Wine's nesting
        // limit (64 window procedures per thread) bound the depth.
        callState = CallStackState(
            version: profile.wireVersion,
            stackSize: profile.wireVersion == .v2 ? profile.layout.stackSize : SIPCPeer.maximumV1Depth)
    }

    /// Calls `function` in the peer and returns its outputs. While waiting, calls from the peer (and
    /// any other event) are served on this thread, so calls nest both ways.
    /// - Parameters:
    ///   - function: The descriptor.
    ///   - inputs: The input values.
    ///   - timeout: How long to wait for the peer (nil: as long as its window lives).
    /// - Throws: ``SIPCCallError``.
    public func call<Inputs, Outputs>(
        _ function: IPCFunction<Inputs, Outputs>, _ inputs: Inputs, timeout: Duration? = nil
    ) throws(SIPCCallError) -> Outputs {
        guard isOpen else { throw .closed }
        var slot: Int
        var sequence: Int32
        var claimed = 0
        defer { for _ in 0..<claimed { callState.leave() } }
        do {
            (slot, sequence) = try callState.enter()
            claimed += 1
            // A quarantined slot is skipped (claimed, not written): the slot index is all the peer looks at.
            while quarantinedSlots.contains(slot) {
                (slot, sequence) = try callState.enter()
                claimed += 1
            }
        } catch {
            throw .wire(error)
        }
        let pending: PendingCall
        do {
            switch profile.wireVersion {
            case .v2:
                pending = try FrameV2.writeCall(
                    function, inputs, sequence: sequence, slot: slot, layout: profile.layout, buffer: sendBuffer)
            case .v1:
                pending = try FrameV1.writeCall(function, inputs, sequence: sequence, buffer: sendBuffer)
            }
        } catch {
            throw .wire(error)
        }
        traceLogger?.info(
            "frame out",
            metadata: [
                "slot": "\(slot)", "seq": "\(sequence)", "function": "\(function.id) \(function.name)",
                "bytes": "\(Self.hex(sendBuffer, pending.frameStart..<pending.outputsAt))",
            ])
        let wParam = profile.wireVersion == .v2 ? UInt64(slot) : UInt64(function.id)
        let outcome: SendOutcome
        do {
            if let sendMirror, mirrorsInOneRoundTrip {
                // One round trip: frame in, message, outputs (and the header with the peer's cursor) out.
                outcome = try sendMirror.call(
                    pushing: pending.frameStart..<pending.outputsAt, pulling: pending.outputsAt..<pending.outputsLimit,
                    to: remoteWindow, message: SIPCConstants.callMessage, wParam: wParam, lParam: localWindow.rawValue,
                    timeout: timeout)
            } else {
                try sendMirror?.push(from: pending.frameStart, to: pending.outputsAt)
                outcome = try bridge.sendMessage(
                    to: remoteWindow, message: SIPCConstants.callMessage, wParam: wParam, lParam: localWindow.rawValue,
                    timeout: timeout)
            }
        } catch {
            if Self.isTimeout(error), let timeout {
                // The peer may still answer into this frame: v2 leaves its slot alone from now on, v1 leaves
                // the frame on the buffer's stack (the next outer call's pop reclaims it).
                if profile.wireVersion == .v2 { quarantinedSlots.insert(slot) }
                throw .timedOut(functionID: function.id, after: timeout)
            }
            if profile.wireVersion == .v1 { try? FrameV1.pop(pending, buffer: sendBuffer) }
            throw .bridge(error)
        }
        guard outcome.delivered else {
            if profile.wireVersion == .v1 { try? FrameV1.pop(pending, buffer: sendBuffer) }
            throw .peerGone
        }
        guard outcome.lresult != 0 else {
            if profile.wireVersion == .v1 { try? FrameV1.pop(pending, buffer: sendBuffer) }
            throw .notHandled(functionID: function.id)
        }
        if let sendMirror, !mirrorsInOneRoundTrip {
            do { try sendMirror.pull(from: pending.outputsAt, to: pending.outputsLimit) } catch { throw .bridge(error) }
        }
        do {
            switch profile.wireVersion {
            case .v2: return try FrameV2.readOutputs(function, of: pending, buffer: sendBuffer)
            case .v1: return try FrameV1.readOutputs(function, of: pending, buffer: sendBuffer)
            }
        } catch {
            throw .wire(error)
        }
    }

    static func isTimeout(_ error: BridgeError) -> Bool {
        switch error {
        case .timedOut: true
        case .requestFailed(_, let status, _, _): status == .timeout
        default: false
        }
    }

    /// Releases the buffers (unmapping and removing their /dev/shm files), the shim's handles and, on the
    /// server side, the connection window. Safe to call twice.
    func release() {
        guard isOpen else { return }
        isOpen = false
        if ownsLocalWindow { try? bridge.destroyWindow(localWindow) }
        for handle in shimHandles { try? bridge.closeHandle(handle) }
        for mapping in resources { mapping.close(unlink: true) }
        shimHandles = []
        resources = []
    }
}

/// A SIPC server run by the Swift host: a window Windows clients find by title, wire-compatible with
/// SOUI's `SIpcServer` (v2: a per-connection window and two mappings with their `_mutex` events; v1:
/// the main window serves everyone).
///
/// The mappings are created by the shim over files in /dev/shm and mapped by this process too, so the
/// frames are read and written here directly; the pipe carries only the message and its answer.
///
/// All methods run on the bridge's call-loop thread (see ``BridgeConnection``).
public final class SIPCServer {
    /// Settings beyond the profile.
    public struct Configuration: Sendable {
        /// The wire settings and the title.
        public var profile: SIPCProfile
        /// Message-only (headless) or an invisible top-level main window (needs a display).
        public var windowKind: WindowKind = .messageOnly
        /// The main window's class name.
        public var className = "sipb_sipc_server"
        /// The per-connection windows' title (sinstar3 uses `svr_conn_wnd`).
        public var connectionTitle = "svr_conn_wnd"
        /// Refuse calls, and disconnects posted to a connection window, whose `lParam` is not the connected
        /// client's window (SOUI does not check).
        public var checkCallerWindow = true
        /// Log every frame (both directions) at `info`, bytes in hex.
        public var trace = false
        /// Opt-in client authentication: when set, a connect is answered only for a client window whose
        /// process runs one of these executables. An entry with a backslash is a full Windows path (as Wine
        /// reports it, e.g. `C:\\Program Files\\App\\app.exe`); one without is a file name (`app.exe`).
        /// Both compare case-insensitively, as Windows does. Costs two more shim round trips per connect.
        /// See docs/RELIABILITY.md for what this does and does not protect against.
        public var allowedExecutables: [String]? = nil
        /// Creates a configuration for a profile.
        public init(profile: SIPCProfile) { self.profile = profile }
    }

    /// The bridge it runs on.
    public let bridge: BridgeConnection
    /// Its settings.
    public let configuration: Configuration
    /// The window clients connect to.
    public let mainWindow: BridgeWindow
    /// The functions clients may call; handlers get the calling ``SIPCPeer``.
    public var router: SIPCRouter<SIPCPeer>
    /// Called inside the connect request, before the client has its answer: do not call the client here.
    public var onConnect: ((SIPCPeer) -> Void)?
    /// Called from ``serve(until:)`` soon after a connect has been answered: the client is ready for calls
    /// (the ipcdemo server says hello here).
    public var onReady: ((SIPCPeer) -> Void)?
    private var readyQueue: [SIPCPeer] = []
    /// Called after a client disconnected or was found dead.
    public var onDisconnect: ((SIPCPeer) -> Void)?
    /// The connected clients by their window.
    public private(set) var peers: [WindowHandle: SIPCPeer] = [:]
    let logger: Logger
    private var nextFileID = 0

    /// Creates the main window and starts answering connects.
    /// - Throws: ``BridgeError`` if the window cannot be created.
    public init(
        bridge: BridgeConnection, configuration: Configuration, router: SIPCRouter<SIPCPeer>,
        logger: Logger = Logger(label: "sipb.sipc", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(BridgeError) {
        self.bridge = bridge
        self.configuration = configuration
        self.router = router
        self.logger = logger
        let stale = SharedFileMapping.removeStaleServerFiles()
        if !stale.isEmpty {
            logger.notice("removed buffers left by SIPC servers that are gone", metadata: ["files": "\(stale)"])
        }
        mainWindow = try bridge.createWindow(
            kind: configuration.windowKind, className: configuration.className,
            title: configuration.profile.serverTitle, relaying: [SIPCConstants.callMessage])
        bridge.onMessage(SIPCConstants.callMessage, to: mainWindow.hwnd) { [unowned self] _, message in
            self.mainWindowMessage(message)
        }
        bridge.onPostedMessage(to: mainWindow.hwnd) { [unowned self] _, message in
            self.posted(message)
        }
    }

    /// Notices clients whose window died (SOUI's `CheckConnectivity`); call it every 50 ms or so.
    ///
    /// Only a window the shim says is gone drops its client. When the bridge itself fails (the shim died), the
    /// check stops and every client is kept: they are not known to be dead, and whoever restarts the shim (as
    /// ``SIPCSupervisor`` does) asks exactly these to reconnect.
    public func checkConnectivity() {
        for (client, peer) in peers {
            let alive: Bool
            do { alive = try bridge.isWindow(client) } catch {
                logger.debug("connectivity check stopped", metadata: ["error": "\(error)"])
                return
            }
            guard !alive else { continue }
            logger.info("client window gone", metadata: ["client": "\(client)"])
            drop(peer)
        }
    }

    /// Serves until `condition` holds or the bridge fails, checking connectivity every 50 ms.
    public func serve(until condition: () -> Bool = { false }) throws(BridgeError) {
        var lastCheck = ContinuousClock.now
        while !condition() {
            try bridge.serve(for: .milliseconds(50), until: { !readyQueue.isEmpty || condition() })
            while !readyQueue.isEmpty {
                let peer = readyQueue.removeFirst()
                guard peer.isOpen else { continue }
                // Looked up now, not inside the connect: only the log needs it.
                peer.executablePath = (try? bridge.processImagePath(processId: peer.processId)) ?? ""
                logger.info(
                    "client connected",
                    metadata: [
                        "client": "\(peer.remoteWindow)", "connection": "\(peer.localWindow)",
                        "pid": "\(peer.processId)",
                        "exe": "\(peer.executablePath)",
                    ])
                onReady?(peer)
            }
            if ContinuousClock.now - lastCheck >= .milliseconds(50) {
                checkConnectivity()
                lastCheck = ContinuousClock.now
            }
        }
    }

    /// Disconnects every client and destroys the main window.
    public func close() {
        for peer in peers.values { drop(peer) }
        try? bridge.destroyWindow(mainWindow.hwnd)
    }

    // MARK: - Messages

    private func mainWindowMessage(_ message: WindowMessage) -> Int64 {
        let client = WindowHandle(rawValue: message.lParam)
        switch message.wParam {
        case UInt64(SIPCConstants.connectFunctionID):
            return connect(client)
        case UInt64(SIPCConstants.disconnectFunctionID):
            return disconnect(client) ? 1 : 0
        default:
            // v1 calls come to the main window with wParam = function id; v2 servers answer 0 (as S3).
            guard configuration.profile.wireVersion == .v1, let peer = peers[client] else {
                logger.notice(
                    "call on the main window refused", metadata: ["wParam": "\(message.wParam)", "lParam": "\(client)"])
                return 0
            }
            guard let id = UInt32(exactly: message.wParam) else {
                logger.notice(
                    "call refused: wParam is not a function id",
                    metadata: ["wParam": "\(message.wParam)", "lParam": "\(client)"])
                return 0
            }
            let outcome = router.dispatchV1(functionID: id, buffer: peer.receiveBuffer, context: peer)
            if configuration.trace {
                logger.info("frame in (v1)", metadata: ["id": "\(id)", "outcome": "\(outcome)"])
            }
            return finish(outcome, peer: peer)
        }
    }

    private func posted(_ message: WindowMessage) {
        guard message.message == SIPCConstants.callMessage else { return }
        if message.wParam == UInt64(SIPCConstants.disconnectFunctionID) {
            _ = disconnect(WindowHandle(rawValue: message.lParam))
        }
    }

    private func finish(_ outcome: DispatchOutcome, peer: SIPCPeer) -> Int64 {
        switch outcome {
        case .handled: break
        case .unknownFunction(let id):
            logger.notice("unknown function", metadata: ["id": "\(id)", "client": "\(peer.remoteWindow)"])
        case .malformed(let error):
            logger.warning("malformed call refused", metadata: ["error": "\(error)", "client": "\(peer.remoteWindow)"])
        case .handlerFailed(let id, let description):
            logger.warning("handler failed", metadata: ["id": "\(id)", "error": "\(description)"])
        }
        return Int64(outcome.lresult)
    }

    // MARK: - Connections

    private func connect(_ client: WindowHandle) -> Int64 {
        // Our own windows are refused too: the main window (as SOUI) and every connection window.
        guard client != mainWindow.hwnd, peers[client] == nil,
            !peers.values.contains(where: { $0.localWindow == client })
        else {
            logger.notice("connect refused: already connected or our own window", metadata: ["client": "\(client)"])
            return 0
        }
        if let allowed = configuration.allowedExecutables {
            let image: String
            do {
                guard let owner = try bridge.windowThreadProcessId(client), owner.processId != 0 else {
                    logger.warning("connect refused: no such window", metadata: ["client": "\(client)"])
                    return 0
                }
                image = try bridge.processImagePath(processId: owner.processId)
            } catch {
                logger.warning(
                    "connect refused: the client's executable cannot be read",
                    metadata: ["client": "\(client)", "error": "\(error)"])
                return 0
            }
            guard Self.executable(image, isIn: allowed) else {
                logger.warning(
                    "connect refused: executable not allowed", metadata: ["client": "\(client)", "exe": "\(image)"])
                return 0
            }
        }
        do {
            let peer = try makePeer(for: client)
            peers[client] = peer
            onConnect?(peer)
            readyQueue.append(peer)
            return configuration.profile.wireVersion == .v2 ? Int64(bitPattern: peer.localWindow.rawValue) : 1
        } catch {
            logger.error("connect failed", metadata: ["client": "\(client)", "error": "\(error)"])
            return 0
        }
    }

    /// Whether a Windows image path matches an allow-list entry (full path, or file name; case-insensitive).
    static func executable(_ image: String, isIn allowed: [String]) -> Bool {
        let path = image.lowercased()
        let name = path.split(separator: "\\").last.map(String.init) ?? path
        return allowed.contains { entry in
            let entry = entry.lowercased()
            return entry.contains("\\") ? entry == path : entry == name
        }
    }

    @discardableResult
    private func disconnect(_ client: WindowHandle) -> Bool {
        guard let peer = peers[client] else { return false }
        logger.info("client disconnected", metadata: ["client": "\(client)"])
        drop(peer)
        return true
    }

    private func drop(_ peer: SIPCPeer) {
        peers[peer.remoteWindow] = nil
        peer.release()
        onDisconnect?(peer)
    }

    /// Everything a connection needs, in two round trips to the shim (SOUI's client gives us 100 ms, and a
    /// round trip can take several milliseconds on a busy machine): first the peer's owner and our
    /// connection window, then both mappings with their `_mutex` events.
    private func makePeer(for client: WindowHandle) throws -> SIPCPeer {
        let profile = configuration.profile
        var local = mainWindow.hwnd
        var ownsWindow = false
        var handles: [ShimHandle] = []
        var mappings: [SharedFileMapping] = []
        var files: [String] = []
        do {
            let ownerRequest = try bridge.start(Pipe.GetWindowThreadProcessId(hwnd: client))
            var windowRequest: PendingRequest<Pipe.CreateWindow>?
            if profile.wireVersion == .v2 {
                do {
                    windowRequest = try bridge.start(
                        Pipe.CreateWindow(
                            kind: .messageOnly, messages: [SIPCConstants.callMessage],
                            className: configuration.className + "_conn", title: configuration.connectionTitle))
                } catch {
                    bridge.abandon(ownerRequest)
                    throw error
                }
            }
            let owner = Result { () throws(BridgeError) in try bridge.finish(ownerRequest) }
            if let windowRequest {
                local = try bridge.finish(windowRequest).hwnd
                ownsWindow = true
            }
            let processId = try owner.get().processId
            guard processId != 0 else { throw SIPCCallError.peerGone }

            // Both buffers: names first, then four requests in flight at once.
            let size = profile.layout.capacity + SIPCConstants.sharedHeaderSize
            var plans: [(name: String, file: String)] = []
            for (writer, reader) in [(local, client), (client, local)] {
                let name = try profile.bufferName(writer: writer.rawValue, reader: reader.rawValue)
                nextFileID += 1
                plans.append((name, SharedFileMapping.serverFilePrefix(pid: getpid()) + "\(nextFileID)-" + name))
                files.append(plans.last!.file)
            }
            var mappingRequests: [PendingRequest<Pipe.CreateMapping>] = []
            var eventRequests: [PendingRequest<Pipe.CreateEvent>] = []
            for plan in plans {
                mappingRequests.append(
                    try bridge.start(
                        Pipe.CreateMapping(size: UInt32(size), flags: .devShm, name: plan.name, file: plan.file)))
                eventRequests.append(
                    try bridge.start(
                        Pipe.CreateEvent(
                            manualReset: false, initialState: true, name: SIPCProfile.eventName(forBuffer: plan.name))))
            }
            // Collect every answer (keeping what was created, to release it on failure), then judge.
            var failure: (any Error)?
            for (index, request) in mappingRequests.enumerated() {
                do {
                    let created = try bridge.finish(request)
                    handles.append(created.handle)
                    if created.alreadyExisted, failure == nil {
                        failure = BridgeError.invalidArgument(
                            "mapping name \(plans[index].name) is already taken by another process")
                    }
                } catch {
                    if failure == nil { failure = error }
                }
                do {
                    let created = try bridge.finish(eventRequests[index])
                    handles.append(created.handle)
                    if created.alreadyExisted, failure == nil {
                        failure = BridgeError.invalidArgument(
                            "event name \(SIPCProfile.eventName(forBuffer: plans[index].name)) is already taken by "
                                + "another process")
                    }
                } catch {
                    if failure == nil { failure = error }
                }
            }
            if let failure { throw failure }
            var buffers: [SharedBuffer] = []
            for plan in plans {
                let mapping = try SharedFileMapping(file: plan.file, size: size)
                mappings.append(mapping)
                buffers.append(
                    try SharedBuffer.create(
                        base: mapping.pointer, mappingSize: mapping.size, capacity: profile.layout.capacity))
            }
            let peer = SIPCPeer(
                bridge: bridge, localWindow: local, remoteWindow: client, processId: processId, executablePath: "",
                profile: profile, sendBuffer: buffers[0], receiveBuffer: buffers[1], ownsLocalWindow: ownsWindow)
            peer.resources = mappings
            peer.shimHandles = handles
            if configuration.trace { peer.traceLogger = logger }
            if ownsWindow {
                bridge.onMessage(SIPCConstants.callMessage, to: local) { [unowned self, unowned peer] _, message in
                    self.connectionCall(message, peer: peer)
                }
                bridge.onPostedMessage(to: local) { [unowned self] _, message in
                    // S4 clients post 101 to the connection window, with their own window as lParam.
                    guard message.message == SIPCConstants.callMessage,
                        message.wParam == UInt64(SIPCConstants.disconnectFunctionID)
                    else { return }
                    if self.configuration.checkCallerWindow, message.lParam != client.rawValue {
                        self.logger.warning(
                            "disconnect refused: lParam is not the connected client",
                            metadata: ["lParam": "0x\(String(message.lParam, radix: 16))", "client": "\(client)"])
                        return
                    }
                    _ = self.disconnect(client)
                }
            }
            return peer
        } catch {
            if ownsWindow { try? bridge.destroyWindow(local) }
            for handle in handles { try? bridge.closeHandle(handle) }
            for mapping in mappings { mapping.close(unlink: true) }
            for file in files { _ = unlink("/dev/shm/" + file) }
            throw error
        }
    }

    private func connectionCall(_ message: WindowMessage, peer: SIPCPeer) -> Int64 {
        guard peer.isOpen else { return 0 }
        if configuration.checkCallerWindow, message.lParam != peer.remoteWindow.rawValue {
            logger.warning(
                "call refused: lParam is not the connected client",
                metadata: ["lParam": "0x\(String(message.lParam, radix: 16))", "client": "\(peer.remoteWindow)"])
            return 0
        }
        guard message.wParam < UInt64(peer.profile.layout.stackSize) else {
            logger.warning("call refused: slot past the stack", metadata: ["wParam": "\(message.wParam)"])
            return 0
        }
        let outcome = router.dispatchV2(
            slot: Int(message.wParam), layout: peer.profile.layout, buffer: peer.receiveBuffer, context: peer)
        if configuration.trace {
            peer.trace(
                incomingSlot: Int(message.wParam), outcome: outcome, names: { [router] in router.name(of: $0) },
                logger: logger)
        }
        return finish(outcome, peer: peer)
    }
}
