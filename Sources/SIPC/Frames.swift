/// The two incompatible SIPC frame formats (spec §0).
public enum WireVersion: String, Sendable, CaseIterable {
    /// 2019-era SOUI2 and the SIpcDemo: frames appended at the cursor with a trailing length,
    /// `wParam` = function id, one buffer area shared by nested calls.
    case v1
    /// SOUI3/SOUI4 and sinstar3: fixed slots of `bufSize` bytes, `wParam` = slot index.
    case v2
}

/// How a v2 buffer is cut into call slots: `stackSize` slots of `bufSize` bytes.
public struct SlotLayout: Sendable, Equatable {
    /// Bytes per slot (SOUI's `GetBufSize()`; sinstar3 and the ipcdemo use 2048).
    public let bufSize: Int
    /// Number of slots (SOUI's `GetStackSize()`; sinstar3 uses 10).
    public let stackSize: Int

    /// The smallest useful slot: a frame header (13 bytes) plus an output header (5 bytes).
    public static let minimumBufSize = 18

    /// Checks and creates a layout.
    /// - Throws: ``SIPCError/invalidConfiguration(_:)`` if a size is too small or the product is not a `u32`.
    public init(bufSize: Int, stackSize: Int) throws(SIPCError) {
        guard bufSize >= Self.minimumBufSize else {
            throw .invalidConfiguration("bufSize \(bufSize) is below \(Self.minimumBufSize)")
        }
        guard stackSize >= 1 else { throw .invalidConfiguration("stackSize \(stackSize) is below 1") }
        let (total, overflow) = bufSize.multipliedReportingOverflow(by: stackSize)
        guard !overflow, total <= Int(UInt32.max) else {
            throw .invalidConfiguration("bufSize × stackSize does not fit a u32")
        }
        self.bufSize = bufSize
        self.stackSize = stackSize
    }

    /// The capacity a server gives each of a connection's two buffers.
    public var capacity: Int { bufSize * stackSize }

    /// The byte range of `slot` inside a buffer of `capacity` bytes.
    /// - Throws: ``SIPCError/slotOutOfRange(slot:stackSize:)`` for a slot past the stack or the buffer.
    @inlinable @inline(__always)
    public func range(ofSlot slot: Int, capacity: Int) throws(SIPCError) -> Range<Int> {
        guard slot >= 0, slot < stackSize else { throw .slotOutOfRange(slot: slot, stackSize: stackSize) }
        // slot < stackSize and bufSize × stackSize fits a u32 (checked by init): no overflow.
        let start = slot &* bufSize
        let end = start &+ bufSize
        guard end <= capacity else { throw .slotOutOfRange(slot: slot, stackSize: capacity / bufSize) }
        return Range(uncheckedBounds: (start, end))
    }
}

/// Where a call's outputs will be, returned by the caller-side `writeCall` functions.
public struct PendingCall: Sendable, Equatable {
    /// Offset of the output section (`P`: where the inputs ended; v1: after the length field).
    public let outputsAt: Int
    /// Readable end for the outputs (v2: the slot's end; v1: the capacity).
    public let outputsLimit: Int
    /// v1 only: where the frame started, to pop it afterwards.
    public let frameStart: Int
    /// Records where a call's outputs will be.
    @inlinable public init(outputsAt: Int, outputsLimit: Int, frameStart: Int) {
        self.outputsAt = outputsAt; self.outputsLimit = outputsLimit; self.frameStart = frameStart
    }
}

