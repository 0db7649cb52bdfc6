/// The 4-byte Win32 `BOOL`: an `int` where 0 is false and anything else is true.
///
/// The raw value is kept as it came, so a peer's `BOOL` of 2 is sent back as 2.
public struct Win32BOOL: IPCParam, Hashable, Sendable, ExpressibleByBooleanLiteral {
    /// The `int` on the wire.
    public var rawValue: Int32
    /// Wraps a raw `BOOL`.
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }
    /// `TRUE` (1) or `FALSE` (0).
    @inlinable public init(_ value: Bool) { rawValue = value ? 1 : 0 }
    @inlinable public init(booleanLiteral value: Bool) { self.init(value) }
    /// Whether the value is non-zero.
    @inlinable public var boolValue: Bool { rawValue != 0 }

    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> Win32BOOL {
        Win32BOOL(rawValue: try reader.readInteger())
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeInteger(rawValue)
    }
    @inlinable public static var minimumWireSize: Int { 4 }
}

/// The 1-byte C++ `bool` (MSVC). Any non-zero byte reads as true; true is written as 1.
///
/// Distinct from ``Win32BOOL`` on purpose: the two have different sizes on the wire.
public struct CBool: IPCParam, Hashable, Sendable, ExpressibleByBooleanLiteral {
    /// The truth value.
    public var value: Bool
    /// Wraps a truth value.
    @inlinable public init(_ value: Bool) { self.value = value }
    @inlinable public init(booleanLiteral value: Bool) { self.value = value }

    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> CBool {
        CBool(try reader.readByte() != 0)
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeByte(value ? 1 : 0)
    }
    @inlinable public static var minimumWireSize: Int { 1 }
}

// The multi-field structs below read and write all their bytes after one bounds check; only when
// the bytes are not all there do they go field by field, for the exact error (which field, where).

/// Win32 `POINT`: two `LONG`s, 8 bytes.
public struct Win32Point: IPCParam, Hashable, Sendable {
    public var x: Int32
    public var y: Int32
    @inlinable public init(x: Int32, y: Int32) { self.x = x; self.y = y }

    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> Win32Point {
        guard reader.remaining >= 8 else { return try readByField(from: &reader) }
        defer { reader.skipUnchecked(8) }
        return Win32Point(x: reader.peekUnchecked(at: 0), y: reader.peekUnchecked(at: 4))
    }
    @inlinable @inline(never)
    static func readByField(from reader: inout ParamReader) throws(SIPCError) -> Win32Point {
        Win32Point(x: try reader.readInteger(), y: try reader.readInteger())
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        guard writer.remaining >= 8 else { return try writeByField(to: &writer) }
        writer.storeUnchecked(x, at: 0)
        writer.storeUnchecked(y, at: 4)
        writer.skipUnchecked(8)
    }
    @inlinable @inline(never)
    func writeByField(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeInteger(x)
        try writer.writeInteger(y)
    }
    @inlinable public static var minimumWireSize: Int { 8 }
}

/// Win32 `SIZE`: two `LONG`s, 8 bytes.
public struct Win32Size: IPCParam, Hashable, Sendable {
    public var cx: Int32
    public var cy: Int32
    @inlinable public init(cx: Int32, cy: Int32) { self.cx = cx; self.cy = cy }

    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> Win32Size {
        guard reader.remaining >= 8 else { return try readByField(from: &reader) }
        defer { reader.skipUnchecked(8) }
        return Win32Size(cx: reader.peekUnchecked(at: 0), cy: reader.peekUnchecked(at: 4))
    }
    @inlinable @inline(never)
    static func readByField(from reader: inout ParamReader) throws(SIPCError) -> Win32Size {
        Win32Size(cx: try reader.readInteger(), cy: try reader.readInteger())
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        guard writer.remaining >= 8 else { return try writeByField(to: &writer) }
        writer.storeUnchecked(cx, at: 0)
        writer.storeUnchecked(cy, at: 4)
        writer.skipUnchecked(8)
    }
    @inlinable @inline(never)
    func writeByField(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeInteger(cx)
        try writer.writeInteger(cy)
    }
    @inlinable public static var minimumWireSize: Int { 8 }
}

