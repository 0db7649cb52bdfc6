import CSIPBShared
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The host → shim ring: a file under `/dev/shm` that both sides map, through which the host hands the shim
/// frames without a system call on either side (docs/PROTOCOL.md, "The ring").
///
/// A frame written here is seen by the shim's main thread as soon as it looks — while it spins for a `REPLY`
/// (`SIPB_SHIM_SPIN_US`), at once — where a frame on the pipe first wakes the shim's reader thread, which then
/// wakes the main thread (through the wineserver, or with a futex when it waits for a `REPLY`). Each entry records
/// how many frames the host had written to the pipe before it, so the shim takes ring and pipe frames in the order
/// the host sent them. When the shim's main thread may be blocked it says so (`sleeping`), and the host then also
/// writes a `DOORBELL` frame to the pipe.
///
/// Not thread-safe: ``PipeTransport`` calls it under its write lock.
final class ShimRing {
    /// Offsets and limits of the ring file, mirrored from `SIPB_RING_*` in `sipb_protocol.h`.
    enum Layout {
        /// `SIPB_HELLO_RING`: the bit of `HELLO`'s last field that says the shim reads the ring.
        static let helloFlag: UInt32 = 0x1
        /// `SIPB_RING_MAGIC`: "SPRG".
        static let magic: UInt32 = 0x4752_5053
        static let magicOffset = 0
        static let capacityOffset = 4
        static let tailOffset = 64
        static let headOffset = 128
        static let sleepingOffset = 192
        static let dataOffset = 256
        static let minCapacity = 4096
        static let maxCapacity = 16 << 20
        static let entryHeaderSize = 8

        /// The `SIPB_RING_*` defines and their values, for the header test.
        static let cConstants: [(name: String, value: UInt64)] = [
            ("SIPB_HELLO_RING", UInt64(helloFlag)), ("SIPB_RING_MAGIC", UInt64(magic)),
            ("SIPB_RING_OFF_MAGIC", UInt64(magicOffset)), ("SIPB_RING_OFF_CAPACITY", UInt64(capacityOffset)),
            ("SIPB_RING_OFF_TAIL", UInt64(tailOffset)), ("SIPB_RING_OFF_HEAD", UInt64(headOffset)),
            ("SIPB_RING_OFF_SLEEPING", UInt64(sleepingOffset)), ("SIPB_RING_DATA", UInt64(dataOffset)),
            ("SIPB_RING_MIN_CAPACITY", UInt64(minCapacity)), ("SIPB_RING_MAX_CAPACITY", UInt64(maxCapacity)),
            ("SIPB_RING_ENTRY_HEADER", UInt64(entryHeaderSize)),
        ]
    }

    /// The data area's size in bytes (a power of two).
    let capacity: Int
    /// The largest entry put in the ring; larger frames go through the pipe.
    let maxEntry: Int
    private let mapping: SharedFileMapping
    private var data: UnsafeMutableRawPointer { mapping.pointer + Layout.dataOffset }
    /// Bytes ever published, mod 2³² (the host's copy of the tail field).
    private var tail: UInt32 = 0

    /// The file name under `/dev/shm`.
    var fileName: String { mapping.fileName }

    /// Creates `/dev/shm/<file>` (which must not exist), sizes it and maps it.
    /// - Parameters:
    ///   - file: A fresh file name (``SharedFileMapping/isValidFileName(_:)``).
    ///   - capacity: The data area's size: a power of two from 4 KiB to 16 MiB.
    /// - Throws: ``BridgeError/invalidArgument(_:)`` or ``BridgeError/io(operation:errno:)``; nothing is left behind.
    init(file: String, capacity: Int = 256 << 10) throws(BridgeError) {
        guard capacity >= Layout.minCapacity, capacity <= Layout.maxCapacity, capacity & (capacity - 1) == 0 else {
            throw .invalidArgument("ring capacity \(capacity) is not a power of two from 4 KiB to 16 MiB")
        }
        mapping = try SharedFileMapping.create(file: file, size: Layout.dataOffset + capacity)
        self.capacity = capacity
        maxEntry = capacity / 4
        // A new file reads as zeros: tail, head and sleeping start at 0.
        mapping.pointer.storeBytes(of: Layout.magic.littleEndian, toByteOffset: Layout.magicOffset, as: UInt32.self)
        mapping.pointer.storeBytes(
            of: UInt32(capacity).littleEndian, toByteOffset: Layout.capacityOffset, as: UInt32.self)
    }