/// Caller and callee procedures for v2 frames (spec §5).
///
/// Frame bytes at the slot start: `i32 seq, u32 id, u32 id, u8 0xF0, inputs`, then the callee's
/// `u32 id, u8 0xF1, outputs` right after the inputs.
public enum FrameV2 {
    /// Caller: writes the call frame into `slot` of the send buffer and leaves the shared cursor at
    /// the end of the inputs, as SOUI's caller does.
    /// - Throws: ``SIPCError/slotOutOfRange(slot:stackSize:)``, ``SIPCError/overflow(offset:needed:available:)``
    ///   if the inputs do not fit the slot, or a header error.
    @inlinable
    public static func writeCall<Inputs, Outputs>(
        _ function: IPCFunction<Inputs, Outputs>, _ inputs: Inputs,
        sequence: Int32, slot: Int, layout: SlotLayout, buffer: SharedBuffer
    ) throws(SIPCError) -> PendingCall {
        let range = try layout.range(ofSlot: slot, capacity: buffer.capacity)
        var writer = try buffer.writer(from: range.lowerBound, limit: range.upperBound)
        try writeCallHeader(&writer, sequence: sequence, id: function.id)
        try function.encodeInputs(inputs, to: &writer)
        try buffer.commit(writer)
        return PendingCall(outputsAt: writer.position, outputsLimit: range.upperBound, frameStart: range.lowerBound)
    }

    /// Caller: reads the outputs the callee wrote after a call that returned non-zero.
    /// - Throws: a decoding error if the output section is missing, malformed or has another id.
    @inlinable
    public static func readOutputs<Inputs, Outputs>(
        _ function: IPCFunction<Inputs, Outputs>, of call: PendingCall, buffer: SharedBuffer
    ) throws(SIPCError) -> Outputs {
        var reader = try buffer.reader(from: call.outputsAt, limit: call.outputsLimit)
        try readSectionHeader(&reader, id: function.id, marker: SIPCConstants.outputMarker)
        let outputs = try function.decodeOutputs(from: &reader)
        try buffer.commit(reader)
        return outputs
    }

    /// Callee: reads the frame header in `slot` of the receive buffer.
    /// - Returns: the incoming call, its reader positioned at the first input.
    @inlinable
    public static func readIncoming(slot: Int, layout: SlotLayout, buffer: SharedBuffer) throws(SIPCError)
        -> IncomingCall
    {
        let range = try layout.range(ofSlot: slot, capacity: buffer.capacity)
        var reader = try buffer.reader(from: range.lowerBound, limit: range.upperBound)
        let (sequence, id) = try readCallHeader(&reader)
        return IncomingCall(
            version: .v2, sequence: sequence, functionID: id, inputs: reader,
            inputsEnd: nil, outputsLimit: range.upperBound, buffer: buffer)
    }

    /// Bytes of a call's header: seq, id, id, marker.
    @usableFromInline static var callHeaderSize: Int { 13 }

    // The frame's fixed fields are read and written with one bounds check for the whole header. When
    // the bytes are not all there, the field-by-field paths below raise the exact error a reader or
    // writer would (which field, at which offset).

    /// Reads a section header (`u32 id, u8 marker`) and checks both.
    @inlinable @inline(__always)
    static func readSectionHeader(_ reader: inout ParamReader, id: UInt32, marker: UInt8) throws(SIPCError) {
        guard reader.remaining >= 5 else { return try readSectionHeaderByField(&reader, id: id, marker: marker) }
        let found: UInt32 = reader.peekUnchecked(at: 0)
        let foundMarker: UInt8 = reader.peekUnchecked(at: 4)
        guard found == id, foundMarker == marker else {
            return try readSectionHeaderByField(&reader, id: id, marker: marker)
        }
        reader.skipUnchecked(5)
    }

    @inlinable @inline(never)
    static func readSectionHeaderByField(_ reader: inout ParamReader, id: UInt32, marker: UInt8) throws(SIPCError) {
        let at = reader.position
        let found: UInt32 = try reader.readInteger()
        guard found == id else { throw .idMismatch(offset: at, expected: id, found: found) }
        try reader.expectMarker(marker)
    }

    /// Reads a call's header (`i32 seq, u32 id, u32 id, u8 0xF0`) and checks the repeated id and the marker.
    @inlinable @inline(__always)
    static func readCallHeader(_ reader: inout ParamReader) throws(SIPCError) -> (sequence: Int32, id: UInt32) {
        guard reader.remaining >= callHeaderSize else { return try readCallHeaderByField(&reader) }
        let sequence: Int32 = reader.peekUnchecked(at: 0)
        let id: UInt32 = reader.peekUnchecked(at: 4)
        let repeated: UInt32 = reader.peekUnchecked(at: 8)
        let marker: UInt8 = reader.peekUnchecked(at: 12)
        guard repeated == id, marker == SIPCConstants.inputMarker else { return try readCallHeaderByField(&reader) }
        reader.skipUnchecked(callHeaderSize)
        return (sequence, id)
    }

