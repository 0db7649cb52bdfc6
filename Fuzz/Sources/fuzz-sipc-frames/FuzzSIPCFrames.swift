// libFuzzer target: the SIPC frame path. A peer controls the whole shared buffer (header included) and the
// call message's wParam; whatever it writes, dispatch and the caller's output decode must answer with a typed
// outcome, never trap, never touch memory outside the mapping (AddressSanitizer) and, for v2, never write
// outside the called slot.
//
// Input layout (FuzzInput reads zeros past the end):
//   u8 mode        bit 0: v1 / v2; bits 1-2: scenario (0, 3 callee dispatch; 1 caller output decode;
//                  2 SharedBuffer operations); bit 3: keep the header consistent
//   u8 bufSize     slot size = 18 + value
//   u8 stackSize   slots = 1 + value % 6
//   u8 + u64       the wParam: a slot or a function id picked from a few, or a raw u64 (bit 7 of the u8)
//   u32 × 3        header fields (used as they are unless bit 3 of mode keeps them consistent)
//   rest           the bytes the peer wrote into the data area
import FuzzSupport
import SIPC

/// Functions covering every parameter kind SIPC has: integers, floats, both string forms, nested arrays, the
/// Win32 structs, fixed byte arrays, no inputs or outputs, a handler that throws, outputs that outgrow a slot,
/// and an id past the router's direct table (the hashed path).
enum Functions {
    static let addInt = IPCFunction(id: 102, name: "AddInt", inputs: (Int32.self, Int32.self), outputs: Int32.self)
    static let concat = IPCFunction(
        id: 103, name: "Concat", inputs: (WideString.self, WideString.self), outputs: WideString.self)
    static let narrow = IPCFunction(
        id: 104, name: "Narrow", inputs: (NarrowString.self, [Int32].self), outputs: ([Int32].self, NarrowString.self))
    static let mixed = IPCFunction(
        id: 105, name: "Mixed", inputs: ([WideString].self, CBool.self, Double.self, Win32BOOL.self),
        outputs: (Int64.self, [WideString].self))
    static let geometry = IPCFunction(
        id: 106, name: "Geometry", inputs: (Win32Rect.self, Win32Point.self, Win32Size.self, Handle64.self),
        outputs: Win32Rect.self)
    static let keyboard = IPCFunction(
        id: 107, name: "Keyboard", inputs: (FixedBytes<16>.self, UInt8.self, Int16.self, Float.self),
        outputs: FixedBytes<16>.self)
    static let fails = IPCFunction(id: 108, name: "Fails", inputs: Int32.self, outputs: Int32.self)
    static let grow = IPCFunction(id: 109, name: "Grow", inputs: UInt16.self, outputs: [UInt8].self)
    static let nothing = IPCFunction(id: 110, name: "Nothing", inputs: (), outputs: ())
    static let nested = IPCFunction(
        id: 5000, name: "Nested", inputs: ([[UInt8]].self, [[WideString]].self), outputs: UInt32.self)

    static let ids: [UInt32] = [102, 103, 104, 105, 106, 107, 108, 109, 110, 5000]
}

struct HandlerRefused: Error {}

/// libFuzzer calls the entry point from one thread only.
nonisolated(unsafe) let router: SIPCRouter<Void> = {
    var router = SIPCRouter<Void>()
    router.register(Functions.addInt) { a, b in a &+ b }
    router.register(Functions.concat) { a, b in WideString(units: b.units + a.units) }
    router.register(Functions.narrow) { text, numbers in (numbers.reversed(), NarrowString(bytes: text.bytes + [0])) }
    router.register(Functions.mixed) { strings, flag, value, _ in
        (flag.value ? Int64(strings.count) : Int64(bitPattern: value.bitPattern), strings.reversed())
    }
    router.register(Functions.geometry) { rect, point, size, _ in
        Win32Rect(left: rect.left &+ point.x, top: rect.top &+ point.y, right: size.cx, bottom: size.cy)
    }
    router.register(Functions.keyboard) { keys, _, _, _ in keys }
    router.register(Functions.fails) { value in
        guard value & 1 == 0 else { throw HandlerRefused() }
        return value
    }
    router.register(Functions.grow) { count in [UInt8](repeating: 0x5A, count: Int(count)) }
    router.register(Functions.nothing) { _ in () }
    router.register(Functions.nested) { bytes, strings in UInt32(bytes.count &+ strings.count) }
    return router
}()

