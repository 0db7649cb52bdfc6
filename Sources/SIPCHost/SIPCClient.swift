import Logging
import SIPC

/// The Swift host as a SIPC client of a Windows SIPC server (SOUI's `SIpcHandle::ConnectTo`):
/// finds the server by title, connects, calls it, and serves the calls it makes back.
///
/// The server created the mappings (backed by the paging file, which Linux cannot map), so the
/// shim opens them and the host works on local copies, moving the frame bytes through the shim
/// around each call: one `CALL_MAPPED` per call to the server; for a call from the server, the
/// header and slot are pulled with two pipelined `READ_MAPPING`s (one round trip) and pushed back
/// with two pipelined `WRITE_MAPPING`s before the answer. All methods run on the bridge's
/// call-loop thread.
public final class SIPCClient {
    /// The bridge it runs on.
    public let bridge: BridgeConnection
    /// The connection: call ``SIPCPeer/call(_:_:timeout:)`` on it.
    public let peer: SIPCPeer
    /// The server's main window.
    public let serverWindow: WindowHandle
    /// The functions the server may call back; handlers get the ``SIPCPeer``.
    public var router: SIPCRouter<SIPCPeer>
    /// Set when the server told us it went away (S4's posted 101) or its window died during a call.
    public private(set) var serverGone = false
    let logger: Logger

    /// Connects to the server whose main window has `profile.serverTitle`.
    /// - Parameters:
    ///   - bridge: The bridge to the shim.
    ///   - profile: Wire settings; they must match the server's.
    ///   - router: The functions the server may call on us.
    ///   - connectTimeout: How long the server has to answer the connect. SOUI's own client gives it 100 ms;
    ///     the default here is more patient, because a busy machine can take longer and an abandoned connect
    ///     leaves the server holding a connection it believes in (spec §10, item 8).
    ///   - logger: Where to log.
    /// - Throws: ``BridgeError`` when the server is not found, refuses, or its buffers cannot be opened.
    public init(
        bridge: BridgeConnection, profile: SIPCProfile, router: SIPCRouter<SIPCPeer>,
        connectTimeout: Duration = .seconds(1),
        logger: Logger = Logger(label: "sipb.sipc", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(BridgeError) {
        self.bridge = bridge
        self.router = router
        self.logger = logger
        guard let server = try bridge.findWindow(title: profile.serverTitle), server != .null else {
            throw .invalidArgument("no SIPC server window titled \(profile.serverTitle)")
        }
        serverWindow = server
        let local = try bridge.createWindow(
            kind: .messageOnly, className: "sipb_sipc_client", title: "sipb_sipc_client",
            relaying: [SIPCConstants.callMessage]
        ).hwnd
        var handles: [ShimHandle] = []
        do {
            let answer = try bridge.sendMessage(
                to: server, message: SIPCConstants.callMessage, wParam: UInt64(SIPCConstants.connectFunctionID),
                lParam: local.rawValue, timeout: connectTimeout)
            guard answer.delivered, answer.lresult != 0 else {
                throw BridgeError.invalidArgument("the server refused the connection")
            }
            let remote: WindowHandle
            switch profile.wireVersion {
            case .v2: remote = WindowHandle(rawValue: UInt64(bitPattern: answer.lresult))
            case .v1:
                guard answer.lresult == 1 else {
                    throw BridgeError.invalidArgument("a v1 server answers 1, got \(answer.lresult)")
                }
                remote = server
            }
            guard try bridge.isWindow(remote) else {
                throw BridgeError.invalidArgument("the server answered a dead window")
            }
            func open(writer: WindowHandle, reader: WindowHandle) throws -> MappingMirror {
                let name = try profile.bufferName(writer: writer.rawValue, reader: reader.rawValue)
                let (handle, size) = try bridge.openMapping(name: name)
                handles.append(handle)
                // SOUI's v2 client opens the `_mutex` event too, and fails when it is missing (v1 has none).
                if profile.wireVersion == .v2 {
                    handles.append(
                        try bridge.openEvent(name: SIPCProfile.eventName(forBuffer: name), desiredAccess: 0x0010_0000))
                }
                return try MappingMirror(bridge: bridge, handle: handle, mappingSize: Int(size))
            }
            let send = try open(writer: local, reader: remote)
            let receive = try open(writer: remote, reader: local)
            let owner = try bridge.windowThreadProcessId(server)
            peer = SIPCPeer(
                bridge: bridge, localWindow: local, remoteWindow: remote, processId: owner?.processId ?? 0,
                executablePath: (try? bridge.processImagePath(processId: owner?.processId ?? 0)) ?? "",
                profile: profile,
                sendBuffer: send.buffer, receiveBuffer: receive.buffer, ownsLocalWindow: true)
            peer.sendMirror = send
            peer.receiveMirror = receive
            peer.shimHandles = handles
        } catch {
            for handle in handles { try? bridge.closeHandle(handle) }
            try? bridge.destroyWindow(local)
            if let error = error as? BridgeError { throw error }
            throw .invalidArgument("\(error)")
        }
        bridge.onMessage(SIPCConstants.callMessage, to: local) { [unowned self] _, message in
            self.incoming(message)
        }
        bridge.onPostedMessage(to: local) { [unowned self] _, message in
            if message.message == SIPCConstants.callMessage,
                message.wParam == UInt64(SIPCConstants.disconnectFunctionID)
            {
                self.serverGone = true
            }
        }
        logger.info("connected", metadata: ["server": "\(server)", "connection": "\(peer.remoteWindow)"])
    }

    private func incoming(_ message: WindowMessage) -> Int64 {
        guard peer.isOpen, let mirror = peer.receiveMirror else { return 0 }
        if message.lParam != peer.remoteWindow.rawValue {
            logger.warning("call refused: lParam is not the server's window", metadata: ["lParam": "\(message.lParam)"])
            return 0
        }
        let layout = peer.profile.layout
        do {
            switch peer.profile.wireVersion {
            case .v2:
                guard message.wParam < UInt64(layout.stackSize) else { return 0 }
                let range = try layout.range(ofSlot: Int(message.wParam), capacity: mirror.buffer.capacity)
                // Header and slot: two READ_MAPPINGs in flight at once, then (if handled) two WRITE_MAPPINGs.
                try mirror.pull(from: range.lowerBound, to: range.upperBound)
                let outcome = router.dispatchV2(
                    slot: Int(message.wParam), layout: layout, buffer: mirror.buffer, context: peer)
                if outcome == .handled { try mirror.push(from: range.lowerBound, to: range.upperBound) }
                return Int64(outcome.lresult)
            case .v1:
                guard let id = UInt32(exactly: message.wParam) else { return 0 }
                try mirror.pull(from: 0, to: mirror.buffer.capacity)
                let outcome = router.dispatchV1(functionID: id, buffer: mirror.buffer, context: peer)
                if outcome == .handled { try mirror.push(from: 0, to: mirror.buffer.capacity) }
                return Int64(outcome.lresult)
            }
        } catch {
            logger.warning("incoming call failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    /// Posts the disconnect to the server's main window (as SOUI3 and sinstar3 do) and releases the
    /// buffers and the window. Safe to call twice.
    public func disconnect() {
        guard peer.isOpen else { return }
        if !serverGone {
            try? bridge.postMessage(
                to: serverWindow, message: SIPCConstants.callMessage,
                wParam: UInt64(SIPCConstants.disconnectFunctionID),
                lParam: peer.localWindow.rawValue)
        }
        peer.release()
    }
}
