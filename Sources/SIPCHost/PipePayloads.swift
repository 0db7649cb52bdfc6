// The typed payloads of docs/PROTOCOL.md. Each one reads and writes itself, so the host encodes what it sends,
// decodes what it receives, and the tests' fake shim does the reverse with the same code.

/// A payload that can be read from and written to a frame.
public protocol PipePayload: Sendable, Equatable {
    /// Reads the fields in protocol order (the caller checks for trailing bytes).
    /// - Throws: ``PipeProtocolError`` when a field is missing or out of range.
    init(reading reader: inout PayloadReader) throws(PipeProtocolError)
    /// Writes the fields in protocol order.
    /// - Throws: ``PipeProtocolError`` when a value cannot be represented (a string or list too long).
    func write(to writer: inout PayloadWriter) throws(PipeProtocolError)
}

extension PipePayload {
    /// Decodes a whole payload; trailing bytes are an error.
    /// - Parameters:
    ///   - payload: The payload bytes.
    ///   - frame: The frame type it came in, for error messages.
    /// - Throws: ``PipeProtocolError``.
    public init(decoding payload: [UInt8], frame: FrameType) throws(PipeProtocolError) {
        var reader = PayloadReader(payload, frame: frame)
        try self.init(reading: &reader)
        try reader.finish()
    }

    /// The payload bytes.
    /// - Throws: ``PipeProtocolError`` when a value cannot be represented.
    public func encoded() throws(PipeProtocolError) -> [UInt8] {
        var writer = PayloadWriter()
        try write(to: &writer)
        return writer.bytes
    }
}

/// A payload whose encoding cannot fail (no strings or byte lists with limits).
public protocol InfalliblePipePayload: PipePayload {
    /// Writes the fields in protocol order.
    func write(to writer: inout PayloadWriter)
}

extension InfalliblePipePayload {
    /// The payload bytes.
    public var bytes: [UInt8] {
        var writer = PayloadWriter()
        write(to: &writer)
        return writer.bytes
    }
}

/// A host → shim request: its frame type and the type of its `REPLY` result.
public protocol PipeRequest: PipePayload {
    /// The result payload of a `REPLY` with status OK.
    associatedtype Result: PipePayload
    /// The request's frame type.
    static var frameType: FrameType { get }
}

/// The payloads of the pipe protocol, one type per table row of `docs/PROTOCOL.md`.
public enum Pipe {
    // MARK: Control frames

    /// `HELLO`: `u32 magic, u16 major, u16 minor, u32 pid, u32 flags`.
    public struct Hello: PipePayload, InfalliblePipePayload {
        /// `SIPB_MAGIC` when valid.
        public var magic: UInt32
        /// The shim's major version.
        public var major: UInt16
        /// The shim's minor version.
        public var minor: UInt16
        /// The shim's Windows process id.
        public var processId: UInt32
        /// Flags: `SIPB_HELLO_RING` (bit 0) when the shim reads the host → shim ring (``ShimRing``),
        /// `SIPB_HELLO_UPLOAD` (bit 1) when it puts large `WM_COPYDATA` bytes in the upload area
        /// (``ShimUpload``); the other bits are 0.
        public var flags: UInt32
        /// Creates a `HELLO` payload.
        public init(
            magic: UInt32 = PipeProtocol.magic, major: UInt16 = PipeProtocol.versionMajor,
            minor: UInt16 = PipeProtocol.versionMinor, processId: UInt32, flags: UInt32 = 0
        ) {
            (self.magic, self.major, self.minor, self.processId, self.flags) = (
                magic, major, minor, processId, flags
            )
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            self.init(
                magic: try r.readU32("magic"), major: try r.readU16("major"), minor: try r.readU16("minor"),
                processId: try r.readU32("pid"), flags: try r.readU32("flags"))
        }
        public func write(to w: inout PayloadWriter) {
            w.writeU32(magic); w.writeU16(major); w.writeU16(minor); w.writeU32(processId); w.writeU32(flags)
        }
    }

    /// `HELLO_ACK`: `u32 magic, u16 major, u16 minor`.
    public struct HelloAck: PipePayload, InfalliblePipePayload {
        /// `SIPB_MAGIC`.
        public var magic: UInt32
        /// The host's major version.
        public var major: UInt16
        /// The host's minor version.
        public var minor: UInt16
        /// Creates a `HELLO_ACK` payload (by default this host's version).
        public init(
            magic: UInt32 = PipeProtocol.magic, major: UInt16 = PipeProtocol.versionMajor,
            minor: UInt16 = PipeProtocol.versionMinor
        ) {
            (self.magic, self.major, self.minor) = (magic, major, minor)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            self.init(magic: try r.readU32("magic"), major: try r.readU16("major"), minor: try r.readU16("minor"))
        }
        public func write(to w: inout PayloadWriter) { w.writeU32(magic); w.writeU16(major); w.writeU16(minor) }
    }