    /// Removes the file name; the mappings (the host's and the shim's) stay. Idempotent.
    func unlinkFile() { _ = unlink(mapping.path) }

    /// Unmaps the ring and removes its file. Idempotent.
    func closeAndRemove() { mapping.close(unlink: true) }

    /// The ring entry size of a frame with `payloadCount` payload bytes: both headers and the payload, rounded up
    /// to a multiple of 8.
    static func entrySize(payloadCount: Int) -> Int {
        (Layout.entryHeaderSize + PipeProtocol.frameHeaderSize + payloadCount + 7) & ~7
    }

    /// Publishes `frame` if it fits.
    /// - Parameters:
    ///   - header: The frame's 12 header bytes (``PipeFrame/encodedHeader()``).
    ///   - payload: The frame's payload.
    ///   - pipeFramesBefore: How many frames the host has written to the pipe so far.
    /// - Returns: `nil` when the frame is too large for the ring or the ring has no room (send it through the
    ///   pipe then); otherwise whether the shim may be blocked, in which case the caller must ring the doorbell
    ///   (the flag is taken: the next frames do not ring again until the shim says it sleeps once more).
    func publish(header: [UInt8], payload: [UInt8], pipeFramesBefore: UInt32) -> Bool? {
        let size = Self.entrySize(payloadCount: payload.count)
        guard size <= maxEntry else { return nil }
        let head = sipb_load_acquire_u32(mapping.pointer + Layout.headOffset)
        let used = tail &- head
        // A head past the tail would be the shim's bug: treat the ring as full, the pipe still works.
        guard Int(used) <= capacity, capacity - Int(used) >= size else { return nil }
        var offset = Int(tail) & (capacity - 1)
        withUnsafeBytes(of: UInt32(size).littleEndian) { copyIn($0, at: &offset) }
        withUnsafeBytes(of: pipeFramesBefore.littleEndian) { copyIn($0, at: &offset) }
        header.withUnsafeBytes { copyIn($0, at: &offset) }
        payload.withUnsafeBytes { copyIn($0, at: &offset) }
        let padding = size - Layout.entryHeaderSize - header.count - payload.count
        if padding > 0 {
            withUnsafeBytes(of: UInt64(0)) { copyIn(UnsafeRawBufferPointer(rebasing: $0[0..<padding]), at: &offset) }
        }
        tail &+= UInt32(size)
        sipb_store_release_u32(mapping.pointer + Layout.tailOffset, tail)
        // Dekker with the shim: it stores `sleeping` then looks at the tail; we store the tail then look at
        // `sleeping`. With a full fence on both sides, at least one of us sees the other's store. Taking the flag
        // (exchange with 0) rings once per sleep: the shim, once awake, looks at the ring before it sleeps again.
        sipb_fence_seq_cst()
        return sipb_exchange_u32(mapping.pointer + Layout.sleepingOffset, 0) != 0
    }

    /// Copies bytes into the data area at `offset`, wrapping around its end, and advances `offset`.
    private func copyIn(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let first = min(bytes.count, capacity - offset)
        (data + offset).copyMemory(from: base, byteCount: first)
        if bytes.count > first { data.copyMemory(from: base + first, byteCount: bytes.count - first) }
        offset = (offset + bytes.count) & (capacity - 1)
    }
}
