import CSIPBShared
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The shim → host upload area: a file under `/dev/shm` that both sides map, where the shim puts the bytes of a
/// large `WM_COPYDATA` instead of writing them through the pipe (docs/PROTOCOL.md, "The upload area").
///
/// Through the pipe a megabyte is copied into the kernel and out again, the shim waits in `WriteFile` until the
/// host has drained what does not fit, and the host's reads land in fresh memory. Here the shim copies the bytes
/// once into memory that stays mapped on both sides, sends the small `EV_COPYDATA_UPLOADED` frame, and the host
/// copies them once into a buffer it reuses. One `WM_COPYDATA` at a time: `busy` says whose the area is, and a
/// `WM_COPYDATA` that comes while the host has not copied the last one out goes through the pipe.
///
/// Used by the call loop's thread only (``PipeTransport/takeUpload(length:into:)``).
final class ShimUpload {
    /// Offsets and limits of the upload file, mirrored from `SIPB_UPLOAD_*` in `sipb_protocol.h`.
    enum Layout {
        /// `SIPB_HELLO_UPLOAD`: the bit of `HELLO`'s last field that says the shim uses the area.
        static let helloFlag: UInt32 = 0x2
        /// `SIPB_UPLOAD_MAGIC`: "SPUP".
        static let magic: UInt32 = 0x5055_5053
        static let magicOffset = 0
        static let capacityOffset = 4
        static let busyOffset = 64
        static let dataOffset = 128
        static let minCapacity = 4096
        static let maxCapacity = 64 << 20
        /// `SIPB_UPLOAD_MIN_BYTES`: the shim sends smaller `WM_COPYDATA` through the pipe.
        static let minBytes = 4096

        /// The `SIPB_UPLOAD_*` defines and their values, for the header test.
        static let cConstants: [(name: String, value: UInt64)] = [
            ("SIPB_HELLO_UPLOAD", UInt64(helloFlag)), ("SIPB_UPLOAD_MAGIC", UInt64(magic)),
            ("SIPB_UPLOAD_OFF_MAGIC", UInt64(magicOffset)), ("SIPB_UPLOAD_OFF_CAPACITY", UInt64(capacityOffset)),
            ("SIPB_UPLOAD_OFF_BUSY", UInt64(busyOffset)), ("SIPB_UPLOAD_DATA", UInt64(dataOffset)),
            ("SIPB_UPLOAD_MIN_CAPACITY", UInt64(minCapacity)), ("SIPB_UPLOAD_MAX_CAPACITY", UInt64(maxCapacity)),
            ("SIPB_UPLOAD_MIN_BYTES", UInt64(minBytes)),
        ]
    }

    /// The data area's size in bytes. 4 MiB by default: Wine 8 carries at most about 2 MB in one `WM_COPYDATA`
    /// (docs/BENCHMARKS.md, Findings 6). The file's pages are taken only as they are first written.
    let capacity: Int
    private let mapping: SharedFileMapping

    /// The file name under `/dev/shm`.
    var fileName: String { mapping.fileName }

    /// Creates `/dev/shm/<file>` (which must not exist), sizes it and maps it.
    /// - Parameters:
    ///   - file: A fresh file name (``SharedFileMapping/isValidFileName(_:)``).
    ///   - capacity: The data area's size, 4 KiB to 64 MiB.
    /// - Throws: ``BridgeError/invalidArgument(_:)`` or ``BridgeError/io(operation:errno:)``; nothing is left behind.
    init(file: String, capacity: Int = 4 << 20) throws(BridgeError) {
        guard capacity >= Layout.minCapacity, capacity <= Layout.maxCapacity else {
            throw .invalidArgument("upload area capacity \(capacity) is not from 4 KiB to 64 MiB")
        }
        mapping = try SharedFileMapping.create(file: file, size: Layout.dataOffset + capacity)
        self.capacity = capacity
        // A new file reads as zeros: busy starts at 0 (the area is the shim's to claim).
        mapping.pointer.storeBytes(of: Layout.magic.littleEndian, toByteOffset: Layout.magicOffset, as: UInt32.self)
        mapping.pointer.storeBytes(
            of: UInt32(capacity).littleEndian, toByteOffset: Layout.capacityOffset, as: UInt32.self)
    }

    /// Removes the file name; the mappings (the host's and the shim's) stay. Idempotent.
    func unlinkFile() { _ = unlink(mapping.path) }

    /// Unmaps the area and removes its file. Idempotent.
    func closeAndRemove() { mapping.close(unlink: true) }

    /// Copies the `length` bytes the shim announced with `EV_COPYDATA_UPLOADED` into `bytes` (which it replaces;
    /// its storage is reused when nothing else holds it) and gives the area back to the shim.
    /// - Throws: ``PipeProtocolError`` when `length` is over the capacity or the shim had not claimed the area
    ///   (`busy` not 1); the area is left as it is then.
    func take(length: UInt32, into bytes: inout [UInt8]) throws(PipeProtocolError) {
        guard Int(length) <= capacity else {
            throw .invalidValue(frame: .eventCopyDataUploaded, field: "length", value: UInt64(length))
        }
        let busy = sipb_load_acquire_u32(mapping.pointer + Layout.busyOffset)
        guard busy == 1 else {
            throw .unexpectedFrame(
                type: .eventCopyDataUploaded, tag: 0, why: "the upload area's busy field is \(busy), not 1")
        }
        bytes.removeAll(keepingCapacity: true)
        bytes.append(
            contentsOf: UnsafeBufferPointer(
                start: (mapping.pointer + Layout.dataOffset).assumingMemoryBound(to: UInt8.self), count: Int(length)))
        // Release: our reads of the area happen before the shim, seeing 0, writes it again.
        sipb_store_release_u32(mapping.pointer + Layout.busyOffset, 0)
    }
}