/// Win32 `RECT`: four `LONG`s (left, top, right, bottom), 16 bytes.
public struct Win32Rect: IPCParam, Hashable, Sendable {
    public var left: Int32
    public var top: Int32
    public var right: Int32
    public var bottom: Int32
    @inlinable public init(left: Int32, top: Int32, right: Int32, bottom: Int32) {
        self.left = left; self.top = top; self.right = right; self.bottom = bottom
    }

    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> Win32Rect {
        guard reader.remaining >= 16 else { return try readByField(from: &reader) }
        defer { reader.skipUnchecked(16) }
        return Win32Rect(
            left: reader.peekUnchecked(at: 0), top: reader.peekUnchecked(at: 4),
            right: reader.peekUnchecked(at: 8), bottom: reader.peekUnchecked(at: 12))
    }
    @inlinable @inline(never)
    static func readByField(from reader: inout ParamReader) throws(SIPCError) -> Win32Rect {
        Win32Rect(
            left: try reader.readInteger(), top: try reader.readInteger(),
            right: try reader.readInteger(), bottom: try reader.readInteger())
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        guard writer.remaining >= 16 else { return try writeByField(to: &writer) }
        writer.storeUnchecked(left, at: 0)
        writer.storeUnchecked(top, at: 4)
        writer.storeUnchecked(right, at: 8)
        writer.storeUnchecked(bottom, at: 12)
        writer.skipUnchecked(16)
    }
    @inlinable @inline(never)
    func writeByField(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeInteger(left)
        try writer.writeInteger(top)
        try writer.writeInteger(right)
        try writer.writeInteger(bottom)
    }
    @inlinable public static var minimumWireSize: Int { 16 }
}

/// A 64-bit handle or context carried as an opaque value (sinstar3's `UINT64 imeContext`, a 64-bit
/// `HWND`). 8 bytes, little-endian.
public struct Handle64: IPCParam, Hashable, Sendable {
    /// The value on the wire.
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> Handle64 {
        Handle64(rawValue: try reader.readInteger())
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeInteger(rawValue)
    }
    @inlinable public static var minimumWireSize: Int { 8 }
}

/// A fixed-size byte array such as `BYTE[256]` (a keyboard state): exactly `count` bytes, no prefix.
public struct FixedBytes<let count: Int>: IPCParam, Sendable {
    /// The bytes, stored inline (no heap allocation).
    public var bytes: InlineArray<count, UInt8>

    /// All zero.
    @inlinable public init() { bytes = InlineArray(repeating: 0) }
    /// Wraps inline storage.
    @inlinable public init(_ bytes: InlineArray<count, UInt8>) { self.bytes = bytes }
    /// Copies `source`, which must hold exactly `count` bytes; returns nil otherwise.
    @inlinable public init?(_ source: [UInt8]) {
        guard source.count == count else { return nil }
        bytes = InlineArray { source[$0] }
    }
    /// The bytes as an array.
    @inlinable public var array: [UInt8] { (0..<count).map { bytes[$0] } }

    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> FixedBytes {
        try reader.withBytes(count: count) { raw throws(SIPCError) in
            FixedBytes(InlineArray { raw[$0] })
        }
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try bytes.span.withUnsafeBytes { raw throws(SIPCError) in try writer.writeBytes(raw) }
    }
    @inlinable public static var minimumWireSize: Int { count }
}

extension FixedBytes: Equatable {
    @inlinable public static func == (lhs: FixedBytes, rhs: FixedBytes) -> Bool {
        for index in 0..<count where lhs.bytes[index] != rhs.bytes[index] { return false }
        return true
    }
}
