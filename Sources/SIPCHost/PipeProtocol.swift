// The Swift mirror of win32-shim/include/sipb_protocol.h. Every `#define SIPB_...` in that header has exactly
// one counterpart here, listed in `PipeProtocol.cConstants`; a test parses the header and compares the two.

/// The numbers of the pipe protocol between the host and `sipc-shim.exe` (see `docs/PROTOCOL.md`).
public enum PipeProtocol {
    /// `SIPB_MAGIC`: "SIPB" read as a little-endian `UInt32`, sent in `HELLO` and `HELLO_ACK`.
    public static let magic: UInt32 = 0x4250_4953
    /// `SIPB_VERSION_MAJOR`: peers with different major versions refuse each other.
    public static let versionMajor: UInt16 = 1
    /// `SIPB_VERSION_MINOR`: informational; minor versions are compatible (1.1 added the ring: `HELLO` flags,
    /// `DOORBELL`; 1.2 the upload area: `EV_COPYDATA_UPLOADED`. An older peer never sets or sends them, and ring
    /// and upload area are used only when both sides take part).
    public static let versionMinor: UInt16 = 2

    /// `SIPB_FRAME_PREFIX`: the size of the leading `u32 size` field.
    public static let framePrefixSize = 4
    /// `SIPB_FRAME_HEADER_TAIL`: type, flags and tag; counted in the size field.
    public static let frameHeaderTailSize = 8
    /// `SIPB_FRAME_HEADER`: the whole header, prefix plus tail.
    public static let frameHeaderSize = 12
    /// `SIPB_MAX_PAYLOAD`: the largest payload a frame may carry (64 MiB + 64 KiB).
    public static let maxPayload: UInt32 = 67_174_400
    /// `SIPB_MAX_STR16`: the largest unit count of a `str16` field.
    public static let maxStr16Units: UInt32 = 32767
    /// `SIPB_MAX_WINDOW_MESSAGES`: the most messages one `CREATE_WINDOW` may relay.
    public static let maxWindowMessages: UInt32 = 256
    /// `SIPB_MAX_MAPPED_SPANS`: the most writes, and the most reads, of one `CALL_MAPPED`.
    public static let maxMappedSpans: UInt32 = 4

    /// The smallest legal value of the size field (a frame with an empty payload).
    public static let minFrameSize: UInt32 = UInt32(frameHeaderTailSize)
    /// The largest legal value of the size field.
    public static let maxFrameSize: UInt32 = UInt32(frameHeaderTailSize) + maxPayload

    /// Every `SIPB_*` name of the C header with the value the Swift mirror gives it, in the header's order.
    ///
    /// The entries are built from the typed constants, so a test that checks this table against the header
    /// checks the typed constants too.
    public static let cConstants: [(name: String, value: UInt64)] =
        [
            ("SIPB_MAGIC", UInt64(magic)),
            ("SIPB_VERSION_MAJOR", UInt64(versionMajor)),
            ("SIPB_VERSION_MINOR", UInt64(versionMinor)),
            ("SIPB_FRAME_PREFIX", UInt64(framePrefixSize)),
            ("SIPB_FRAME_HEADER_TAIL", UInt64(frameHeaderTailSize)),
            ("SIPB_FRAME_HEADER", UInt64(frameHeaderSize)),
            ("SIPB_MAX_PAYLOAD", UInt64(maxPayload)),
            ("SIPB_MAX_STR16", UInt64(maxStr16Units)),
            ("SIPB_MAX_WINDOW_MESSAGES", UInt64(maxWindowMessages)),
        ]
        + FrameType.known.map { ("SIPB_T_\($0.name)", UInt64($0.rawValue)) }
        + [("SIPB_MAX_MAPPED_SPANS", UInt64(maxMappedSpans))]
        + ReplyStatus.known.map { ("SIPB_S_\($0.name)", UInt64($0.rawValue)) }
        + WindowKind.known.map { ("SIPB_WINDOW_\($0.name)", UInt64($0.rawValue)) }
        + [("SIPB_MAPPING_DEV_SHM", UInt64(MappingFlags.devShm.rawValue))]
        + MessageKind.known.map { ("SIPB_MESSAGE_\($0.name)", UInt64($0.rawValue)) }
        + ReasonCode.known.map { ("SIPB_E_\($0.name)", UInt64($0.rawValue)) }
        + [("SIPB_HWND_MESSAGE", WindowHandle.message.rawValue)]
        + ShimRing.Layout.cConstants
        + ShimUpload.Layout.cConstants
}

