/// Reads the fields of one frame payload, front to back, checking every length against what is left.
///
/// All integers are little-endian. Each read names its field, so an error says which field did not fit.
/// Call ``finish()`` after the last field: trailing bytes are a protocol error.
public struct PayloadReader: Sendable {
    /// The payload being read.
    public let bytes: [UInt8]
    /// The offset of the next unread byte.
    public private(set) var offset: Int = 0
    /// The frame type, used in error messages.
    public let frame: FrameType

    /// Starts reading a payload.
    /// - Parameters:
    ///   - bytes: The payload.
    ///   - frame: The type of the frame it came in, for error messages.
    public init(_ bytes: [UInt8], frame: FrameType) {
        self.bytes = bytes
        self.frame = frame
    }

    /// The number of bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int, _ field: String) throws(PipeProtocolError) -> Range<Int> {
        guard count <= remaining else {
            throw .truncated(frame: frame, field: field, needed: count, remaining: remaining)
        }
        defer { offset += count }
        return offset..<(offset + count)
    }

    private mutating func readInteger<T: FixedWidthInteger & UnsignedInteger>(
        _: T.Type, _ field: String
    ) throws(PipeProtocolError) -> T {
        let range = try take(MemoryLayout<T>.size, field)
        var value: T = 0
        for index in range.reversed() { value = value << 8 | T(bytes[index]) }
        return value
    }

    /// Reads a little-endian `u16`.
    /// - Parameter field: The field's name, for errors.
    /// - Throws: ``PipeProtocolError/truncated(frame:field:needed:remaining:)``.
    public mutating func readU16(_ field: String) throws(PipeProtocolError) -> UInt16 {
        try readInteger(UInt16.self, field)
    }

    /// Reads a little-endian `u32`.
    /// - Parameter field: The field's name, for errors.
    /// - Throws: ``PipeProtocolError/truncated(frame:field:needed:remaining:)``.
    public mutating func readU32(_ field: String) throws(PipeProtocolError) -> UInt32 {
        try readInteger(UInt32.self, field)
    }

    /// Reads a little-endian `u64`.
    /// - Parameter field: The field's name, for errors.
    /// - Throws: ``PipeProtocolError/truncated(frame:field:needed:remaining:)``.
    public mutating func readU64(_ field: String) throws(PipeProtocolError) -> UInt64 {
        try readInteger(UInt64.self, field)
    }

    /// Reads a little-endian two's-complement `i64`.
    /// - Parameter field: The field's name, for errors.
    /// - Throws: ``PipeProtocolError/truncated(frame:field:needed:remaining:)``.
    public mutating func readI64(_ field: String) throws(PipeProtocolError) -> Int64 {
        Int64(bitPattern: try readInteger(UInt64.self, field))
    }

    /// Reads a `str16` as UTF-16 code units: `u32` count (≤ `SIPB_MAX_STR16`), then the units.
    /// - Parameter field: The field's name, for errors.
    /// - Throws: ``PipeProtocolError/countTooLarge(frame:field:count:limit:)`` or
    ///   ``PipeProtocolError/truncated(frame:field:needed:remaining:)``.
    public mutating func readStr16Units(_ field: String) throws(PipeProtocolError) -> [UInt16] {
        let count = try readU32(field + ".count")
        guard count <= PipeProtocol.maxStr16Units else {
            throw .countTooLarge(frame: frame, field: field, count: count, limit: PipeProtocol.maxStr16Units)
        }
        let range = try take(Int(count) * 2, field)
        return stride(from: range.lowerBound, to: range.upperBound, by: 2).map {
            UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8
        }
    }

    /// Reads a `str16` as a `String` (unpaired surrogates become U+FFFD).
    /// - Parameter field: The field's name, for errors.
    /// - Throws: As ``readStr16Units(_:)``.
    public mutating func readStr16(_ field: String) throws(PipeProtocolError) -> String {
        String(decoding: try readStr16Units(field), as: UTF16.self)
    }

    /// Reads `bytes`: a `u32` length, then that many bytes.
    /// - Parameter field: The field's name, for errors.
    /// - Throws: ``PipeProtocolError/truncated(frame:field:needed:remaining:)`` when the length is past the end.
    public mutating func readBytes(_ field: String) throws(PipeProtocolError) -> [UInt8] {
        let length = try readU32(field + ".length")
        return Array(bytes[try take(Int(length), field)])
    }

    /// Reads exactly `count` raw bytes (no length prefix).
    /// - Parameters:
    ///   - count: How many bytes.
    ///   - field: The field's name, for errors.
    /// - Throws: ``PipeProtocolError/truncated(frame:field:needed:remaining:)``.
    public mutating func readRaw(count: Int, _ field: String) throws(PipeProtocolError) -> [UInt8] {
        Array(bytes[try take(count, field)])
    }

    /// Reads the rest of the payload as UTF-8 text (invalid sequences become U+FFFD).
    public mutating func readRemainingUTF8() -> String {
        defer { offset = bytes.count }
        return String(decoding: bytes[offset...], as: UTF8.self)
    }

    /// Checks that the whole payload was read.
    /// - Throws: ``PipeProtocolError/trailingBytes(frame:count:)`` when bytes are left.
    public func finish() throws(PipeProtocolError) {
        if remaining != 0 { throw .trailingBytes(frame: frame, count: remaining) }
    }
}

