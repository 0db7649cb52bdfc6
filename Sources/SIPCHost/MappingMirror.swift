import SIPC

/// A local copy of a mapping that only the shim can reach (a Windows peer created it backed by the
/// paging file): the host works on the copy and moves the bytes that matter through the shim
/// before and after each call: `CALL_MAPPED` for this side's own calls, pipelined `READ_MAPPING` /
/// `WRITE_MAPPING` around the peer's.
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

    /// Data-area range `[start, end)` plus the header, clamped to the mapping, as mapping offsets; empty spans
    /// left out.
    func spans(from start: Int, to end: Int) -> [(offset: Int, length: Int)] {
        let header = SIPCConstants.sharedHeaderSize
        let lower = header + max(0, min(start, buffer.capacity))
        let upper = header + max(0, min(end, buffer.capacity))
        if lower <= header { return [(0, upper)] }
        return [(0, header), (lower, upper - lower)].filter { $0.length > 0 }
    }

    /// The local copy's bytes of a span.
    private func bytes(of span: (offset: Int, length: Int)) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: memory + span.offset, count: span.length))
    }

    /// Puts bytes read from the peer's mapping into the local copy.
    private func store(_ bytes: [UInt8], at span: (offset: Int, length: Int), from request: String)
        throws(BridgeError)
    {
        guard bytes.count == span.length else {
            throw .invalidArgument("\(request) returned \(bytes.count) bytes, asked \(span.length)")
        }
        bytes.withUnsafeBytes { (memory + span.offset).copyMemory(from: $0.baseAddress!, byteCount: span.length) }
    }

    /// Copies the header and data `[start, end)` from the peer's mapping into the local copy: one
    /// `READ_MAPPING` per span, all sent before the first answer is awaited (one round trip).
    func pull(from start: Int, to end: Int) throws(BridgeError) {
        let spans = spans(from: start, to: end)
        var pending: [PendingRequest<Pipe.ReadMapping>] = []
        var failure: BridgeError?
        for span in spans {
            do {
                pending.append(
                    try bridge.start(
                        Pipe.ReadMapping(handle: handle, offset: UInt32(span.offset), length: UInt32(span.length))))
            } catch {
                failure = error
                break
            }
        }
        // Every started request is finished, even after a failure, so that none is left waiting.
        for (span, request) in zip(spans, pending) {
            do { try store(try bridge.finish(request).bytes, at: span, from: "READ_MAPPING") } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
    }

    /// Copies the header and data `[start, end)` of the local copy into the peer's mapping: one
    /// `WRITE_MAPPING` per span, all sent before the first answer is awaited (one round trip).
    func push(from start: Int, to end: Int) throws(BridgeError) {
        var pending: [PendingRequest<Pipe.WriteMapping>] = []
        var failure: BridgeError?
        for span in spans(from: start, to: end) {
            do {
                pending.append(
                    try bridge.start(
                        Pipe.WriteMapping(handle: handle, offset: UInt32(span.offset), data: bytes(of: span))))
            } catch {
                failure = error
                break
            }
        }
        for request in pending {
            do { _ = try bridge.finish(request) } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
    }

    /// A call whose frame is in this mapping, in one round trip (`CALL_MAPPED`): pushes the header and data
    /// `frame`, sends the message, and when it was delivered pulls the header and data `outputs` into the local
    /// copy (whatever the `LRESULT`, so the copy stays what the peer's mapping holds).
    func call(
        pushing frame: Range<Int>, pulling outputs: Range<Int>, to window: WindowHandle, message: UInt32,
        wParam: UInt64, lParam: UInt64, timeout: Duration?
    ) throws(BridgeError) -> SendOutcome {
        let writes = spans(from: frame.lowerBound, to: frame.upperBound).map { span in
            Pipe.CallMapped.Write(offset: UInt32(span.offset), data: bytes(of: span))
        }
        let reads = spans(from: outputs.lowerBound, to: outputs.upperBound)
        let result = try bridge.callMapped(
            handle, writing: writes, to: window, message: message, wParam: wParam, lParam: lParam, timeout: timeout,
            reading: reads.map { Pipe.CallMapped.Read(offset: UInt32($0.offset), length: UInt32($0.length)) })
        if result.send.delivered {
            for (span, bytes) in zip(reads, result.reads) { try store(bytes, at: span, from: "CALL_MAPPED") }
        }
        return result.send
    }
}
