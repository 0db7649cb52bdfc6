import Foundation
import Logging

/// A window the shim created for the host.
public struct BridgeWindow: Hashable, Sendable {
    /// The window handle, valid for every process on the same wineserver.
    public let hwnd: WindowHandle
    /// Message-only or top-level.
    public let kind: WindowKind
    /// The class name.
    public let className: String
    /// The title.
    public let title: String
    /// The messages it relays to the host.
    public let relayedMessages: [UInt32]
    /// `ChangeWindowMessageFilterEx`'s result per relayed message, in the same order.
    public let filterResults: [Pipe.CreateWindow.FilterResult]
}

/// The outcome of a sent message or `WM_COPYDATA`.
public struct SendOutcome: Equatable, Sendable {
    /// The target's `LRESULT` (0 when not delivered).
    public var lresult: Int64
    /// False when the target died or was not a window.
    public var delivered: Bool
    /// `GetLastError()` in the shim after the send.
    public var lastError: UInt32
}

/// The outcome of ``BridgeConnection/callMapped(_:writing:to:message:wParam:lParam:timeout:reading:)``.
public struct MappedCallOutcome: Equatable, Sendable {
    /// The send's `LRESULT`, whether it was delivered, and `GetLastError()`.
    public var send: SendOutcome
    /// The bytes of each read, in the order asked; empty when the send was not delivered.
    public var reads: [[UInt8]]
}

/// A handle created by the shim, and whether its name already existed.
public struct CreatedObject: Equatable, Sendable {
    /// The shim's handle.
    public var handle: ShimHandle
    /// True when the name was taken already (`ERROR_ALREADY_EXISTS`): the object is someone else's.
    public var alreadyExisted: Bool
}

/// `WM_COPYDATA` (`0x004A`).
public let wmCopyData: UInt32 = 0x004A

extension BridgeConnection {
    /// Converts an optional timeout to the protocol's `timeoutMs` (0 = none; at least 1 ms when given).
    fileprivate static func milliseconds(_ timeout: Duration?) -> UInt32 {
        guard let timeout else { return 0 }
        let ms = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        return UInt32(clamping: max(ms, 1))
    }

    /// The host-side wait for a request whose shim-side timeout is `timeout`: the configured bound, or the shim's
    /// timeout plus 5 s of slack when the shim's is given, so a shim that forgets to answer cannot hang the host.
    fileprivate func hostWait(for timeout: Duration?) -> Duration? {
        guard let timeout else { return nil }
        let slack = timeout + .seconds(5)
        if let configured = configuration.replyTimeout { return max(configured, slack) }
        return slack
    }

    // MARK: Windows

    /// Creates a window in the shim that relays the given messages to this host.
    /// - Parameters:
    ///   - kind: ``WindowKind/messageOnly`` (works headless) or ``WindowKind/topLevel`` (needs a display).
    ///   - className: The class name (at most 32767 UTF-16 units).
    ///   - title: The title.
    ///   - messages: The messages to relay (at most 256); include ``wmCopyData`` to relay `WM_COPYDATA`.
    /// - Returns: The window and the message-filter results.
    /// - Throws: ``BridgeError/requestFailed(request:status:lastError:message:)`` when Windows refuses, or any
    ///   connection error.
    public func createWindow(
        kind: WindowKind = .messageOnly, className: String, title: String, relaying messages: [UInt32]
    ) throws(BridgeError) -> BridgeWindow {
        guard messages.count <= Int(PipeProtocol.maxWindowMessages) else {
            throw .invalidArgument("\(messages.count) relayed messages, at most \(PipeProtocol.maxWindowMessages)")
        }
        let result = try perform(Pipe.CreateWindow(kind: kind, messages: messages, className: className, title: title))
        return BridgeWindow(
            hwnd: result.hwnd, kind: kind, className: className, title: title, relayedMessages: messages,
            filterResults: result.filterResults)
    }

