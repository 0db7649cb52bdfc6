/// SOUI's shared buffer (`CShareMemBuffer`) over raw memory: a 12-byte header — capacity, tail,
/// cursor, each a little-endian `u32` — followed by the data area.
///
/// The header lives in memory the peer can write, so every operation that uses a header field
/// re-reads the whole header and checks it against the capacity this side trusts (the one it
/// created the buffer with, or the one it validated against the mapping's size when it attached)
/// before using it; nothing read from the header earlier is reused. Writing at a given position
/// uses no header field and skips the check. Where SOUI silently truncates, these operations throw. The same code works over a heap allocation (``OwnedSharedMemory``) and over a
/// mapping shared with a Windows process.
///
/// `SharedBuffer` does not own its memory: whoever created the mapping or allocation keeps it alive
/// and releases it.
public struct SharedBuffer: @unchecked Sendable {
    /// Where the header starts.
    public let base: UnsafeMutableRawPointer
    /// Bytes of the data area this side trusts (never more than the mapping holds).
    public let capacity: Int

    /// Where `Seek` measures from (SOUI's `soSet` / `soCur` / `soEnd`).
    public enum SeekOrigin: Sendable {
        /// From the start of the data area.
        case set
        /// From the cursor.
        case current
        /// From the tail.
        case end
    }

    /// A validated snapshot of the header.
    public struct Header: Equatable, Sendable {
        public var capacity: Int
        public var tail: Int
        public var cursor: Int
        /// A snapshot.
        @inlinable public init(capacity: Int, tail: Int, cursor: Int) {
            self.capacity = capacity; self.tail = tail; self.cursor = cursor
        }
    }

    /// Wraps memory this side owns and initialises its header to {capacity, 0, 0} — what a SIPC server
    /// does to the mappings it creates.
    /// - Parameters:
    ///   - base: the start of the mapping; it must hold `mappingSize` bytes and outlive the buffer.
    ///   - mappingSize: bytes of the mapping, header included.
    ///   - capacity: bytes of the data area; at most `mappingSize − 12` and `UInt32.max`.
    /// - Throws: ``SIPCError/invalidConfiguration(_:)`` if the capacity does not fit the mapping.
    public static func create(
        base: UnsafeMutableRawPointer, mappingSize: Int, capacity: Int
    ) throws(SIPCError) -> SharedBuffer {
        guard capacity >= 0, capacity <= mappingSize - SIPCConstants.sharedHeaderSize,
            capacity <= Int(UInt32.max)
        else {
            throw .invalidConfiguration("capacity \(capacity) does not fit a mapping of \(mappingSize) bytes")
        }
        let buffer = SharedBuffer(base: base, capacity: capacity)
        buffer.storeHeader(capacity: UInt32(capacity), tail: 0, cursor: 0)
        return buffer
    }

    /// Wraps a mapping the peer created, trusting its header's capacity only after checking it
    /// against the mapping's real size — what a SIPC client does after `OpenFileMapping`.
    /// - Throws: ``SIPCError/badHeader(field:value:limit:)`` if the header is inconsistent.
    public static func attach(base: UnsafeMutableRawPointer, mappingSize: Int) throws(SIPCError) -> SharedBuffer {
        guard mappingSize >= SIPCConstants.sharedHeaderSize else {
            throw .invalidConfiguration("mapping of \(mappingSize) bytes cannot hold the 12-byte header")
        }
        let raw = base.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian
        let limit = mappingSize - SIPCConstants.sharedHeaderSize
        guard Int(raw) <= limit else { throw .badHeader(field: "capacity", value: raw, limit: limit) }
        let buffer = SharedBuffer(base: base, capacity: Int(raw))
        _ = try buffer.header()
        return buffer
    }

    @usableFromInline
    init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// The data area (offsets in ``SIPCError`` are relative to it).
    @inlinable public var data: UnsafeMutableRawPointer { base + SIPCConstants.sharedHeaderSize }