/// Writes a call to each function with fixed, valid inputs: the caller's side before the peer answers.
func writeCall(
    _ index: Int, version: WireVersion, slot: Int, layout: SlotLayout, buffer: SharedBuffer
) throws(SIPCError) -> (PendingCall, (PendingCall) throws(SIPCError) -> Void) {
    func call<I, O>(_ function: IPCFunction<I, O>, _ inputs: I) throws(SIPCError) -> (
        PendingCall, (PendingCall) throws(SIPCError) -> Void
    ) {
        let pending =
            switch version {
            case .v2:
                try FrameV2.writeCall(function, inputs, sequence: 7, slot: slot, layout: layout, buffer: buffer)
            case .v1: try FrameV1.writeCall(function, inputs, sequence: 7, buffer: buffer)
            }
        return (
            pending,
            { call throws(SIPCError) in
                switch version {
                case .v2: _ = try FrameV2.readOutputs(function, of: call, buffer: buffer)
                case .v1: _ = try FrameV1.readOutputs(function, of: call, buffer: buffer)
                }
            }
        )
    }
    switch index % 10 {
    case 0: return try call(Functions.addInt, (1, 2))
    case 1: return try call(Functions.concat, ("ab", "c"))
    case 2: return try call(Functions.narrow, ("xy", [1, 2, 3]))
    case 3: return try call(Functions.mixed, (["a", "bc"], true, 1.5, true))
    case 4:
        return try call(
            Functions.geometry,
            (
                Win32Rect(left: 1, top: 2, right: 3, bottom: 4), Win32Point(x: 5, y: 6), Win32Size(cx: 7, cy: 8),
                Handle64(rawValue: 9)
            ))
    case 5: return try call(Functions.keyboard, (FixedBytes<16>(), 1, -2, 0.5))
    case 6: return try call(Functions.fails, 4)
    case 7: return try call(Functions.grow, 3)
    case 8: return try call(Functions.nothing, ())
    default: return try call(Functions.nested, ([[1], []], [["q"]]))
    }
}

/// The bytes of the data area outside `range`, to check that a v2 dispatch wrote only inside its slot.
func bytesOutside(_ range: Range<Int>, of buffer: SharedBuffer) -> [UInt8] {
    let data = UnsafeRawBufferPointer(start: buffer.data, count: buffer.capacity)
    return Array(data[0..<range.lowerBound]) + Array(data[range.upperBound...])
}

func run(_ input: inout FuzzInput) {
    let mode = input.byte()
    let version: WireVersion = mode & 1 == 0 ? .v2 : .v1
    let scenario = Int(mode >> 1) & 3
    let consistentHeader = mode & 8 != 0
    guard
        let layout = try? SlotLayout(
            bufSize: SlotLayout.minimumBufSize + Int(input.byte()), stackSize: 1 + input.pick(6))
    else { return fuzzCheck(false, "a layout in range was refused") }
    let which = input.byte()
    let rawWParam = input.integer(UInt64.self)
    let wParam: UInt64 =
        which & 0x80 != 0
        ? rawWParam
        : (version == .v2 ? UInt64(which & 7) : UInt64(Functions.ids[Int(which & 0x7F) % Functions.ids.count]))
    let header = (
        capacity: input.integer(UInt32.self), tail: input.integer(UInt32.self), cursor: input.integer(UInt32.self)
    )

    // The mapping is exactly as large as the layout: AddressSanitizer sees any access past it.
    guard let memory = try? OwnedSharedMemory(capacity: layout.capacity) else {
        return fuzzCheck(false, "OwnedSharedMemory(\(layout.capacity)) failed")
    }
    let buffer = memory.buffer

    switch scenario {
    case 1: callerDecode(input.rest(), header, consistentHeader, version, layout, wParam, buffer)
    case 2: bufferOperations(&input, header, buffer)
    default: calleeDispatch(input.rest(), header, consistentHeader, version, layout, wParam, memory)
    }
}

/// Writes `content` at `start` and sets the header: as given, or made consistent (capacity right, tail at the
/// end of the content, cursor inside it).
func place(
    _ content: [UInt8], at start: Int, _ header: (capacity: UInt32, tail: UInt32, cursor: UInt32),
    consistent: Bool, in buffer: SharedBuffer
) -> Int {
    let count = max(0, min(content.count, buffer.capacity - start))
    content.withUnsafeBytes { raw in
        if count > 0 { (buffer.data + start).copyMemory(from: raw.baseAddress!, byteCount: count) }
    }
    if consistent {
        let tail = start + count
        buffer.storeHeader(
            capacity: UInt32(buffer.capacity), tail: UInt32(tail), cursor: UInt32(Int(header.cursor) % (tail + 1)))
    } else {
        buffer.storeHeader(capacity: header.capacity, tail: header.tail, cursor: header.cursor)
    }
    return start + count
}