    /// Destroys a window the shim created, and removes its handlers.
    /// - Parameter window: The window.
    /// - Throws: ``BridgeError/requestFailed(request:status:lastError:message:)`` with `NOT_FOUND` for a window
    ///   the shim did not create, or any connection error.
    public func destroyWindow(_ window: WindowHandle) throws(BridgeError) {
        removeHandlers(for: window)
        _ = try perform(Pipe.DestroyWindow(hwnd: window))
    }

    /// Sends a message to any window (`SendMessageCallbackW` in the shim, which keeps serving meanwhile).
    /// - Parameters:
    ///   - window: The target.
    ///   - message: The message id.
    ///   - wParam: `WPARAM`.
    ///   - lParam: `LPARAM`.
    ///   - timeout: How long the shim waits for completion (`nil`: no limit).
    /// - Returns: The `LRESULT` and whether it was delivered.
    /// - Throws: ``BridgeError/requestFailed(request:status:lastError:message:)`` (status `TIMEOUT` on expiry),
    ///   or any connection error.
    public func sendMessage(
        to window: WindowHandle, message: UInt32, wParam: UInt64 = 0, lParam: UInt64 = 0, timeout: Duration? = nil
    ) throws(BridgeError) -> SendOutcome {
        let result = try perform(
            Pipe.SendMessage(
                hwnd: window, message: message, timeoutMs: Self.milliseconds(timeout), wParam: wParam, lParam: lParam),
            timeout: hostWait(for: timeout))
        return SendOutcome(lresult: result.lresult, delivered: result.delivered, lastError: result.lastError)
    }

    /// Posts a message to any window (`PostMessageW` in the shim).
    /// - Parameters:
    ///   - window: The target.
    ///   - message: The message id.
    ///   - wParam: `WPARAM`.
    ///   - lParam: `LPARAM`.
    /// - Throws: ``BridgeError/requestFailed(request:status:lastError:message:)`` with `WIN32_ERROR` when
    ///   `PostMessageW` failed, or any connection error.
    public func postMessage(to window: WindowHandle, message: UInt32, wParam: UInt64 = 0, lParam: UInt64 = 0)
        throws(BridgeError)
    {
        let result = try perform(Pipe.PostMessage(hwnd: window, message: message, wParam: wParam, lParam: lParam))
        guard result.ok else {
            throw .requestFailed(
                request: .postMessage, status: .win32Error, lastError: result.lastError, message: "PostMessageW failed")
        }
    }

    /// Sends `WM_COPYDATA` with these bytes to any window.
    /// - Parameters:
    ///   - window: The target.
    ///   - sender: The window passed as `WPARAM` (one of the shim's, or null).
    ///   - dwData: `COPYDATASTRUCT.dwData`.
    ///   - bytes: The data (at most 64 MiB).
    ///   - timeout: How long the shim waits (`nil`: no limit).
    /// - Returns: The `LRESULT` and whether it was delivered.
    /// - Throws: ``BridgeError/invalidArgument(_:)`` above 64 MiB, or as ``sendMessage(to:message:wParam:lParam:timeout:)``.
    public func sendCopyData(
        to window: WindowHandle, from sender: WindowHandle = .null, dwData: UInt64, bytes: [UInt8],
        timeout: Duration? = nil
    ) throws(BridgeError) -> SendOutcome {
        guard bytes.count <= Int(PipeProtocol.maxPayload) - 40 else {
            throw .invalidArgument("\(bytes.count) bytes of WM_COPYDATA do not fit in one frame")
        }
        let result = try perform(
            Pipe.SendCopyData(
                hwnd: window, sender: sender, dwData: dwData, timeoutMs: Self.milliseconds(timeout), data: bytes),
            timeout: hostWait(for: timeout))
        return SendOutcome(lresult: result.lresult, delivered: result.delivered, lastError: result.lastError)
    }

