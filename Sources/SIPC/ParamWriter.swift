/// Writes SIPC parameters into a window of memory, in order, little-endian, checking every access.
///
/// A writer never writes past `limit`: where SOUI silently truncates or spills into the next slot,
/// the writer throws ``SIPCError/overflow(offset:needed:available:)``. It does not own the memory.
public struct ParamWriter {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline var cursor: Int
    /// The offset of the next byte.
    @inlinable public var position: Int { cursor }
    /// The writable end (exclusive).
    public let limit: Int

    /// Creates a writer over `base[position..<limit]`.
    /// - Parameters:
    ///   - base: the start of the data area; offsets are relative to it. The caller keeps it alive.
    ///   - position: where writing starts.
    ///   - limit: the writable end (exclusive); must be ≥ `position`.
    @inlinable
    public init(base: UnsafeMutableRawPointer, position: Int, limit: Int) {
        precondition(position >= 0 && limit >= position, "ParamWriter: bad window")
        self.base = base
        self.cursor = position
        self.limit = limit
    }

    /// Bytes left before `limit`.
    @inlinable public var remaining: Int { limit - position }

    @inlinable
    mutating func claim(_ count: Int) throws(SIPCError) -> Int {
        // position ≤ limit always holds, so neither subtraction nor addition can overflow.
        let at = cursor
        guard count >= 0, count <= limit &- at else {
            throw .overflow(offset: at, needed: count, available: limit &- at)
        }
        cursor = at &+ count
        return at
    }

    /// Stores `value` little-endian `offset` bytes past the position, without moving it or checking
    /// bounds: for a run of fixed fields written after one check of ``remaining`` (the frame headers).
    @inlinable @inline(__always)
    func storeUnchecked<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        assert(offset >= 0 && offset <= remaining - MemoryLayout<T>.size, "ParamWriter: unchecked write out of bounds")
        base.storeBytes(of: value.littleEndian, toByteOffset: cursor &+ offset, as: T.self)
    }

    /// Moves the position past `count` bytes that ``remaining`` was checked to hold.
    @inlinable @inline(__always)
    mutating func skipUnchecked(_ count: Int) {
        assert(count >= 0 && count <= remaining, "ParamWriter: unchecked skip out of bounds")
        cursor &+= count
    }

    /// Writes a fixed-width integer little-endian.
    /// - Throws: ``SIPCError/overflow(offset:needed:available:)`` if it does not fit.
    @inlinable
    public mutating func writeInteger<T: FixedWidthInteger>(_ value: T) throws(SIPCError) {
        let at = try claim(MemoryLayout<T>.size)
        base.storeBytes(of: value.littleEndian, toByteOffset: at, as: T.self)
    }

    /// Writes one byte.
    @inlinable
    public mutating func writeByte(_ value: UInt8) throws(SIPCError) {
        try writeInteger(value)
    }

    /// Writes a count prefix (int32).
    /// - Throws: ``SIPCError/overflow(offset:needed:available:)`` if the count is above `Int32.max`
    ///   (it could never fit) or the prefix does not fit.
    @inlinable
    public mutating func writeCount(_ count: Int) throws(SIPCError) {
        guard count >= 0, count <= Int(Int32.max) else {
            throw .overflow(offset: position, needed: count, available: remaining)
        }
        try writeInteger(Int32(count))
    }

    /// Copies raw bytes.
    @inlinable
    public mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) throws(SIPCError) {
        let at = try claim(bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 {
            (base + at).copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// Copies the bytes of a contiguous collection.
    @inlinable
    public mutating func writeBytes(_ bytes: some Collection<UInt8>) throws(SIPCError) {
        let at = try claim(bytes.count)
        var offset = at
        if let done = bytes.withContiguousStorageIfAvailable({ raw -> Bool in
            if let source = raw.baseAddress, raw.count > 0 {
                (base + at).copyMemory(from: source, byteCount: raw.count)
            }
            return true
        }), done {
            return
        }
        for byte in bytes {
            base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
    }
}
