/// What was wrong with bytes received on the pipe (or with a value that cannot be put on it).
///
/// Every check of the framing and payload rules in `docs/PROTOCOL.md` throws one of these; none of them traps.
public enum PipeProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The size field is below `SIPB_FRAME_HEADER_TAIL` (8).
    case frameTooSmall(size: UInt32)
    /// The size field is above `8 + SIPB_MAX_PAYLOAD`.
    case frameTooLarge(size: UInt32)
    /// The reserved flags field is not zero.
    case nonZeroFlags(type: FrameType, flags: UInt16)
    /// A field needs more bytes than the payload has left.
    case truncated(frame: FrameType, field: String, needed: Int, remaining: Int)
    /// A count (`str16` units, list entries) is above its limit.
    case countTooLarge(frame: FrameType, field: String, count: UInt32, limit: UInt32)
    /// Bytes are left after the last field of a payload.
    case trailingBytes(frame: FrameType, count: Int)
    /// A field holds a value the protocol does not allow there.
    case invalidValue(frame: FrameType, field: String, value: UInt64)
    /// A frame arrived that is not allowed at this point (wrong direction, wrong tag, unknown type, …).
    case unexpectedFrame(type: FrameType, tag: UInt32, why: String)
    /// `HELLO` or `HELLO_ACK` carried a wrong magic number.
    case badMagic(UInt32)
    /// The peer speaks another major version.
    case versionMismatch(peerMajor: UInt16, peerMinor: UInt16)

    /// The `SIPB_E_*` reason to report in a `PROTOCOL_ERROR` frame.
    public var reason: ReasonCode { if case .versionMismatch = self { .version } else { .malformed } }

    /// One sentence saying what was wrong.
    public var description: String {
        switch self {
        case .frameTooSmall(let size):
            "frame size field \(size) is below the minimum \(PipeProtocol.minFrameSize)"
        case .frameTooLarge(let size):
            "frame size field \(size) is above the maximum \(PipeProtocol.maxFrameSize)"
        case .nonZeroFlags(let type, let flags):
            "\(type) frame has non-zero flags 0x\(String(flags, radix: 16))"
        case .truncated(let frame, let field, let needed, let remaining):
            "\(frame) payload truncated at field '\(field)': needs \(needed) bytes, \(remaining) left"
        case .countTooLarge(let frame, let field, let count, let limit):
            "\(frame) field '\(field)' has count \(count), above the limit \(limit)"
        case .trailingBytes(let frame, let count):
            "\(frame) payload has \(count) trailing bytes after its last field"
        case .invalidValue(let frame, let field, let value):
            "\(frame) field '\(field)' has the invalid value \(value)"
        case .unexpectedFrame(let type, let tag, let why):
            "unexpected \(type) frame (tag \(tag)): \(why)"
        case .badMagic(let magic):
            "handshake magic 0x\(String(magic, radix: 16)) is not 0x\(String(PipeProtocol.magic, radix: 16))"
        case .versionMismatch(let major, let minor):
            "peer speaks protocol \(major).\(minor), this host speaks \(PipeProtocol.versionMajor).x"
        }
    }
}

/// One frame of the pipe protocol: `u32 size, u16 type, u16 flags, u32 tag`, then the payload.
public struct PipeFrame: Equatable, Sendable, CustomStringConvertible {
    /// The frame type (`SIPB_T_*`).
    public var type: FrameType
    /// The reserved flags field; always 0 in a valid frame.
    public var flags: UInt16
    /// The request tag, the answered tag for a `REPLY`, or 0.
    public var tag: UInt32
    /// The payload bytes (at most `SIPB_MAX_PAYLOAD`).
    public var payload: [UInt8]

    /// Creates a frame.
    /// - Parameters:
    ///   - type: The frame type.
    ///   - tag: The request tag (0 when no answer is expected).
    ///   - payload: The payload bytes.
    ///   - flags: The reserved flags; leave at 0 except to test a peer's checks.
    public init(type: FrameType, tag: UInt32 = 0, payload: [UInt8] = [], flags: UInt16 = 0) {
        self.type = type
        self.flags = flags
        self.tag = tag
        self.payload = payload
    }