    /// Finds a window (`FindWindowExW`).
    /// - Parameters:
    ///   - parent: `.null` for top-level windows, ``WindowHandle/message`` for message-only ones, or a parent.
    ///   - childAfter: Start after this child (`.null`: from the first).
    ///   - className: The class to match (`nil`: any).
    ///   - title: The title to match (`nil`: any).
    /// - Returns: The window, or `nil` when none matches.
    /// - Throws: Any connection error.
    public func findWindow(
        parent: WindowHandle = .null, childAfter: WindowHandle = .null, className: String? = nil, title: String? = nil
    ) throws(BridgeError) -> WindowHandle? {
        let found = try perform(
            Pipe.FindWindow(parent: parent, childAfter: childAfter, className: className, title: title))
        return found.hwnd == .null ? nil : found.hwnd
    }

    /// Whether a handle names a live window (`IsWindow`).
    /// - Parameter window: The handle.
    /// - Throws: Any connection error.
    public func isWindow(_ window: WindowHandle) throws(BridgeError) -> Bool {
        try perform(Pipe.IsWindow(hwnd: window)).value
    }

    /// The thread and process that own a window (`GetWindowThreadProcessId`).
    /// - Parameter window: The window.
    /// - Returns: The ids, or `nil` when there is no such window.
    /// - Throws: Any connection error.
    public func windowThreadProcessId(_ window: WindowHandle) throws(BridgeError) -> (
        threadId: UInt32, processId: UInt32
    )? {
        let ids = try perform(Pipe.GetWindowThreadProcessId(hwnd: window))
        return ids.threadId == 0 && ids.processId == 0 ? nil : (ids.threadId, ids.processId)
    }

    /// The full image path of a Windows process (`QueryFullProcessImageNameW`).
    /// - Parameter processId: The Windows process id.
    /// - Returns: The path, e.g. `C:\…\msg-peer.exe`.
    /// - Throws: ``BridgeError/requestFailed(request:status:lastError:message:)`` when the process cannot be
    ///   opened, or any connection error.
    public func processImagePath(processId: UInt32) throws(BridgeError) -> String {
        try perform(Pipe.GetProcessImage(processId: processId)).text
    }

    // MARK: Kernel objects

    /// Creates a named file mapping in the shim.
    /// - Parameters:
    ///   - name: The Windows object name (empty for none).
    ///   - size: The size in bytes.
    ///   - devShmFile: When given, the mapping is backed by `/dev/shm/<file>`, which the host can map with
    ///     ``SharedFileMapping`` and must unlink; only `A–Z a–z 0–9 . _ -`, at most 200 characters.
    /// - Returns: The handle, and whether the name already existed.
    /// - Throws: ``BridgeError/invalidArgument(_:)`` for a bad file name; the shim's failure status; any
    ///   connection error.
    public func createMapping(name: String, size: UInt32, devShmFile: String? = nil) throws(BridgeError)
        -> CreatedObject
    {
        if let devShmFile, !SharedFileMapping.isValidFileName(devShmFile) {
            throw .invalidArgument("'\(devShmFile)' is not a safe /dev/shm file name ([A-Za-z0-9._-], 1–200)")
        }
        let created = try perform(
            Pipe.CreateMapping(size: size, flags: devShmFile == nil ? [] : .devShm, name: name, file: devShmFile ?? ""))
        return CreatedObject(handle: created.handle, alreadyExisted: created.alreadyExisted)
    }