    @inlinable @inline(never)
    static func readCallHeaderByField(_ reader: inout ParamReader) throws(SIPCError) -> (sequence: Int32, id: UInt32) {
        let sequence: Int32 = try reader.readInteger()
        let id: UInt32 = try reader.readInteger()
        try readSectionHeaderByField(&reader, id: id, marker: SIPCConstants.inputMarker)
        return (sequence, id)
    }

    /// Writes a call's header (`i32 seq, u32 id, u32 id, u8 0xF0`).
    @inlinable @inline(__always)
    static func writeCallHeader(_ writer: inout ParamWriter, sequence: Int32, id: UInt32) throws(SIPCError) {
        guard writer.remaining >= callHeaderSize else {
            return try writeCallHeaderByField(&writer, sequence: sequence, id: id)
        }
        writer.storeUnchecked(sequence, at: 0)
        writer.storeUnchecked(id, at: 4)
        writer.storeUnchecked(id, at: 8)
        writer.storeUnchecked(SIPCConstants.inputMarker, at: 12)
        writer.skipUnchecked(callHeaderSize)
    }

    @inlinable @inline(never)
    static func writeCallHeaderByField(_ writer: inout ParamWriter, sequence: Int32, id: UInt32) throws(SIPCError) {
        try writer.writeInteger(sequence)
        try writer.writeInteger(id)
        try writer.writeInteger(id)
        try writer.writeByte(SIPCConstants.inputMarker)
    }

    /// Writes a section header (`u32 id, u8 marker`).
    @inlinable @inline(__always)
    static func writeSectionHeader(_ writer: inout ParamWriter, id: UInt32, marker: UInt8) throws(SIPCError) {
        guard writer.remaining >= 5 else { return try writeSectionHeaderByField(&writer, id: id, marker: marker) }
        writer.storeUnchecked(id, at: 0)
        writer.storeUnchecked(marker, at: 4)
        writer.skipUnchecked(5)
    }

    @inlinable @inline(never)
    static func writeSectionHeaderByField(_ writer: inout ParamWriter, id: UInt32, marker: UInt8) throws(SIPCError) {
        try writer.writeInteger(id)
        try writer.writeByte(marker)
    }
}

/// Caller and callee procedures for legacy v1 frames (spec §11).
///
/// Frame bytes appended at the cursor: `i32 seq, u32 id, u32 id, u8 0xF0, inputs, i32 L` where `L`
/// counts the bytes from `seq` to the end of the inputs; the callee appends `u32 id, u8 0xF1, outputs`
/// after `L`, and the caller pops the frame afterwards.
public enum FrameV1 {
    /// The fixed bytes before the inputs: seq, id, id, marker.
    public static let headerSize = 13

    /// Caller: appends the frame at the cursor.
    @inlinable
    public static func writeCall<Inputs, Outputs>(
        _ function: IPCFunction<Inputs, Outputs>, _ inputs: Inputs, sequence: Int32, buffer: SharedBuffer
    ) throws(SIPCError) -> PendingCall {
        var writer = try buffer.writer(limit: buffer.capacity)
        let start = writer.position
        try FrameV2.writeCallHeader(&writer, sequence: sequence, id: function.id)
        try function.encodeInputs(inputs, to: &writer)
        try writer.writeInteger(Int32(writer.position - start))
        try buffer.commit(writer)
        return PendingCall(outputsAt: writer.position, outputsLimit: buffer.capacity, frameStart: start)
    }

    /// Caller: reads the outputs, then pops the frame (tail and cursor back to its start).
    @inlinable
    public static func readOutputs<Inputs, Outputs>(
        _ function: IPCFunction<Inputs, Outputs>, of call: PendingCall, buffer: SharedBuffer
    ) throws(SIPCError) -> Outputs {
        defer { try? pop(call, buffer: buffer) }
        var reader = try buffer.reader(from: call.outputsAt, limit: call.outputsLimit)
        try FrameV2.readSectionHeader(&reader, id: function.id, marker: SIPCConstants.outputMarker)
        return try function.decodeOutputs(from: &reader)
    }