/// A frame's `u16 type` (`SIPB_T_*`). Unknown values are representable, so a received frame of a type this
/// build does not know can still be reported.
public struct FrameType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    public let rawValue: UInt16
    /// Creates a frame type from its wire value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `SIPB_T_HELLO`: shim → host, tag 0, first frame of the shim.
    public static let hello = FrameType(rawValue: 0x0001)
    /// `SIPB_T_HELLO_ACK`: host → shim, tag 0.
    public static let helloAck = FrameType(rawValue: 0x0002)
    /// `SIPB_T_GOODBYE`: either direction, tag 0, an orderly end.
    public static let goodbye = FrameType(rawValue: 0x0003)
    /// `SIPB_T_REPLY`: either direction, answers the other side's request `tag`.
    public static let reply = FrameType(rawValue: 0x0004)
    /// `SIPB_T_PROTOCOL_ERROR`: either direction, tag 0; the sender closes after it.
    public static let protocolError = FrameType(rawValue: 0x0005)
    /// `SIPB_T_DOORBELL`: host → shim, tag 0, no payload: a frame is waiting in the ring (``ShimRing``).
    public static let doorbell = FrameType(rawValue: 0x0006)
    /// `SIPB_T_CREATE_WINDOW`
    public static let createWindow = FrameType(rawValue: 0x0100)
    /// `SIPB_T_DESTROY_WINDOW`
    public static let destroyWindow = FrameType(rawValue: 0x0101)
    /// `SIPB_T_SEND_MESSAGE`
    public static let sendMessage = FrameType(rawValue: 0x0102)
    /// `SIPB_T_POST_MESSAGE`
    public static let postMessage = FrameType(rawValue: 0x0103)
    /// `SIPB_T_SEND_COPYDATA`
    public static let sendCopyData = FrameType(rawValue: 0x0104)
    /// `SIPB_T_FIND_WINDOW`
    public static let findWindow = FrameType(rawValue: 0x0105)
    /// `SIPB_T_IS_WINDOW`
    public static let isWindow = FrameType(rawValue: 0x0106)
    /// `SIPB_T_GET_WINDOW_THREAD_PROCESS_ID`
    public static let getWindowThreadProcessId = FrameType(rawValue: 0x0107)
    /// `SIPB_T_CREATE_MAPPING`
    public static let createMapping = FrameType(rawValue: 0x0108)
    /// `SIPB_T_OPEN_MAPPING`
    public static let openMapping = FrameType(rawValue: 0x0109)
    /// `SIPB_T_READ_MAPPING`
    public static let readMapping = FrameType(rawValue: 0x010A)
    /// `SIPB_T_WRITE_MAPPING`
    public static let writeMapping = FrameType(rawValue: 0x010B)
    /// `SIPB_T_CREATE_EVENT`
    public static let createEvent = FrameType(rawValue: 0x010C)
    /// `SIPB_T_OPEN_EVENT`
    public static let openEvent = FrameType(rawValue: 0x010D)
    /// `SIPB_T_CLOSE_HANDLE`
    public static let closeHandle = FrameType(rawValue: 0x010E)
    /// `SIPB_T_GET_PROCESS_IMAGE`
    public static let getProcessImage = FrameType(rawValue: 0x010F)
    /// `SIPB_T_CALL_MAPPED`: writes into a mapping, `SEND_MESSAGE`, reads from the mapping, in one round trip.
    public static let callMapped = FrameType(rawValue: 0x0110)
    /// `SIPB_T_EV_MESSAGE`: shim → host; tag ≠ 0 for a sent message, 0 for a posted one.
    public static let eventMessage = FrameType(rawValue: 0x0200)
    /// `SIPB_T_EV_COPYDATA`: shim → host, tag ≠ 0.
    public static let eventCopyData = FrameType(rawValue: 0x0201)
    /// `SIPB_T_EV_COPYDATA_UPLOADED` (protocol 1.2): shim → host, tag ≠ 0; `EV_COPYDATA` whose bytes are in the
    /// upload area (``ShimUpload``).
    public static let eventCopyDataUploaded = FrameType(rawValue: 0x0202)

    /// Every type the protocol defines, with the name it has in the C header after `SIPB_T_`.
    public static let known: [(name: String, rawValue: UInt16)] = [
        ("HELLO", hello.rawValue), ("HELLO_ACK", helloAck.rawValue), ("GOODBYE", goodbye.rawValue),
        ("REPLY", reply.rawValue), ("PROTOCOL_ERROR", protocolError.rawValue), ("DOORBELL", doorbell.rawValue),
        ("CREATE_WINDOW", createWindow.rawValue), ("DESTROY_WINDOW", destroyWindow.rawValue),
        ("SEND_MESSAGE", sendMessage.rawValue), ("POST_MESSAGE", postMessage.rawValue),
        ("SEND_COPYDATA", sendCopyData.rawValue), ("FIND_WINDOW", findWindow.rawValue),
        ("IS_WINDOW", isWindow.rawValue), ("GET_WINDOW_THREAD_PROCESS_ID", getWindowThreadProcessId.rawValue),
        ("CREATE_MAPPING", createMapping.rawValue), ("OPEN_MAPPING", openMapping.rawValue),
        ("READ_MAPPING", readMapping.rawValue), ("WRITE_MAPPING", writeMapping.rawValue),
        ("CREATE_EVENT", createEvent.rawValue), ("OPEN_EVENT", openEvent.rawValue),
        ("CLOSE_HANDLE", closeHandle.rawValue), ("GET_PROCESS_IMAGE", getProcessImage.rawValue),
        ("CALL_MAPPED", callMapped.rawValue),
        ("EV_MESSAGE", eventMessage.rawValue), ("EV_COPYDATA", eventCopyData.rawValue),
        ("EV_COPYDATA_UPLOADED", eventCopyDataUploaded.rawValue),
    ]

    /// True for the host → shim request types (`0x0100`…`0x01FF`).
    public var isHostRequest: Bool { rawValue & 0xFF00 == 0x0100 }

    /// The C name without `SIPB_T_`, or the hexadecimal value when unknown.
    public var description: String {
        Self.known.first { $0.rawValue == rawValue }?.name ?? "type 0x\(String(rawValue, radix: 16))"
    }
}

