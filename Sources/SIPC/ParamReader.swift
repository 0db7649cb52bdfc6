/// Reads SIPC parameters from a window of memory, in order, little-endian, checking every access.
///
/// A reader never reads past `limit`. Its position is an offset into the same data area the
/// offsets of ``SIPCError`` refer to. It does not own the memory it reads.
public struct ParamReader {
    @usableFromInline let base: UnsafeRawPointer
    @usableFromInline var cursor: Int
    /// The offset of the next byte.
    @inlinable public var position: Int { cursor }
    /// The readable end (exclusive).
    public let limit: Int

    /// Creates a reader over `base[position..<limit]`.
    /// - Parameters:
    ///   - base: the start of the data area; offsets are relative to it. The caller keeps it alive.
    ///   - position: where reading starts.
    ///   - limit: the readable end (exclusive); must be ≥ `position`.
    @inlinable
    public init(base: UnsafeRawPointer, position: Int, limit: Int) {
        precondition(position >= 0 && limit >= position, "ParamReader: bad window")
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
            throw .truncated(offset: at, needed: count, available: limit &- at)
        }
        cursor = at &+ count
        return at
    }

    /// Loads the little-endian integer `offset` bytes past the position, without moving it or checking
    /// bounds: for a run of fixed fields read after one check of ``remaining`` (the frame headers).
    @inlinable @inline(__always)
    func peekUnchecked<T: FixedWidthInteger>(at offset: Int, as: T.Type = T.self) -> T {
        assert(offset >= 0 && offset <= remaining - MemoryLayout<T>.size, "ParamReader: unchecked read out of bounds")
        return T(littleEndian: base.loadUnaligned(fromByteOffset: cursor &+ offset, as: T.self))
    }

    /// Moves the position by `count` bytes that ``remaining`` was checked to hold.
    @inlinable @inline(__always)
    mutating func skipUnchecked(_ count: Int) {
        assert(count >= 0 && count <= remaining, "ParamReader: unchecked skip out of bounds")
        cursor &+= count
    }

    /// Reads a fixed-width integer stored little-endian.
    /// - Throws: ``SIPCError/truncated(offset:needed:available:)`` if fewer bytes remain.
    @inlinable
    public mutating func readInteger<T: FixedWidthInteger>(as: T.Type = T.self) throws(SIPCError) -> T {
        let at = try claim(MemoryLayout<T>.size)
        return T(littleEndian: base.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    /// Reads one byte.
    @inlinable
    public mutating func readByte() throws(SIPCError) -> UInt8 {
        try readInteger(as: UInt8.self)
    }

    /// Reads a count prefix (int32) and checks it against the bytes left.
    ///
    /// - Parameter elementSize: the smallest number of bytes one element can take on the wire;
    ///   elements that can be empty count as one byte each, so a count can never exceed the bytes left.
    /// - Throws: ``SIPCError/negativeCount(offset:count:)`` or ``SIPCError/countTooLarge(offset:count:available:)``.
    @inlinable
    public mutating func readCount(elementSize: Int) throws(SIPCError) -> Int {
        let at = position
        let raw: Int32 = try readInteger()
        guard raw >= 0 else { throw .negativeCount(offset: at, count: raw) }
        let count = Int(raw)
        let perElement = Swift.max(1, elementSize)
        guard count <= remaining / perElement else {
            throw .countTooLarge(offset: at, count: count, available: remaining)
        }
        return count
    }

    /// Gives `body` the next `count` bytes without copying them.
    /// - Throws: ``SIPCError/truncated(offset:needed:available:)`` if fewer bytes remain.
    @inlinable
    public mutating func withBytes<R>(
        count: Int, _ body: (UnsafeRawBufferPointer) throws(SIPCError) -> R
    ) throws(SIPCError) -> R {
        let at = try claim(count)
        return try body(UnsafeRawBufferPointer(start: base + at, count: count))
    }

    /// Reads `count` raw bytes into a new array.
    @inlinable
    public mutating func readBytes(count: Int) throws(SIPCError) -> [UInt8] {
        try withBytes(count: count) { raw throws(SIPCError) in [UInt8](raw) }
    }

    /// Checks that the byte at the current position is `marker` and skips it.
    /// - Throws: ``SIPCError/badMarker(offset:expected:found:)``.
    @inlinable
    public mutating func expectMarker(_ marker: UInt8) throws(SIPCError) {
        let at = position
        let found = try readByte()
        guard found == marker else { throw .badMarker(offset: at, expected: marker, found: found) }
    }
}