    /// Caller: pops the frame without reading outputs (the call was not handled).
    @inlinable
    public static func pop(_ call: PendingCall, buffer: SharedBuffer) throws(SIPCError) {
        try buffer.setTail(call.frameStart)
        try buffer.moveCursor(to: call.frameStart)
    }

    /// Callee: finds the frame that ends at the cursor (reading its length backwards) and checks that
    /// its id is `functionID` (the message's `wParam`).
    @inlinable
    public static func readIncoming(functionID: UInt32, buffer: SharedBuffer) throws(SIPCError) -> IncomingCall {
        let header = try buffer.header()
        let end = header.cursor
        guard end >= headerSize + 4 else { throw .badFrameLength(offset: end, length: -1) }
        var lengthReader = try buffer.reader(from: end - 4, limit: end)
        let length: Int32 = try lengthReader.readInteger()
        guard length >= Int32(headerSize), Int(length) <= end - 4 else {
            throw .badFrameLength(offset: end, length: length)
        }
        let start = end - 4 - Int(length)
        var reader = try buffer.reader(from: start, limit: end - 4)
        let sequence: Int32 = try reader.readInteger()
        let idAt = reader.position
        let id: UInt32 = try reader.readInteger()
        guard id == functionID else { throw .idMismatch(offset: idAt, expected: functionID, found: id) }
        try FrameV2.readSectionHeader(&reader, id: id, marker: SIPCConstants.inputMarker)
        return IncomingCall(
            version: .v1, sequence: sequence, functionID: id, inputs: reader,
            inputsEnd: end - 4, outputsLimit: buffer.capacity, buffer: buffer)
    }
}

/// A call a peer made to us, parsed up to its inputs.
public struct IncomingCall {
    /// The frame format it came in.
    public let version: WireVersion
    /// The caller's sequence number (informational; SOUI never checks it).
    public let sequence: Int32
    /// The function id to dispatch on.
    public let functionID: UInt32
    /// A reader positioned at the first input.
    public var inputs: ParamReader
    /// v1: where the inputs must end (the length field); v2: nil (v2 frames carry no length).
    public let inputsEnd: Int?
    /// The writable end for the outputs (v2: the slot's end; v1: the capacity).
    public let outputsLimit: Int
    /// The receive buffer.
    public let buffer: SharedBuffer

    @usableFromInline
    init(
        version: WireVersion, sequence: Int32, functionID: UInt32, inputs: ParamReader,
        inputsEnd: Int?, outputsLimit: Int, buffer: SharedBuffer
    ) {
        self.version = version; self.sequence = sequence; self.functionID = functionID
        self.inputs = inputs; self.inputsEnd = inputsEnd; self.outputsLimit = outputsLimit; self.buffer = buffer
    }

    /// Call after decoding the inputs with `reader`: checks where they ended and returns where the
    /// outputs go. v2 leaves the shared cursor after the inputs, as SOUI's callee does.
    @inlinable @inline(__always)
    public func finishInputs(_ reader: ParamReader) throws(SIPCError) -> Int {
        if let inputsEnd {
            guard reader.position == inputsEnd else {
                throw .frameLengthMismatch(offset: inputs.position, expectedEnd: inputsEnd, actualEnd: reader.position)
            }
            return inputsEnd + 4
        }
        try buffer.commit(reader)
        return reader.position
    }

    /// Writes the output section (`id, 0xF1, outputs`) at `position` and leaves cursor and tail after it.
    @inlinable
    public func writeOutputs<Inputs, Outputs>(
        _ function: IPCFunction<Inputs, Outputs>, _ outputs: Outputs, at position: Int
    ) throws(SIPCError) {
        var writer = try buffer.writer(from: position, limit: outputsLimit)
        try FrameV2.writeSectionHeader(&writer, id: function.id, marker: SIPCConstants.outputMarker)
        try function.encodeOutputs(outputs, to: &writer)
        try buffer.commit(writer)
    }
}