/// The first `u32` of a `REPLY` payload (`SIPB_S_*`).
public struct ReplyStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    public let rawValue: UInt32
    /// Creates a status from its wire value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `SIPB_S_OK`: the result payload follows.
    public static let ok = ReplyStatus(rawValue: 0)
    /// `SIPB_S_BAD_REQUEST`: malformed or out-of-range payload.
    public static let badRequest = ReplyStatus(rawValue: 1)
    /// `SIPB_S_UNKNOWN_TYPE`: request type not known to the receiver.
    public static let unknownType = ReplyStatus(rawValue: 2)
    /// `SIPB_S_NOT_FOUND`: unknown window or handle (or, from the host, no handler registered).
    public static let notFound = ReplyStatus(rawValue: 3)
    /// `SIPB_S_WIN32_ERROR`: a Win32 call failed; `u32 GetLastError()` follows.
    public static let win32Error = ReplyStatus(rawValue: 4)
    /// `SIPB_S_TIMEOUT`: the request's timeout elapsed.
    public static let timeout = ReplyStatus(rawValue: 5)
    /// `SIPB_S_SHUTTING_DOWN`: the receiver is going away.
    public static let shuttingDown = ReplyStatus(rawValue: 6)

    /// Every status the protocol defines, with its C name after `SIPB_S_`.
    public static let known: [(name: String, rawValue: UInt32)] = [
        ("OK", 0), ("BAD_REQUEST", 1), ("UNKNOWN_TYPE", 2), ("NOT_FOUND", 3), ("WIN32_ERROR", 4),
        ("TIMEOUT", 5), ("SHUTTING_DOWN", 6),
    ]

    /// The C name without `SIPB_S_`, or the number when unknown.
    public var description: String { Self.known.first { $0.rawValue == rawValue }?.name ?? "status \(rawValue)" }
}