    /// Creates a `/dev/shm`-backed named mapping in the shim and maps the same file in the host.
    /// - Parameters:
    ///   - name: The Windows object name.
    ///   - size: The size in bytes.
    ///   - file: The file name under `/dev/shm` (safe characters only).
    /// - Returns: The shim's handle and the host's mapping (which unlinks the file when closed).
    /// - Throws: As ``createMapping(name:size:devShmFile:)``, or ``BridgeError/io(operation:errno:)`` when the
    ///   host cannot map the file (the shim's handle is closed then).
    public func createSharedMapping(name: String, size: UInt32, file: String)
        throws(BridgeError) -> (object: CreatedObject, mapping: SharedFileMapping)
    {
        let object = try createMapping(name: name, size: size, devShmFile: file)
        do {
            return (object, try SharedFileMapping(file: file, size: Int(size)))
        } catch {
            try? closeHandle(object.handle)
            _ = unlink("/dev/shm/" + file)
            throw error
        }
    }

    /// Opens a Windows peer's named mapping in the shim and maps a view of it there.
    /// - Parameter name: The Windows object name.
    /// - Returns: The handle and the view's size.
    /// - Throws: The shim's failure status (e.g. `WIN32_ERROR` 2 for no such name), or any connection error.
    public func openMapping(name: String) throws(BridgeError) -> (handle: ShimHandle, size: UInt64) {
        let opened = try perform(Pipe.OpenMapping(name: name))
        return (opened.handle, opened.size)
    }

    /// Reads bytes from a mapping's view in the shim.
    /// - Parameters:
    ///   - handle: A mapping handle from ``createMapping(name:size:devShmFile:)`` or ``openMapping(name:)``.
    ///   - offset: Where to start.
    ///   - length: How many bytes (bounded by the view and by one frame).
    /// - Returns: The bytes.
    /// - Throws: `BAD_REQUEST` past the view's end, `NOT_FOUND` for an unknown handle, or any connection error.
    public func readMapping(_ handle: ShimHandle, offset: UInt32, length: UInt32) throws(BridgeError) -> [UInt8] {
        try perform(Pipe.ReadMapping(handle: handle, offset: offset, length: length)).bytes
    }

    /// Writes bytes into a mapping's view in the shim.
    /// - Parameters:
    ///   - handle: A mapping handle.
    ///   - offset: Where to start.
    ///   - bytes: The bytes.
    /// - Throws: As ``readMapping(_:offset:length:)``.
    public func writeMapping(_ handle: ShimHandle, offset: UInt32, bytes: [UInt8]) throws(BridgeError) {
        _ = try perform(Pipe.WriteMapping(handle: handle, offset: offset, data: bytes))
    }

    /// Writes into a mapping's view, sends a message, and reads from the view once the send completed, in one
    /// round trip (`CALL_MAPPED`): the three steps of a call whose frame lives in a mapping only the shim can
    /// reach.
    /// - Parameters:
    ///   - handle: A mapping handle from ``openMapping(name:)`` or ``createMapping(name:size:devShmFile:)``.
    ///   - writes: At most 4 spans, written in order before the send.
    ///   - window: The target.
    ///   - message: The message id.
    ///   - wParam: `WPARAM`.
    ///   - lParam: `LPARAM`.
    ///   - timeout: How long the shim waits for completion (`nil`: no limit).
    ///   - reads: At most 4 spans, read in order after a delivered send (whatever its `LRESULT`).
    /// - Returns: The send's outcome and the bytes read (none when not delivered).
    /// - Throws: ``BridgeError/invalidArgument(_:)`` for more than 4 spans of either kind;
    ///   ``BridgeError/requestFailed(request:status:lastError:message:)`` with `BAD_REQUEST` for a span past the
    ///   view (nothing is written or sent then), `NOT_FOUND` for an unknown handle, `TIMEOUT` on expiry; or any
    ///   connection error.
    public func callMapped(
        _ handle: ShimHandle, writing writes: [Pipe.CallMapped.Write], to window: WindowHandle, message: UInt32,
        wParam: UInt64 = 0, lParam: UInt64 = 0, timeout: Duration? = nil, reading reads: [Pipe.CallMapped.Read]
    ) throws(BridgeError) -> MappedCallOutcome {
        let limit = Int(PipeProtocol.maxMappedSpans)
        guard writes.count <= limit, reads.count <= limit else {
            throw .invalidArgument("\(writes.count) writes and \(reads.count) reads, at most \(limit) of each")
        }
        let result = try perform(
            Pipe.CallMapped(
                handle: handle, writes: writes, hwnd: window, message: message, timeoutMs: Self.milliseconds(timeout),
                wParam: wParam, lParam: lParam, reads: reads),
            timeout: hostWait(for: timeout))
        let send = SendOutcome(lresult: result.lresult, delivered: result.delivered, lastError: result.lastError)
        guard result.delivered else { return MappedCallOutcome(send: send, reads: []) }
        guard result.reads.map(\.count) == reads.map({ Int($0.length) }) else {
            throw .invalidArgument(
                "CALL_MAPPED returned reads of \(result.reads.map(\.count)) bytes, asked \(reads.map(\.length))")
        }
        return MappedCallOutcome(send: send, reads: result.reads)
    }