/// Builds one frame payload, front to back. All integers are little-endian.
public struct PayloadWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// Starts an empty payload.
    /// - Parameter capacity: Bytes to reserve.
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    private mutating func writeInteger<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        for shift in stride(from: 0, to: T.bitWidth, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// Appends a little-endian `u16`.
    public mutating func writeU16(_ value: UInt16) { writeInteger(value) }
    /// Appends a little-endian `u32`.
    public mutating func writeU32(_ value: UInt32) { writeInteger(value) }
    /// Appends a little-endian `u64`.
    public mutating func writeU64(_ value: UInt64) { writeInteger(value) }
    /// Appends a little-endian two's-complement `i64`.
    public mutating func writeI64(_ value: Int64) { writeInteger(UInt64(bitPattern: value)) }

    /// Appends a `str16` from UTF-16 code units.
    /// - Parameters:
    ///   - units: The code units.
    ///   - field: The field's name, for errors.
    /// - Throws: ``PipeProtocolError/countTooLarge(frame:field:count:limit:)`` above `SIPB_MAX_STR16` units.
    public mutating func writeStr16Units(_ units: some Collection<UInt16>, _ field: String) throws(PipeProtocolError) {
        guard units.count <= Int(PipeProtocol.maxStr16Units) else {
            throw .countTooLarge(
                frame: FrameType(rawValue: 0), field: field, count: UInt32(clamping: units.count),
                limit: PipeProtocol.maxStr16Units)
        }
        writeU32(UInt32(units.count))
        bytes.reserveCapacity(bytes.count + units.count * 2)
        for unit in units { writeU16(unit) }
    }

    /// Appends a `str16` holding `string` in UTF-16.
    /// - Throws: As ``writeStr16Units(_:_:)``.
    public mutating func writeStr16(_ string: String, _ field: String) throws(PipeProtocolError) {
        try writeStr16Units(string.utf16, field)
    }

    /// Appends `bytes`: a `u32` length, then the bytes.
    /// - Throws: ``PipeProtocolError/countTooLarge(frame:field:count:limit:)`` above `SIPB_MAX_PAYLOAD`.
    public mutating func writeBytes(_ data: some Collection<UInt8>, _ field: String) throws(PipeProtocolError) {
        guard data.count <= Int(PipeProtocol.maxPayload) else {
            throw .countTooLarge(
                frame: FrameType(rawValue: 0), field: field, count: UInt32(clamping: data.count),
                limit: PipeProtocol.maxPayload)
        }
        writeU32(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// Appends raw bytes with no length prefix (e.g. trailing UTF-8 text).
    public mutating func writeRaw(_ data: some Collection<UInt8>) { bytes.append(contentsOf: data) }

    /// Appends UTF-8 text with no length prefix (a payload's trailing text).
    public mutating func writeUTF8(_ text: String) { bytes.append(contentsOf: text.utf8) }
}