/// The `kind` of a `CREATE_WINDOW` request (`SIPB_WINDOW_*`).
public struct WindowKind: RawRepresentable, Hashable, Sendable {
    /// The wire value.
    public let rawValue: UInt32
    /// Creates a kind from its wire value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `SIPB_WINDOW_MESSAGE_ONLY`: parent `HWND_MESSAGE`; needs no display.
    public static let messageOnly = WindowKind(rawValue: 0)
    /// `SIPB_WINDOW_TOP_LEVEL`: an invisible `WS_POPUP`; needs a display under Wine.
    public static let topLevel = WindowKind(rawValue: 1)
    /// Every kind with its C name after `SIPB_WINDOW_`.
    public static let known: [(name: String, rawValue: UInt32)] = [("MESSAGE_ONLY", 0), ("TOP_LEVEL", 1)]
}

/// The `flags` of a `CREATE_MAPPING` request (`SIPB_MAPPING_*`).
public struct MappingFlags: OptionSet, Hashable, Sendable {
    /// The wire value.
    public let rawValue: UInt32
    /// Creates flags from their wire value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `SIPB_MAPPING_DEV_SHM`: back the mapping with `Z:\dev\shm\<file>`.
    public static let devShm = MappingFlags(rawValue: 1)
}

/// The `kind` field of an `EV_MESSAGE` event (`SIPB_MESSAGE_*`).
public struct MessageKind: RawRepresentable, Hashable, Sendable {
    /// The wire value.
    public let rawValue: UInt32
    /// Creates a kind from its wire value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `SIPB_MESSAGE_SENT`: a sent message; the event has a tag and wants an `LRESULT`.
    public static let sent = MessageKind(rawValue: 0)
    /// `SIPB_MESSAGE_POSTED`: a posted message; tag 0, no answer.
    public static let posted = MessageKind(rawValue: 1)
    /// Every kind with its C name after `SIPB_MESSAGE_`.
    public static let known: [(name: String, rawValue: UInt32)] = [("SENT", 0), ("POSTED", 1)]
}

/// The reason of a `GOODBYE` or `PROTOCOL_ERROR` frame (`SIPB_E_*`).
public struct ReasonCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    public let rawValue: UInt32
    /// Creates a reason from its wire value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `SIPB_E_NONE`
    public static let none = ReasonCode(rawValue: 0)
    /// `SIPB_E_VERSION`: handshake version mismatch.
    public static let version = ReasonCode(rawValue: 1)
    /// `SIPB_E_MALFORMED`: a frame broke the framing or payload rules.
    public static let malformed = ReasonCode(rawValue: 2)
    /// `SIPB_E_IO`: the pipe failed.
    public static let io = ReasonCode(rawValue: 3)
    /// `SIPB_E_INTERNAL`
    public static let `internal` = ReasonCode(rawValue: 4)
    /// Every reason with its C name after `SIPB_E_`.
    public static let known: [(name: String, rawValue: UInt32)] = [
        ("NONE", 0), ("VERSION", 1), ("MALFORMED", 2), ("IO", 3), ("INTERNAL", 4),
    ]
    /// The C name without `SIPB_E_`, or the number when unknown.
    public var description: String { Self.known.first { $0.rawValue == rawValue }?.name ?? "reason \(rawValue)" }
}

/// A window handle (`HWND`) as it travels on the pipe: a `u64`.
public struct WindowHandle: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The handle's value.
    public let rawValue: UInt64
    /// Wraps a handle value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The null window (`NULL`): "none", or the desktop as a `FIND_WINDOW` parent.
    public static let null = WindowHandle(rawValue: 0)
    /// `SIPB_HWND_MESSAGE`: `HWND_MESSAGE`, `(HWND)-3`, the parent of message-only windows.
    public static let message = WindowHandle(rawValue: 0xFFFF_FFFF_FFFF_FFFD)
    /// `0x…` in hexadecimal.
    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// A kernel handle (mapping, event) owned by the shim process, as it travels on the pipe: a `u64`.
public struct ShimHandle: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The handle's value in the shim process.
    public let rawValue: UInt64
    /// Wraps a handle value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// `0x…` in hexadecimal.
    public var description: String { "0x" + String(rawValue, radix: 16) }
}