/// The callee: the peer wrote a frame (or garbage) and sent the call message.
func calleeDispatch(
    _ content: [UInt8], _ header: (capacity: UInt32, tail: UInt32, cursor: UInt32), _ consistent: Bool,
    _ version: WireVersion, _ layout: SlotLayout, _ wParam: UInt64, _ memory: OwnedSharedMemory
) {
    let buffer = memory.buffer
    switch version {
    case .v2:
        // The host refuses a wParam past the stack before it dispatches (SIPCServer, SIPCClient); dispatch
        // itself must refuse any Int, negative ones included.
        let slot = Int(truncatingIfNeeded: wParam)
        let start = (try? layout.range(ofSlot: slot, capacity: buffer.capacity).lowerBound) ?? 0
        _ = place(content, at: start, header, consistent: consistent, in: buffer)
        let before = try? layout.range(ofSlot: slot, capacity: buffer.capacity)
        let outside = before.map { bytesOutside($0, of: buffer) }
        let outcome = router.dispatchV2(slot: slot, layout: layout, buffer: buffer, context: ())
        if let before, let outside {
            fuzzCheck(bytesOutside(before, of: buffer) == outside, "v2 dispatch wrote outside slot \(slot)")
        } else {
            fuzzCheck(!outcome.isHandled, "a call in slot \(slot), outside the stack, was handled")
        }
        if outcome.isHandled {
            let state = try? buffer.header()
            fuzzCheck(state != nil, "a handled call left an invalid header")
            if let state, let before {
                fuzzCheck(before.contains(state.cursor) || state.cursor == before.upperBound, "cursor left the slot")
            }
        }
    case .v1:
        let end = place(content, at: 0, header, consistent: consistent, in: buffer)
        if consistent && header.cursor & 1 == 0 {
            // A v1 frame ends at the cursor: most often right after the peer's bytes.
            buffer.storeHeader(capacity: UInt32(buffer.capacity), tail: UInt32(end), cursor: UInt32(end))
        }
        // The frame lies before the cursor and the outputs go after it: nothing before the cursor may change.
        let cursor = (try? buffer.header())?.cursor
        let frame = cursor.map { Array(UnsafeRawBufferPointer(start: buffer.data, count: $0)) }
        let outcome = router.dispatchV1(functionID: UInt32(truncatingIfNeeded: wParam), buffer: buffer, context: ())
        if let cursor, let frame {
            fuzzCheck(
                Array(UnsafeRawBufferPointer(start: buffer.data, count: cursor)) == frame,
                "v1 dispatch wrote before the cursor \(cursor)")
        }
        if outcome.isHandled {
            fuzzCheck((try? buffer.header()) != nil, "a handled v1 call left an invalid header")
        }
    }
}

/// The caller: it wrote a valid call, the peer answered with anything (outputs, header) and returned non-zero.
func callerDecode(
    _ content: [UInt8], _ header: (capacity: UInt32, tail: UInt32, cursor: UInt32), _ consistent: Bool,
    _ version: WireVersion, _ layout: SlotLayout, _ wParam: UInt64, _ buffer: SharedBuffer
) {
    let slot = Int(wParam % UInt64(layout.stackSize))
    guard
        let (pending, readOutputs) = try? writeCall(
            Int(wParam % 10), version: version, slot: slot, layout: layout, buffer: buffer)
    else { return }  // the inputs did not fit this layout: a typed error, nothing to answer
    // The peer's answer, written where the outputs go; the header as the peer left it.
    let written = place(content, at: pending.outputsAt, header, consistent: false, in: buffer)
    if consistent {
        buffer.storeHeader(
            capacity: UInt32(buffer.capacity), tail: UInt32(written), cursor: UInt32(pending.outputsAt))
    }
    do { try readOutputs(pending) } catch {}
    if version == .v1 { try? FrameV1.pop(pending, buffer: buffer) }
}

/// SOUI's buffer operations with hostile arguments on a hostile header; the rest of the input is the script.
func bufferOperations(
    _ script: inout FuzzInput, _ header: (capacity: UInt32, tail: UInt32, cursor: UInt32), _ buffer: SharedBuffer
) {
    buffer.storeHeader(capacity: header.capacity, tail: header.tail, cursor: header.cursor)
    for _ in 0..<16 where script.remaining > 0 {
        let offset = Int(truncatingIfNeeded: script.integer(Int64.self))
        do {
            switch script.pick(7) {
            case 0: try buffer.seek([.set, .current, .end][script.pick(3)], offset)
            case 1: try buffer.setTail(offset)
            case 2: try buffer.moveCursor(to: offset)
            case 3:
                let bytes = script.take(script.pick(64))
                try bytes.withUnsafeBytes { raw in try buffer.write(raw) }
            case 4:
                var sink = [UInt8](repeating: 0, count: script.pick(64))
                try sink.withUnsafeMutableBytes { raw in try buffer.read(into: raw) }
            case 5:
                let limit = Int(truncatingIfNeeded: script.integer(Int64.self))
                var reader = try buffer.reader(from: offset, limit: limit)
                _ = try [WideString].read(from: &reader)
            default:
                // A client attaching to a mapping the peer created, whose header says anything.
                let attached = try SharedBuffer.attach(base: buffer.base, mappingSize: buffer.capacity + 12)
                _ = try attached.header()
            }
        } catch {}
    }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSIPCFrames(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    run(&input)
    return 0
}
