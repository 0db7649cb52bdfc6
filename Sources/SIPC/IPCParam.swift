/// A value that has one exact SIPC wire form.
///
/// SIPC (SOUI's `SParamStream`) writes raw little-endian bytes with no type tags or padding, and
/// applications define string and array forms themselves. Conform your own types to give them a
/// wire form; compose POD structs from their fields in declaration order:
///
/// ```swift
/// struct Caret: IPCParam {
///     var point: Win32Point
///     var height: Int32
///     static func read(from reader: inout ParamReader) throws(SIPCError) -> Caret {
///         Caret(point: try .read(from: &reader), height: try .read(from: &reader))
///     }
///     func write(to writer: inout ParamWriter) throws(SIPCError) {
///         try point.write(to: &writer)
///         try height.write(to: &writer)
///     }
///     static var minimumWireSize: Int { 12 }
/// }
/// ```
///
/// Swift's `Int`, `Bool` and `String` deliberately do not conform: each has several possible SIPC
/// meanings (`int`/`INT_PTR`, `BOOL`/`bool`, narrow/wide). Use `Int32`, ``Win32BOOL``/`CBool`,
/// ``NarrowString``/``WideString`` instead.
public protocol IPCParam: SendableMetatype {
    /// Reads one value.
    /// - Throws: ``SIPCError`` when the bytes are missing or malformed.
    static func read(from reader: inout ParamReader) throws(SIPCError) -> Self
    /// Writes this value.
    /// - Throws: ``SIPCError/overflow(offset:needed:available:)`` when it does not fit.
    func write(to writer: inout ParamWriter) throws(SIPCError)
    /// The fewest bytes one value can take on the wire (used to bound counts read from a peer).
    static var minimumWireSize: Int { get }
}

extension IPCParam {
    /// By default a value may take no bytes at all.
    @inlinable public static var minimumWireSize: Int { 0 }
}

/// A fixed-width integer is its raw little-endian bytes.
public protocol IPCInteger: IPCParam, FixedWidthInteger {}

extension IPCInteger {
    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> Self {
        try reader.readInteger(as: Self.self)
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeInteger(self)
    }
    @inlinable public static var minimumWireSize: Int { MemoryLayout<Self>.size }
}

extension Int8: IPCInteger {}
extension UInt8: IPCInteger {}
extension Int16: IPCInteger {}
extension UInt16: IPCInteger {}
extension Int32: IPCInteger {}
extension UInt32: IPCInteger {}
extension Int64: IPCInteger {}
extension UInt64: IPCInteger {}

extension Float: IPCParam {
    /// IEEE 754 binary32, little-endian (C `float`).
    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> Float {
        Float(bitPattern: try reader.readInteger(as: UInt32.self))
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeInteger(bitPattern)
    }
    @inlinable public static var minimumWireSize: Int { 4 }
}

extension Double: IPCParam {
    /// IEEE 754 binary64, little-endian (C `double`).
    @inlinable public static func read(from reader: inout ParamReader) throws(SIPCError) -> Double {
        Double(bitPattern: try reader.readInteger(as: UInt64.self))
    }
    @inlinable public func write(to writer: inout ParamWriter) throws(SIPCError) {
        try writer.writeInteger(bitPattern)
    }
    @inlinable public static var minimumWireSize: Int { 8 }
}