    /// Creates a (named) event in the shim.
    /// - Parameters:
    ///   - name: The Windows object name (empty for none).
    ///   - manualReset: Manual-reset rather than auto-reset.
    ///   - initialState: Signalled at creation.
    /// - Returns: The handle, and whether the name already existed.
    /// - Throws: The shim's failure status, or any connection error.
    public func createEvent(name: String, manualReset: Bool = false, initialState: Bool = false)
        throws(BridgeError) -> CreatedObject
    {
        let created = try perform(Pipe.CreateEvent(manualReset: manualReset, initialState: initialState, name: name))
        return CreatedObject(handle: created.handle, alreadyExisted: created.alreadyExisted)
    }

    /// Opens a named event in the shim.
    /// - Parameters:
    ///   - name: The Windows object name.
    ///   - desiredAccess: The access mask (`EVENT_ALL_ACCESS` by default).
    /// - Returns: The handle.
    /// - Throws: The shim's failure status, or any connection error.
    public func openEvent(name: String, desiredAccess: UInt32 = 0x1F_0003) throws(BridgeError) -> ShimHandle {
        try perform(Pipe.OpenEvent(desiredAccess: desiredAccess, name: name)).handle
    }

    /// Closes a handle the shim returned.
    /// - Parameter handle: The handle.
    /// - Throws: `NOT_FOUND` for a handle the shim did not hand out, or any connection error.
    public func closeHandle(_ handle: ShimHandle) throws(BridgeError) {
        _ = try perform(Pipe.CloseHandle(handle: handle))
    }

    // MARK: Launching

    /// Starts `sipc-shim.exe` under Wine and connects to it: checks Wine, creates the prefix if needed, makes
    /// sure a wineserver and Wine's helpers run, spawns the shim with piped stdio, and performs the handshake.
    /// - Parameters:
    ///   - shim: The path of `sipc-shim.exe`.
    ///   - environment: The Wine installation (see ``WineEnvironment/fromEnvironment(_:defaultPrefix:)``).
    ///   - configuration: Tunables.
    ///   - shimLog: Where the shim's stderr goes.
    ///   - logger: Where to log; by default nowhere.
    /// - Returns: A connection after a successful handshake.
    /// - Throws: ``BridgeError/launchFailed(_:)``, or a handshake error (the shim is killed then).
    public static func launch(
        shim: String, environment: WineEnvironment, configuration: Configuration = Configuration(),
        shimLog: ShimLogDestination = .inherit,
        logger: Logger = Logger(label: "sipb.host", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(BridgeError) -> BridgeConnection {
        try environment.ensurePrefix(logger: logger)
        try environment.ensureWineserver(logger: logger)
        let transport = try PipeTransport.launch(
            shim: shim, environment: environment, shimLog: shimLog, useRing: configuration.useRing,
            useUpload: configuration.useUpload, logger: logger)
        return try BridgeConnection(transport: transport, configuration: configuration, logger: logger)
    }
}
