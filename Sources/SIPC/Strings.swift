/// A narrow (`std::string`) string: int32 byte count, then the bytes, no terminator.
///
/// The bytes are kept exactly as they came: their encoding is whatever the peer used (sinstar3 sends
/// the ANSI code page). ``init(_:)`` encodes Swift text as UTF-8; ``string`` decodes as UTF-8,
/// repairing invalid sequences.
public struct NarrowString: IPCParam, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The bytes on the wire.
    public var bytes: [UInt8]
    /// Wraps raw bytes.
    @inlinable public init(bytes: [UInt8]) { self.bytes = bytes }
    /// The UTF-8 bytes of `text`.
    @inlinable public init(_ text: String) { bytes = Array(text.utf8) }
    @inlinable public init(stringLiteral value: String) { self.init(value) }
    /// The bytes decoded as UTF-8.
    @inlinable public var string: String { String(decoding: bytes, as: UTF8.self) }

    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> NarrowString {
        let count = try reader.readCount(elementSize: 1)
        return NarrowString(bytes: try reader.readBytes(count: count))
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeCount(bytes.count)
        try writer.writeBytes(bytes)
    }
    @inlinable public static var minimumWireSize: Int { 4 }
}

/// A wide (`std::wstring`, Unicode `tstring`) string: int32 UTF-16 code-unit count, then the
/// UTF-16LE units, no terminator.
///
/// The units are kept exactly as they came, unpaired surrogates included, so any peer string
/// round-trips byte for byte; text outside the BMP travels as surrogate pairs.
public struct WideString: IPCParam, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The UTF-16 code units on the wire.
    public var units: [UInt16]
    /// Wraps raw code units.
    @inlinable public init(units: [UInt16]) { self.units = units }
    /// The UTF-16 form of `text`.
    @inlinable public init(_ text: String) { units = Array(text.utf16) }
    @inlinable public init(stringLiteral value: String) { self.init(value) }
    /// The units decoded as UTF-16, repairing unpaired surrogates.
    @inlinable public var string: String { String(decoding: units, as: UTF16.self) }

    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> WideString {
        let count = try reader.readCount(elementSize: 2)
        return try reader.withBytes(count: count * 2) { raw throws(SIPCError) in
            WideString(
                units: [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for index in 0..<count {
                        buffer[index] = UInt16(
                            littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                    }
                    initialized = count
                })
        }
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeCount(units.count)
        for unit in units { try writer.writeInteger(unit) }
    }
    @inlinable public static var minimumWireSize: Int { 4 }
}

/// An array is an int32 element count, then the elements in order.
extension Array: IPCParam where Element: IPCParam {
    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> [Element] {
        let count = try reader.readCount(elementSize: Element.minimumWireSize)
        var result: [Element] = []
        result.reserveCapacity(count)
        for _ in 0..<count { result.append(try Element.read(from: &reader)) }
        return result
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeCount(count)
        for element in self { try element.write(to: &writer) }
    }
    @inlinable public static var minimumWireSize: Int { 4 }
}
