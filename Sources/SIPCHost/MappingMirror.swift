import SIPC

/// A local copy of a mapping that only the shim can reach (a Windows peer created it backed by the
/// paging file): the host works on the copy and moves the bytes that matter through the shim
/// (`READ_MAPPING` / `WRITE_MAPPING`) before and after each call.
final class MappingMirror {
    let handle: ShimHandle
    let memory: UnsafeMutableRawPointer
    let mappingSize: Int
    unowned let bridge: BridgeConnection
    /// The buffer over the local copy, its capacity checked against the mapping's real size.
    private(set) var buffer: SharedBuffer

    /// Copies the peer's header and wraps the copy.
    /// - Throws: ``BridgeError`` if the shim cannot read, or `invalidArgument` for a header that lies.
    init(bridge: BridgeConnection, handle: ShimHandle, mappingSize: Int) throws(BridgeError) {
        guard mappingSize >= SIPCConstants.sharedHeaderSize, mappingSize <= Int(UInt32.max) else {
            throw .invalidArgument("mapping of \(mappingSize) bytes")
        }
        self.bridge = bridge
        self.handle = handle
        self.mappingSize = mappingSize
        let header = try bridge.readMapping(handle, offset: 0, length: UInt32(SIPCConstants.sharedHeaderSize))
        guard header.count == SIPCConstants.sharedHeaderSize else {
            throw .invalidArgument("READ_MAPPING returned \(header.count) header bytes")
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: mappingSize, alignment: 16)
        copy.initializeMemory(as: UInt8.self, repeating: 0, count: mappingSize)
        header.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        memory = copy
        do {
            buffer = try SharedBuffer.attach(base: copy, mappingSize: mappingSize)
        } catch {
            copy.deallocate()
            throw .invalidArgument("the peer's shared header is unusable: \(error)")
        }
    }

    deinit { memory.deallocate() }

    /// Data-area range `[start, end)` plus the header, clamped to the mapping, as mapping offsets.
    private func spans(from start: Int, to end: Int) -> [(offset: Int, length: Int)] {
        let header = SIPCConstants.sharedHeaderSize
        let lower = header + max(0, min(start, buffer.capacity))
        let upper = header + max(0, min(end, buffer.capacity))
        if lower <= header { return [(0, upper)] }
        return [(0, header), (lower, upper - lower)]
    }

    /// Copies the header and data `[start, end)` from the peer's mapping into the local copy.
    func pull(from start: Int, to end: Int) throws(BridgeError) {
        for span in spans(from: start, to: end) where span.length > 0 {
            let bytes = try bridge.readMapping(handle, offset: UInt32(span.offset), length: UInt32(span.length))
            guard bytes.count == span.length else {
                throw .invalidArgument("READ_MAPPING returned \(bytes.count) bytes, asked \(span.length)")
            }
            bytes.withUnsafeBytes { (memory + span.offset).copyMemory(from: $0.baseAddress!, byteCount: span.length) }
        }
    }

    /// Copies the header and data `[start, end)` of the local copy into the peer's mapping.
    func push(from start: Int, to end: Int) throws(BridgeError) {
        for span in spans(from: start, to: end) where span.length > 0 {
            let bytes = [UInt8](UnsafeRawBufferPointer(start: memory + span.offset, count: span.length))
            try bridge.writeMapping(handle, offset: UInt32(span.offset), bytes: bytes)
        }
    }
}