    /// The 12 header bytes of this frame (size, type, flags, tag; little-endian).
    /// - Throws: ``PipeProtocolError/frameTooLarge(size:)`` when the payload is above `SIPB_MAX_PAYLOAD`.
    public func encodedHeader() throws(PipeProtocolError) -> [UInt8] {
        guard payload.count <= Int(PipeProtocol.maxPayload) else {
            throw .frameTooLarge(size: UInt32(clamping: payload.count + PipeProtocol.frameHeaderTailSize))
        }
        var header = PayloadWriter(capacity: PipeProtocol.frameHeaderSize)
        header.writeU32(UInt32(PipeProtocol.frameHeaderTailSize + payload.count))
        header.writeU16(type.rawValue)
        header.writeU16(flags)
        header.writeU32(tag)
        return header.bytes
    }

    /// The whole frame as bytes: header then payload.
    /// - Throws: ``PipeProtocolError/frameTooLarge(size:)`` when the payload is above `SIPB_MAX_PAYLOAD`.
    public func encoded() throws(PipeProtocolError) -> [UInt8] {
        var bytes = try encodedHeader()
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// `TYPE tag=N (M bytes)`.
    public var description: String { "\(type) tag=\(tag) (\(payload.count) bytes)" }
}

/// Cuts a byte stream into frames. Bytes may arrive in chunks of any size (short reads): feed them with
/// ``append(_:)`` and take complete frames with ``nextFrame()`` until it returns `nil`.
///
/// The header is checked as soon as its bytes are there (size range, then flags), so a bad frame is reported
/// without waiting for a payload that may never come. After an error the decoder stays failed: every later
/// ``nextFrame()`` throws the same error, since the stream cannot be resynchronised.
public struct PipeFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: PipeProtocolError?

    /// Creates an empty decoder.
    public init() {}

    /// The number of bytes received and not yet returned as part of a frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds received bytes to the end of the stream.
    /// - Parameter bytes: The next bytes, in order.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes to the end of the stream.
    /// - Parameter bytes: The next bytes, in order; copied.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    /// Returns the next complete frame, or `nil` when more bytes are needed.
    /// - Throws: ``PipeProtocolError`` when the header breaks the framing rules; the decoder stays failed.
    public mutating func nextFrame() throws(PipeProtocolError) -> PipeFrame? {
        if let failure { throw failure }
        let available = buffer.count - start
        guard available >= PipeProtocol.framePrefixSize else { return nil }
        let size = readU32(at: start)
        if size < PipeProtocol.minFrameSize { return try fail(.frameTooSmall(size: size)) }
        if size > PipeProtocol.maxFrameSize { return try fail(.frameTooLarge(size: size)) }
        guard available >= PipeProtocol.framePrefixSize + 4 else { return nil }
        let type = FrameType(rawValue: readU16(at: start + 4))
        let flags = readU16(at: start + 6)
        if flags != 0 { return try fail(.nonZeroFlags(type: type, flags: flags)) }
        let total = PipeProtocol.framePrefixSize + Int(size)
        guard available >= total else {
            buffer.reserveCapacity(start + total)
            return nil
        }
        let tag = readU32(at: start + 8)
        let payload = Array(buffer[(start + PipeProtocol.frameHeaderSize)..<(start + total)])
        start += total
        if start == buffer.count {
            // Kept up to 4 MiB: a stream of large WM_COPYDATA frames (Wine carries up to about 2 MB) then
            // reuses memory that is already faulted in instead of mapping fresh megabytes each time.
            buffer.removeAll(keepingCapacity: buffer.capacity <= 4 << 20)
            start = 0
        }
        return PipeFrame(type: type, tag: tag, payload: payload)
    }

    private mutating func fail(_ error: PipeProtocolError) throws(PipeProtocolError) -> PipeFrame? {
        failure = error
        throw error
    }

    private mutating func compactIfWorthwhile() {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    private func readU16(at offset: Int) -> UInt16 {
        UInt16(buffer[offset]) | UInt16(buffer[offset + 1]) << 8
    }

    private func readU32(at offset: Int) -> UInt32 {
        UInt32(buffer[offset]) | UInt32(buffer[offset + 1]) << 8 | UInt32(buffer[offset + 2]) << 16
            | UInt32(buffer[offset + 3]) << 24
    }
}