    /// `GOODBYE` and `PROTOCOL_ERROR`: `u32 reason`, then UTF-8 text to the end of the payload.
    public struct ReasonText: PipePayload, InfalliblePipePayload {
        /// Why.
        public var reason: ReasonCode
        /// Human-readable detail.
        public var text: String
        /// Creates the payload.
        public init(reason: ReasonCode, text: String) { (self.reason, self.text) = (reason, text) }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            self.init(reason: ReasonCode(rawValue: try r.readU32("reason")), text: r.readRemainingUTF8())
        }
        public func write(to w: inout PayloadWriter) { w.writeU32(reason.rawValue); w.writeUTF8(text) }
    }

    /// A `REPLY` payload: `u32 status`, then the result (OK), `u32 lastError` and text (`WIN32_ERROR`), or text.
    public enum Reply: PipePayload, InfalliblePipePayload {
        /// Status OK; the bytes are the request's result payload, decoded by the caller.
        case ok([UInt8])
        /// Any other status; `lastError` is present for `SIPB_S_WIN32_ERROR` only.
        case failure(status: ReplyStatus, lastError: UInt32?, message: String)

        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            let status = ReplyStatus(rawValue: try r.readU32("status"))
            switch status {
            case .ok: self = .ok(try r.readRaw(count: r.remaining, "result"))
            case .win32Error:
                self = .failure(status: status, lastError: try r.readU32("lastError"), message: r.readRemainingUTF8())
            default: self = .failure(status: status, lastError: nil, message: r.readRemainingUTF8())
            }
        }
        public func write(to w: inout PayloadWriter) {
            switch self {
            case .ok(let result):
                w.writeU32(ReplyStatus.ok.rawValue); w.writeRaw(result)
            case .failure(let status, let lastError, let message):
                w.writeU32(status.rawValue)
                if status == .win32Error { w.writeU32(lastError ?? 0) }
                w.writeUTF8(message)
            }
        }
    }

    // MARK: Shared results

    /// A result with no fields.
    public struct Empty: PipePayload, InfalliblePipePayload {
        /// Creates the empty result.
        public init() {}
        public init(reading r: inout PayloadReader) {}
        public func write(to w: inout PayloadWriter) {}
    }

    /// `i64 lresult`: the answer to a sent `EV_MESSAGE` or an `EV_COPYDATA`.
    public struct LResult: PipePayload, InfalliblePipePayload {
        /// The window procedure's return value.
        public var lresult: Int64
        /// Creates the result.
        public init(_ lresult: Int64) { self.lresult = lresult }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) { lresult = try r.readI64("lresult") }
        public func write(to w: inout PayloadWriter) { w.writeI64(lresult) }
    }

    /// The result of `SEND_MESSAGE` and `SEND_COPYDATA`: `i64 lresult, u32 delivered, u32 lastError`.
    public struct SendResult: PipePayload, InfalliblePipePayload {
        /// The target's return value (0 when not delivered).
        public var lresult: Int64
        /// False when the target died or was not a window.
        public var delivered: Bool
        /// `GetLastError()` after the send.
        public var lastError: UInt32
        /// Creates the result.
        public init(lresult: Int64, delivered: Bool, lastError: UInt32 = 0) {
            (self.lresult, self.delivered, self.lastError) = (lresult, delivered, lastError)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            self.init(
                lresult: try r.readI64("lresult"), delivered: try r.readU32("delivered") != 0,
                lastError: try r.readU32("lastError"))
        }
        public func write(to w: inout PayloadWriter) {
            w.writeI64(lresult); w.writeU32(delivered ? 1 : 0); w.writeU32(lastError)
        }
    }

    /// `u64 handle, u32 alreadyExisted`: the result of `CREATE_MAPPING` and `CREATE_EVENT`.
    public struct CreatedHandle: PipePayload, InfalliblePipePayload {
        /// The new handle, owned by the shim.
        public var handle: ShimHandle
        /// True when the name already existed (`ERROR_ALREADY_EXISTS`).
        public var alreadyExisted: Bool
        /// Creates the result.
        public init(handle: ShimHandle, alreadyExisted: Bool) {
            (self.handle, self.alreadyExisted) = (handle, alreadyExisted)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            self.init(
                handle: ShimHandle(rawValue: try r.readU64("handle")),
                alreadyExisted: try r.readU32("alreadyExisted") != 0)
        }
        public func write(to w: inout PayloadWriter) { w.writeU64(handle.rawValue); w.writeU32(alreadyExisted ? 1 : 0) }
    }

    /// A single `u64 hwnd`: the request of `DESTROY_WINDOW`, `IS_WINDOW`, `GET_WINDOW_THREAD_PROCESS_ID`,
    /// and the result of `FIND_WINDOW`.
    public struct Window: PipePayload, InfalliblePipePayload {
        /// The window.
        public var hwnd: WindowHandle
        /// Wraps a window handle.
        public init(_ hwnd: WindowHandle) { self.hwnd = hwnd }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            hwnd = WindowHandle(rawValue: try r.readU64("hwnd"))
        }
        public func write(to w: inout PayloadWriter) { w.writeU64(hwnd.rawValue) }
    }

    /// A single `u32` used as a boolean (the result of `IS_WINDOW`).
    public struct Flag: PipePayload, InfalliblePipePayload {
        /// The value.
        public var value: Bool
        /// Wraps a boolean.
        public init(_ value: Bool) { self.value = value }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) { value = try r.readU32("value") != 0 }
        public func write(to w: inout PayloadWriter) { w.writeU32(value ? 1 : 0) }
    }

    // MARK: Host → shim requests

    /// `CREATE_WINDOW`: `u32 kind, u32 n (≤ 256), u32 msgs[n], str16 class, str16 title`.
    public struct CreateWindow: PipeRequest {
        public static let frameType = FrameType.createWindow
        /// Message-only or top-level.
        public var kind: WindowKind
        /// The messages the window relays to the host.
        public var messages: [UInt32]
        /// The window class name (registered once per name by the shim).
        public var className: String
        /// The window title.
        public var title: String
        /// Creates the request.
        public init(kind: WindowKind, messages: [UInt32], className: String, title: String) {
            (self.kind, self.messages, self.className, self.title) = (kind, messages, className, title)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            kind = WindowKind(rawValue: try r.readU32("kind"))
            let count = try r.readU32("n")
            guard count <= PipeProtocol.maxWindowMessages else {
                throw .countTooLarge(frame: r.frame, field: "n", count: count, limit: PipeProtocol.maxWindowMessages)
            }
            guard Int(count) * 4 <= r.remaining else {
                throw .truncated(frame: r.frame, field: "msgs", needed: Int(count) * 4, remaining: r.remaining)
            }
            var messages: [UInt32] = []
            for _ in 0..<count { messages.append(try r.readU32("msgs")) }
            self.messages = messages
            className = try r.readStr16("class")
            title = try r.readStr16("title")
        }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
            guard messages.count <= Int(PipeProtocol.maxWindowMessages) else {
                throw .countTooLarge(
                    frame: Self.frameType, field: "n", count: UInt32(clamping: messages.count),
                    limit: PipeProtocol.maxWindowMessages)
            }
            w.writeU32(kind.rawValue)
            w.writeU32(UInt32(messages.count))
            for message in messages { w.writeU32(message) }
            try w.writeStr16(className, "class")
            try w.writeStr16(title, "title")
        }

        /// `u64 hwnd, u32 n, n × (u32 filterResult, u32 lastError)`.
        public struct Result: PipePayload, InfalliblePipePayload {
            /// The new window.
            public var hwnd: WindowHandle
            /// Per relayed message: `ChangeWindowMessageFilterEx`'s result and `GetLastError()`.
            public var filterResults: [FilterResult]
            /// Creates the result.
            public init(hwnd: WindowHandle, filterResults: [FilterResult]) {
                (self.hwnd, self.filterResults) = (hwnd, filterResults)
            }
            public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
                hwnd = WindowHandle(rawValue: try r.readU64("hwnd"))
                let count = try r.readU32("n")
                guard count <= PipeProtocol.maxWindowMessages else {
                    throw .countTooLarge(
                        frame: r.frame, field: "n", count: count, limit: PipeProtocol.maxWindowMessages)
                }
                guard Int(count) * 8 <= r.remaining else {
                    throw .truncated(
                        frame: r.frame, field: "filterResults", needed: Int(count) * 8, remaining: r.remaining)
                }
                var results: [FilterResult] = []
                for _ in 0..<count {
                    results.append(
                        FilterResult(result: try r.readU32("filterResult"), lastError: try r.readU32("lastError")))
                }
                filterResults = results
            }
            public func write(to w: inout PayloadWriter) {
                w.writeU64(hwnd.rawValue)
                w.writeU32(UInt32(clamping: filterResults.count))
                for entry in filterResults { w.writeU32(entry.result); w.writeU32(entry.lastError) }
            }
        }

        /// What `ChangeWindowMessageFilterEx` returned for one relayed message.
        public struct FilterResult: Hashable, Sendable {
            /// The `BOOL` result (Wine's stub returns TRUE).
            public var result: UInt32
            /// `GetLastError()` after the call.
            public var lastError: UInt32
            /// Creates an entry.
            public init(result: UInt32, lastError: UInt32) { (self.result, self.lastError) = (result, lastError) }
            /// Whether the call succeeded (`result` is non-zero).
            public var ok: Bool { result != 0 }
        }
    }

    /// `DESTROY_WINDOW`: `u64 hwnd`.
    public struct DestroyWindow: PipeRequest, InfalliblePipePayload {
        public typealias Result = Empty
        public static let frameType = FrameType.destroyWindow
        /// The window (one the shim created).
        public var hwnd: WindowHandle
        /// Creates the request.
        public init(hwnd: WindowHandle) { self.hwnd = hwnd }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) { hwnd = try Window(reading: &r).hwnd }
        public func write(to w: inout PayloadWriter) { Window(hwnd).write(to: &w) }
    }

    /// `SEND_MESSAGE`: `u64 hwnd, u32 msg, u32 timeoutMs, u64 wParam, u64 lParam`.
    public struct SendMessage: PipeRequest, InfalliblePipePayload {
        public typealias Result = SendResult
        public static let frameType = FrameType.sendMessage
        /// The target window.
        public var hwnd: WindowHandle
        /// The message.
        public var message: UInt32
        /// 0 = no timeout.
        public var timeoutMs: UInt32
        /// `WPARAM`.
        public var wParam: UInt64
        /// `LPARAM`.
        public var lParam: UInt64
        /// Creates the request.
        public init(hwnd: WindowHandle, message: UInt32, timeoutMs: UInt32, wParam: UInt64, lParam: UInt64) {
            (self.hwnd, self.message, self.timeoutMs, self.wParam, self.lParam) = (
                hwnd, message, timeoutMs, wParam, lParam
            )
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            self.init(
                hwnd: WindowHandle(rawValue: try r.readU64("hwnd")), message: try r.readU32("msg"),
                timeoutMs: try r.readU32("timeoutMs"), wParam: try r.readU64("wParam"), lParam: try r.readU64("lParam"))
        }
        public func write(to w: inout PayloadWriter) {
            w.writeU64(hwnd.rawValue); w.writeU32(message); w.writeU32(timeoutMs); w.writeU64(wParam);
            w.writeU64(lParam)
        }
    }

    /// `POST_MESSAGE`: `u64 hwnd, u32 msg, u32 reserved (0), u64 wParam, u64 lParam`.
    public struct PostMessage: PipeRequest, InfalliblePipePayload {
        public static let frameType = FrameType.postMessage
        /// The target window.
        public var hwnd: WindowHandle
        /// The message.
        public var message: UInt32
        /// Reserved, 0.
        public var reserved: UInt32
        /// `WPARAM`.
        public var wParam: UInt64
        /// `LPARAM`.
        public var lParam: UInt64
        /// Creates the request.
        public init(hwnd: WindowHandle, message: UInt32, wParam: UInt64, lParam: UInt64, reserved: UInt32 = 0) {
            (self.hwnd, self.message, self.reserved, self.wParam, self.lParam) = (
                hwnd, message, reserved, wParam, lParam
            )
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            hwnd = WindowHandle(rawValue: try r.readU64("hwnd"))
            message = try r.readU32("msg")
            reserved = try r.readU32("reserved")
            wParam = try r.readU64("wParam")
            lParam = try r.readU64("lParam")
        }
        public func write(to w: inout PayloadWriter) {
            w.writeU64(hwnd.rawValue); w.writeU32(message); w.writeU32(reserved); w.writeU64(wParam); w.writeU64(lParam)
        }

        /// `u32 ok, u32 lastError`.
        public struct Result: PipePayload, InfalliblePipePayload {
            /// `PostMessageW`'s result.
            public var ok: Bool
            /// `GetLastError()` after the call.
            public var lastError: UInt32
            /// Creates the result.
            public init(ok: Bool, lastError: UInt32) { (self.ok, self.lastError) = (ok, lastError) }
            public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
                self.init(ok: try r.readU32("ok") != 0, lastError: try r.readU32("lastError"))
            }
            public func write(to w: inout PayloadWriter) { w.writeU32(ok ? 1 : 0); w.writeU32(lastError) }
        }
    }

    /// `SEND_COPYDATA`: `u64 hwnd, u64 wParam (sender HWND), u64 dwData, u32 timeoutMs, bytes data`.
    public struct SendCopyData: PipeRequest {
        public typealias Result = SendResult
        public static let frameType = FrameType.sendCopyData
        /// The target window.
        public var hwnd: WindowHandle
        /// The sender window passed as `WPARAM`.
        public var sender: WindowHandle
        /// `COPYDATASTRUCT.dwData`.
        public var dwData: UInt64
        /// 0 = no timeout.
        public var timeoutMs: UInt32
        /// The bytes.
        public var data: [UInt8]
        /// Creates the request.
        public init(hwnd: WindowHandle, sender: WindowHandle, dwData: UInt64, timeoutMs: UInt32, data: [UInt8]) {
            (self.hwnd, self.sender, self.dwData, self.timeoutMs, self.data) = (hwnd, sender, dwData, timeoutMs, data)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            hwnd = WindowHandle(rawValue: try r.readU64("hwnd"))
            sender = WindowHandle(rawValue: try r.readU64("wParam"))
            dwData = try r.readU64("dwData")
            timeoutMs = try r.readU32("timeoutMs")
            data = try r.readBytes("data")
        }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
            w.writeU64(hwnd.rawValue); w.writeU64(sender.rawValue); w.writeU64(dwData); w.writeU32(timeoutMs)
            try w.writeBytes(data, "data")
        }
    }

    /// `FIND_WINDOW`: `u64 parent, u64 childAfter, u32 flags, str16 class, str16 title`; flags bit 0 = class
    /// given, bit 1 = title given. A `nil` class or title is sent as an empty string with its bit clear.
    public struct FindWindow: PipeRequest {
        public typealias Result = Window
        public static let frameType = FrameType.findWindow
        /// `NULL` (the desktop) or `HWND_MESSAGE`, or a parent window.
        public var parent: WindowHandle
        /// Start the search after this child (`NULL` = from the first).
        public var childAfter: WindowHandle
        /// The class to match, or nil for any.
        public var className: String?
        /// The title to match, or nil for any.
        public var title: String?
        /// Creates the request.
        public init(parent: WindowHandle, childAfter: WindowHandle, className: String?, title: String?) {
            (self.parent, self.childAfter, self.className, self.title) = (parent, childAfter, className, title)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            parent = WindowHandle(rawValue: try r.readU64("parent"))
            childAfter = WindowHandle(rawValue: try r.readU64("childAfter"))
            let flags = try r.readU32("flags")
            guard flags & ~3 == 0 else { throw .invalidValue(frame: r.frame, field: "flags", value: UInt64(flags)) }
            let className = try r.readStr16("class")
            let title = try r.readStr16("title")
            self.className = flags & 1 != 0 ? className : nil
            self.title = flags & 2 != 0 ? title : nil
        }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
            w.writeU64(parent.rawValue)
            w.writeU64(childAfter.rawValue)
            w.writeU32((className == nil ? 0 : 1) | (title == nil ? 0 : 2))
            try w.writeStr16(className ?? "", "class")
            try w.writeStr16(title ?? "", "title")
        }
    }

    /// `IS_WINDOW`: `u64 hwnd`.
    public struct IsWindow: PipeRequest, InfalliblePipePayload {
        public typealias Result = Flag
        public static let frameType = FrameType.isWindow
        /// The window.
        public var hwnd: WindowHandle
        /// Creates the request.
        public init(hwnd: WindowHandle) { self.hwnd = hwnd }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) { hwnd = try Window(reading: &r).hwnd }
        public func write(to w: inout PayloadWriter) { Window(hwnd).write(to: &w) }
    }

    /// `GET_WINDOW_THREAD_PROCESS_ID`: `u64 hwnd`.
    public struct GetWindowThreadProcessId: PipeRequest, InfalliblePipePayload {
        public static let frameType = FrameType.getWindowThreadProcessId
        /// The window.
        public var hwnd: WindowHandle
        /// Creates the request.
        public init(hwnd: WindowHandle) { self.hwnd = hwnd }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) { hwnd = try Window(reading: &r).hwnd }
        public func write(to w: inout PayloadWriter) { Window(hwnd).write(to: &w) }

        /// `u32 threadId, u32 processId` (0, 0 = no such window).
        public struct Result: PipePayload, InfalliblePipePayload {
            /// The window's thread.
            public var threadId: UInt32
            /// The window's process.
            public var processId: UInt32
            /// Creates the result.
            public init(threadId: UInt32, processId: UInt32) { (self.threadId, self.processId) = (threadId, processId) }
            public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
                self.init(threadId: try r.readU32("threadId"), processId: try r.readU32("processId"))
            }
            public func write(to w: inout PayloadWriter) { w.writeU32(threadId); w.writeU32(processId) }
        }
    }

    /// `CREATE_MAPPING`: `u32 size, u32 flags, str16 name, str16 file`.
    public struct CreateMapping: PipeRequest {
        public typealias Result = CreatedHandle
        public static let frameType = FrameType.createMapping
        /// The mapping size in bytes.
        public var size: UInt32
        /// `SIPB_MAPPING_DEV_SHM` or none.
        public var flags: MappingFlags
        /// The Windows object name (may be empty for an unnamed mapping).
        public var name: String
        /// The file under `/dev/shm` when `flags` has `devShm`, else empty.
        public var file: String
        /// Creates the request.
        public init(size: UInt32, flags: MappingFlags, name: String, file: String) {
            (self.size, self.flags, self.name, self.file) = (size, flags, name, file)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            size = try r.readU32("size")
            flags = MappingFlags(rawValue: try r.readU32("flags"))
            name = try r.readStr16("name")
            file = try r.readStr16("file")
        }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
            w.writeU32(size); w.writeU32(flags.rawValue)
            try w.writeStr16(name, "name"); try w.writeStr16(file, "file")
        }
    }

    /// `OPEN_MAPPING`: `str16 name`.
    public struct OpenMapping: PipeRequest {
        public static let frameType = FrameType.openMapping
        /// The Windows object name.
        public var name: String
        /// Creates the request.
        public init(name: String) { self.name = name }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) { name = try r.readStr16("name") }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) { try w.writeStr16(name, "name") }

        /// `u64 handle, u64 size`.
        public struct Result: PipePayload, InfalliblePipePayload {
            /// The mapping handle, owned by the shim.
            public var handle: ShimHandle
            /// The size of the mapped view.
            public var size: UInt64
            /// Creates the result.
            public init(handle: ShimHandle, size: UInt64) { (self.handle, self.size) = (handle, size) }
            public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
                self.init(handle: ShimHandle(rawValue: try r.readU64("handle")), size: try r.readU64("size"))
            }
            public func write(to w: inout PayloadWriter) { w.writeU64(handle.rawValue); w.writeU64(size) }
        }
    }

    /// `READ_MAPPING`: `u64 handle, u32 offset, u32 length`; the result is `bytes`.
    public struct ReadMapping: PipeRequest, InfalliblePipePayload {
        public typealias Result = Data
        public static let frameType = FrameType.readMapping
        /// The mapping.
        public var handle: ShimHandle
        /// Where to start.
        public var offset: UInt32
        /// How many bytes.
        public var length: UInt32
        /// Creates the request.
        public init(handle: ShimHandle, offset: UInt32, length: UInt32) {
            (self.handle, self.offset, self.length) = (handle, offset, length)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            self.init(
                handle: ShimHandle(rawValue: try r.readU64("handle")), offset: try r.readU32("offset"),
                length: try r.readU32("length"))
        }
        public func write(to w: inout PayloadWriter) {
            w.writeU64(handle.rawValue); w.writeU32(offset); w.writeU32(length)
        }
    }

    /// A `bytes` field alone (the result of `READ_MAPPING`).
    public struct Data: PipePayload {
        /// The bytes.
        public var bytes: [UInt8]
        /// Wraps bytes.
        public init(_ bytes: [UInt8]) { self.bytes = bytes }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) { bytes = try r.readBytes("data") }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) { try w.writeBytes(bytes, "data") }
    }

    /// `WRITE_MAPPING`: `u64 handle, u32 offset, bytes data`.
    public struct WriteMapping: PipeRequest {
        public typealias Result = Empty
        public static let frameType = FrameType.writeMapping
        /// The mapping.
        public var handle: ShimHandle
        /// Where to start.
        public var offset: UInt32
        /// The bytes to write.
        public var data: [UInt8]
        /// Creates the request.
        public init(handle: ShimHandle, offset: UInt32, data: [UInt8]) {
            (self.handle, self.offset, self.data) = (handle, offset, data)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            handle = ShimHandle(rawValue: try r.readU64("handle"))
            offset = try r.readU32("offset")
            data = try r.readBytes("data")
        }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
            w.writeU64(handle.rawValue); w.writeU32(offset); try w.writeBytes(data, "data")
        }
    }

    /// `CREATE_EVENT`: `u32 manualReset, u32 initialState, str16 name`.
    public struct CreateEvent: PipeRequest {
        public typealias Result = CreatedHandle
        public static let frameType = FrameType.createEvent
        /// Manual-reset (true) or auto-reset event.
        public var manualReset: Bool
        /// Signalled at creation.
        public var initialState: Bool
        /// The Windows object name (may be empty).
        public var name: String
        /// Creates the request.
        public init(manualReset: Bool, initialState: Bool, name: String) {
            (self.manualReset, self.initialState, self.name) = (manualReset, initialState, name)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            manualReset = try r.readU32("manualReset") != 0
            initialState = try r.readU32("initialState") != 0
            name = try r.readStr16("name")
        }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
            w.writeU32(manualReset ? 1 : 0); w.writeU32(initialState ? 1 : 0); try w.writeStr16(name, "name")
        }
    }

    /// `OPEN_EVENT`: `u32 desiredAccess, str16 name`; the result is `u64 handle`.
    public struct OpenEvent: PipeRequest {
        public typealias Result = Handle
        public static let frameType = FrameType.openEvent
        /// The Win32 access mask (e.g. `EVENT_ALL_ACCESS` = `0x1F0003`).
        public var desiredAccess: UInt32
        /// The Windows object name.
        public var name: String
        /// Creates the request.
        public init(desiredAccess: UInt32, name: String) { (self.desiredAccess, self.name) = (desiredAccess, name) }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            desiredAccess = try r.readU32("desiredAccess")
            name = try r.readStr16("name")
        }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
            w.writeU32(desiredAccess); try w.writeStr16(name, "name")
        }
    }

    /// A single `u64 handle` (the result of `OPEN_EVENT`, the request of `CLOSE_HANDLE`).
    public struct Handle: PipePayload, InfalliblePipePayload {
        /// The handle.
        public var handle: ShimHandle
        /// Wraps a handle.
        public init(_ handle: ShimHandle) { self.handle = handle }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            handle = ShimHandle(rawValue: try r.readU64("handle"))
        }
        public func write(to w: inout PayloadWriter) { w.writeU64(handle.rawValue) }
    }

    /// `CLOSE_HANDLE`: `u64 handle`.
    public struct CloseHandle: PipeRequest, InfalliblePipePayload {
        public typealias Result = Empty
        public static let frameType = FrameType.closeHandle
        /// The handle (one the shim returned).
        public var handle: ShimHandle
        /// Creates the request.
        public init(handle: ShimHandle) { self.handle = handle }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            handle = try Handle(reading: &r).handle
        }
        public func write(to w: inout PayloadWriter) { Handle(handle).write(to: &w) }
    }

    /// `GET_PROCESS_IMAGE`: `u32 processId`; the result is a `str16` path.
    public struct GetProcessImage: PipeRequest, InfalliblePipePayload {
        public typealias Result = Text
        public static let frameType = FrameType.getProcessImage
        /// The Windows process id.
        public var processId: UInt32
        /// Creates the request.
        public init(processId: UInt32) { self.processId = processId }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) { processId = try r.readU32("processId") }
        public func write(to w: inout PayloadWriter) { w.writeU32(processId) }
    }

    /// `CALL_MAPPED`: `u64 handle, u32 writeCount (≤ 4), writeCount × (u32 offset, bytes data), u64 hwnd, u32 msg,
    /// u32 timeoutMs, u64 wParam, u64 lParam, u32 readCount (≤ 4), readCount × (u32 offset, u32 length)`.
    ///
    /// The shim writes the spans into the mapping's view, sends the message as `SEND_MESSAGE` does, then reads
    /// the spans back, all in one round trip.
    public struct CallMapped: PipeRequest {
        public static let frameType = FrameType.callMapped
        /// Bytes to write at an offset of the view, before the send.
        public struct Write: Hashable, Sendable {
            /// Where, from the start of the view.
            public var offset: UInt32
            /// What.
            public var data: [UInt8]
            /// Creates a write.
            public init(offset: UInt32, data: [UInt8]) { (self.offset, self.data) = (offset, data) }
        }
        /// A range of the view to read after the send.
        public struct Read: Hashable, Sendable {
            /// Where, from the start of the view.
            public var offset: UInt32
            /// How many bytes.
            public var length: UInt32
            /// Creates a read.
            public init(offset: UInt32, length: UInt32) { (self.offset, self.length) = (offset, length) }
        }

        /// The mapping (from `OPEN_MAPPING` or `CREATE_MAPPING`).
        public var handle: ShimHandle
        /// Done in order before the send (at most ``PipeProtocol/maxMappedSpans``).
        public var writes: [Write]
        /// The target window.
        public var hwnd: WindowHandle
        /// The message.
        public var message: UInt32
        /// 0 = no timeout.
        public var timeoutMs: UInt32
        /// `WPARAM`.
        public var wParam: UInt64
        /// `LPARAM`.
        public var lParam: UInt64
        /// Done in order after a delivered send (at most ``PipeProtocol/maxMappedSpans``).
        public var reads: [Read]
        /// Creates the request.
        public init(
            handle: ShimHandle, writes: [Write], hwnd: WindowHandle, message: UInt32, timeoutMs: UInt32,
            wParam: UInt64, lParam: UInt64, reads: [Read]
        ) {
            (self.handle, self.writes, self.hwnd, self.message) = (handle, writes, hwnd, message)
            (self.timeoutMs, self.wParam, self.lParam, self.reads) = (timeoutMs, wParam, lParam, reads)
        }

        static func readCount(_ r: inout PayloadReader, _ field: String) throws(PipeProtocolError) -> UInt32 {
            let count = try r.readU32(field)
            guard count <= PipeProtocol.maxMappedSpans else {
                throw .countTooLarge(frame: r.frame, field: field, count: count, limit: PipeProtocol.maxMappedSpans)
            }
            return count
        }

        static func checkCount(_ count: Int, _ field: String) throws(PipeProtocolError) {
            guard count <= Int(PipeProtocol.maxMappedSpans) else {
                throw .countTooLarge(
                    frame: frameType, field: field, count: UInt32(clamping: count), limit: PipeProtocol.maxMappedSpans)
            }
        }

        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            handle = ShimHandle(rawValue: try r.readU64("handle"))
            var writes: [Write] = []
            for _ in 0..<(try Self.readCount(&r, "writeCount")) {
                writes.append(Write(offset: try r.readU32("offset"), data: try r.readBytes("data")))
            }
            self.writes = writes
            hwnd = WindowHandle(rawValue: try r.readU64("hwnd"))
            message = try r.readU32("msg")
            timeoutMs = try r.readU32("timeoutMs")
            wParam = try r.readU64("wParam")
            lParam = try r.readU64("lParam")
            var reads: [Read] = []
            for _ in 0..<(try Self.readCount(&r, "readCount")) {
                reads.append(Read(offset: try r.readU32("offset"), length: try r.readU32("length")))
            }
            self.reads = reads
        }

        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
            try Self.checkCount(writes.count, "writeCount")
            try Self.checkCount(reads.count, "readCount")
            w.writeU64(handle.rawValue)
            w.writeU32(UInt32(writes.count))
            for write in writes {
                w.writeU32(write.offset)
                try w.writeBytes(write.data, "data")
            }
            w.writeU64(hwnd.rawValue); w.writeU32(message); w.writeU32(timeoutMs); w.writeU64(wParam)
            w.writeU64(lParam)
            w.writeU32(UInt32(reads.count))
            for read in reads { w.writeU32(read.offset); w.writeU32(read.length) }
        }

        /// `i64 lresult, u32 delivered, u32 lastError, u32 readCount, readCount × bytes`.
        public struct Result: PipePayload {
            /// The target's return value (0 when not delivered).
            public var lresult: Int64
            /// False when the target died or was not a window (then there are no reads).
            public var delivered: Bool
            /// `GetLastError()` after the send.
            public var lastError: UInt32
            /// The bytes of each read, in the request's order.
            public var reads: [[UInt8]]
            /// Creates the result.
            public init(lresult: Int64, delivered: Bool, lastError: UInt32 = 0, reads: [[UInt8]]) {
                (self.lresult, self.delivered, self.lastError, self.reads) = (lresult, delivered, lastError, reads)
            }
            public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
                lresult = try r.readI64("lresult")
                delivered = try r.readU32("delivered") != 0
                lastError = try r.readU32("lastError")
                var reads: [[UInt8]] = []
                for _ in 0..<(try CallMapped.readCount(&r, "readCount")) { reads.append(try r.readBytes("data")) }
                self.reads = reads
            }
            public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
                try CallMapped.checkCount(reads.count, "readCount")
                w.writeI64(lresult); w.writeU32(delivered ? 1 : 0); w.writeU32(lastError)
                w.writeU32(UInt32(reads.count))
                for read in reads { try w.writeBytes(read, "data") }
            }
        }
    }

    /// A single `str16`.
    public struct Text: PipePayload {
        /// The string.
        public var text: String
        /// Wraps a string.
        public init(_ text: String) { self.text = text }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) { text = try r.readStr16("text") }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) { try w.writeStr16(text, "text") }
    }

    // MARK: Shim → host events

    /// `EV_MESSAGE`: `u64 hwnd, u32 msg, u32 kind, u64 wParam, u64 lParam`.
    public struct MessageEvent: PipePayload, InfalliblePipePayload {
        /// The host window that received the message.
        public var hwnd: WindowHandle
        /// The message.
        public var message: UInt32
        /// Sent (answer expected) or posted.
        public var kind: MessageKind
        /// `WPARAM`.
        public var wParam: UInt64
        /// `LPARAM`.
        public var lParam: UInt64
        /// Creates the event.
        public init(hwnd: WindowHandle, message: UInt32, kind: MessageKind, wParam: UInt64, lParam: UInt64) {
            (self.hwnd, self.message, self.kind, self.wParam, self.lParam) = (hwnd, message, kind, wParam, lParam)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            hwnd = WindowHandle(rawValue: try r.readU64("hwnd"))
            message = try r.readU32("msg")
            let kind = try r.readU32("kind")
            guard kind <= MessageKind.posted.rawValue else {
                throw .invalidValue(frame: r.frame, field: "kind", value: UInt64(kind))
            }
            self.kind = MessageKind(rawValue: kind)
            wParam = try r.readU64("wParam")
            lParam = try r.readU64("lParam")
        }
        public func write(to w: inout PayloadWriter) {
            w.writeU64(hwnd.rawValue); w.writeU32(message); w.writeU32(kind.rawValue); w.writeU64(wParam);
            w.writeU64(lParam)
        }
    }

    /// `EV_COPYDATA_UPLOADED`: `u64 hwnd, u64 wParam (sender HWND), u64 dwData, u32 length`; the bytes are the
    /// upload area's first `length` data bytes (``ShimUpload``).
    public struct CopyDataUploadedEvent: PipePayload, InfalliblePipePayload {
        /// The host window that received `WM_COPYDATA`.
        public var hwnd: WindowHandle
        /// The sender window (`WPARAM`).
        public var sender: WindowHandle
        /// `COPYDATASTRUCT.dwData`.
        public var dwData: UInt64
        /// How many bytes the upload area holds (checked against its capacity when they are taken).
        public var length: UInt32
        /// Creates the event.
        public init(hwnd: WindowHandle, sender: WindowHandle, dwData: UInt64, length: UInt32) {
            (self.hwnd, self.sender, self.dwData, self.length) = (hwnd, sender, dwData, length)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            hwnd = WindowHandle(rawValue: try r.readU64("hwnd"))
            sender = WindowHandle(rawValue: try r.readU64("wParam"))
            dwData = try r.readU64("dwData")
            length = try r.readU32("length")
        }
        public func write(to w: inout PayloadWriter) {
            w.writeU64(hwnd.rawValue); w.writeU64(sender.rawValue); w.writeU64(dwData); w.writeU32(length)
        }
    }

    /// `EV_COPYDATA`: `u64 hwnd, u64 wParam (sender HWND), u64 dwData, bytes data`.
    public struct CopyDataEvent: PipePayload {
        /// The host window that received `WM_COPYDATA`.
        public var hwnd: WindowHandle
        /// The sender window (`WPARAM`).
        public var sender: WindowHandle
        /// `COPYDATASTRUCT.dwData`.
        public var dwData: UInt64
        /// A copy of the bytes.
        public var data: [UInt8]
        /// Creates the event.
        public init(hwnd: WindowHandle, sender: WindowHandle, dwData: UInt64, data: [UInt8]) {
            (self.hwnd, self.sender, self.dwData, self.data) = (hwnd, sender, dwData, data)
        }
        public init(reading r: inout PayloadReader) throws(PipeProtocolError) {
            hwnd = WindowHandle(rawValue: try r.readU64("hwnd"))
            sender = WindowHandle(rawValue: try r.readU64("wParam"))
            dwData = try r.readU64("dwData")
            data = try r.readBytes("data")
        }
        public func write(to w: inout PayloadWriter) throws(PipeProtocolError) {
            w.writeU64(hwnd.rawValue); w.writeU64(sender.rawValue); w.writeU64(dwData); try w.writeBytes(data, "data")
        }

        /// Decodes a payload like ``init(decoding:frame:)``, with the same checks, but keeps the payload's own
        /// storage for ``data``: the fixed fields in front are moved out of the way in place, so a large
        /// `WM_COPYDATA` is neither copied again nor given fresh memory (whose page faults cost more than the
        /// copy). The storage is reused only when nothing else holds the payload; otherwise it is copied.
        /// - Parameter payload: The frame's payload, given up by the caller.
        /// - Throws: ``PipeProtocolError`` as ``init(decoding:frame:)``.
        public init(taking payload: consuming [UInt8]) throws(PipeProtocolError) {
            var bytes = payload
            let fixed = 28  // u64 hwnd, u64 wParam, u64 dwData, u32 data.length
            (hwnd, sender, dwData) = try Self.fixedFields(of: bytes)
            // The reader that checked them is gone: `bytes` holds the only reference again.
            bytes.removeSubrange(0..<fixed)
            data = bytes
        }

        /// Reads and checks the fields in front of the data, and that the data fills the rest exactly.
        private static func fixedFields(of bytes: [UInt8]) throws(PipeProtocolError) -> (
            WindowHandle, WindowHandle, UInt64
        ) {
            var reader = PayloadReader(bytes, frame: .eventCopyData)
            let hwnd = WindowHandle(rawValue: try reader.readU64("hwnd"))
            let sender = WindowHandle(rawValue: try reader.readU64("wParam"))
            let dwData = try reader.readU64("dwData")
            let length = Int(try reader.readU32("data.length"))
            if length > reader.remaining {
                throw .truncated(frame: .eventCopyData, field: "data", needed: length, remaining: reader.remaining)
            }
            if length < reader.remaining {
                throw .trailingBytes(frame: .eventCopyData, count: reader.remaining - length)
            }
            return (hwnd, sender, dwData)
        }
    }
}