    @inlinable func load(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable func store(_ value: UInt32, _ offset: Int) {
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// Writes all three header fields as they are, unchecked. For tests of hostile headers and for
    /// initialisation.
    public func storeHeader(capacity: UInt32, tail: UInt32, cursor: UInt32) {
        store(capacity, 0)
        store(tail, 4)
        store(cursor, 8)
    }

    /// Reads and checks the header: the capacity must be the one this side trusts, and tail and
    /// cursor must lie inside it.
    /// - Throws: ``SIPCError/badHeader(field:value:limit:)`` naming the first bad field.
    @inlinable
    public func header() throws(SIPCError) -> Header {
        let rawCapacity = load(0)
        guard Int(rawCapacity) == capacity else {
            throw .badHeader(field: "capacity", value: rawCapacity, limit: capacity)
        }
        let tail = load(4)
        guard Int(tail) <= capacity else { throw .badHeader(field: "tail", value: tail, limit: capacity) }
        let cursor = load(8)
        guard Int(cursor) <= capacity else { throw .badHeader(field: "cursor", value: cursor, limit: capacity) }
        return Header(capacity: capacity, tail: Int(tail), cursor: Int(cursor))
    }

    // MARK: - SOUI's operations, checked

    /// `Tell()`: the cursor.
    @inlinable public func tell() throws(SIPCError) -> Int { try header().cursor }

    /// `Seek(origin, offset)`: moves the cursor; a target past the tail raises the tail ("auto expand").
    /// - Throws: ``SIPCError/seekOutOfRange(target:capacity:)`` if the target is outside `0...capacity`.
    @inlinable
    public func seek(_ origin: SeekOrigin, _ offset: Int) throws(SIPCError) {
        let current = try header()
        let start =
            switch origin {
            case .set: 0
            case .current: current.cursor
            case .end: current.tail
            }
        let (target, overflowed) = start.addingReportingOverflow(offset)
        guard !overflowed, target >= 0, target <= capacity else {
            throw .seekOutOfRange(target: overflowed ? Int.max : target, capacity: capacity)
        }
        if target > current.tail { store(UInt32(target), 4) }
        store(UInt32(target), 8)
    }

    /// `SetTail(u)`: sets the tail and pulls the cursor back to it if it was beyond.
    /// - Throws: ``SIPCError/seekOutOfRange(target:capacity:)`` if `tail` is outside `0...capacity`.
    @inlinable
    public func setTail(_ tail: Int) throws(SIPCError) {
        let current = try header()
        guard tail >= 0, tail <= capacity else { throw .seekOutOfRange(target: tail, capacity: capacity) }
        store(UInt32(tail), 4)
        if current.cursor > tail { store(UInt32(tail), 8) }
    }

    /// `Write(p, n)`: copies at the cursor, advances it and raises the tail.
    /// - Throws: ``SIPCError/overflow(offset:needed:available:)`` instead of SOUI's silent truncation.
    @inlinable
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SIPCError) {
        var writer = try self.writer(limit: capacity)
        try writer.writeBytes(bytes)
        try commit(writer)
    }

    /// `Read(p, n)`: copies from the cursor and advances it; never reads past the tail.
    /// - Throws: ``SIPCError/truncated(offset:needed:available:)`` instead of SOUI's short read.
    @inlinable
    public func read(into destination: UnsafeMutableRawBufferPointer) throws(SIPCError) {
        var reader = try self.reader(limit: capacity)
        try reader.withBytes(count: destination.count) { raw throws(SIPCError) in
            if let target = destination.baseAddress, let source = raw.baseAddress, raw.count > 0 {
                target.copyMemory(from: source, byteCount: raw.count)
            }
        }
        try moveCursor(to: reader.position)
    }

    // MARK: - Bulk access for frames

    /// A writer from `position` (the cursor when nil) up to `limit` (clamped to the capacity).
    ///
    /// The header is read, and checked, only when the writer starts at the cursor: a writer at a given
    /// position uses no header field (its window is bounded by the trusted capacity, and `commit(_:)`
    /// only compares the tail), so a frame written into its slot costs no header check.
    /// - Throws: if the header is bad (position nil) or `position` lies outside the data area.
    @inlinable
    public func writer(from position: Int? = nil, limit: Int) throws(SIPCError) -> ParamWriter {
        let start: Int
        if let position { start = position } else { start = try header().cursor }
        let end = Swift.min(limit, capacity)
        guard start >= 0, start <= end else { throw .seekOutOfRange(target: start, capacity: end) }
        return ParamWriter(base: data, position: start, limit: end)
    }

    /// A reader from `position` (the cursor when nil) up to the tail or `limit`, whichever is lower.
    /// - Throws: if the header is bad, ``SIPCError/seekOutOfRange(target:capacity:)`` for a negative `position`,
    ///   ``SIPCError/truncated(offset:needed:available:)`` for one past the readable end.
    @inlinable
    public func reader(from position: Int? = nil, limit: Int) throws(SIPCError) -> ParamReader {
        let current = try header()
        let start = position ?? current.cursor
        let end = Swift.min(limit, current.tail)
        // No arithmetic on `start` before it is known to be in range: `end - start` overflows for a very
        // negative one.
        guard start >= 0 else { throw .seekOutOfRange(target: start, capacity: current.tail) }
        guard start <= end else { throw .truncated(offset: start, needed: 1, available: 0) }
        return ParamReader(base: UnsafeRawPointer(data), position: start, limit: end)
    }

    /// Makes the header reflect bytes written through `writer`: cursor at its position, tail raised
    /// to it — the state SOUI's `Write` calls would have left. The writer's position is inside the
    /// trusted capacity by construction, so no header field is trusted here.
    @inlinable @inline(__always)
    public func commit(_ writer: ParamWriter) throws(SIPCError) {
        let end = writer.position
        guard end <= capacity else { throw .seekOutOfRange(target: end, capacity: capacity) }
        if end > Int(load(4)) { store(UInt32(end), 4) }
        store(UInt32(end), 8)
    }

    /// Leaves the cursor where `reader` stopped (inside the data area by construction).
    @inlinable @inline(__always)
    public func commit(_ reader: ParamReader) throws(SIPCError) {
        guard reader.position <= capacity else { throw .seekOutOfRange(target: reader.position, capacity: capacity) }
        store(UInt32(reader.position), 8)
    }

    /// Sets the cursor (within the tail), as a `Seek(set, position)` that never raises the tail.
    @inlinable
    public func moveCursor(to position: Int) throws(SIPCError) {
        let current = try header()
        guard position >= 0, position <= current.tail else {
            throw .seekOutOfRange(target: position, capacity: current.tail)
        }
        store(UInt32(position), 8)
    }
}

/// Heap memory laid out like a SIPC mapping, for in-process use, tests and benchmarks.
/// It owns its allocation and frees it on deinit.
public final class OwnedSharedMemory: @unchecked Sendable {
    /// The buffer over this memory, header initialised to {capacity, 0, 0}.
    public let buffer: SharedBuffer
    private let allocation: UnsafeMutableRawPointer
    /// Bytes allocated, header included.
    public let mappingSize: Int

    /// Allocates `capacity + 12` zeroed bytes.
    public init(capacity: Int) throws(SIPCError) {
        guard capacity >= 0, capacity <= Int(UInt32.max) else {
            throw .invalidConfiguration("capacity \(capacity) is not a u32")
        }
        mappingSize = capacity + SIPCConstants.sharedHeaderSize
        allocation = .allocate(byteCount: mappingSize, alignment: 16)
        allocation.initializeMemory(as: UInt8.self, repeating: 0, count: mappingSize)
        buffer = try SharedBuffer.create(base: allocation, mappingSize: mappingSize, capacity: capacity)
    }

    deinit { allocation.deallocate() }
}
