import PropertyBased
import SIPC
import Testing

/// A peer can write anything into the shared buffer and send any wParam: every case below must be
/// refused with a typed error (LRESULT 0), never a trap, and never a write outside the slot.
@Suite struct HostileInputTests {
    let layout = try! SlotLayout(bufSize: 64, stackSize: 4)

    var router: SIPCRouter<Void> {
        var router = GoldenVectorTests.demoRouter()
        router.register(RoundTripPropertyTests.wide) { a, b, c, d, e, f, g, h in (h, g, f, e, d, c, b, a) }
        return router
    }

    func dispatch(_ frame: [UInt8], slot: Int = 0) throws -> (DispatchOutcome, SharedBuffer, OwnedSharedMemory) {
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        try memory.buffer.place(frame, at: slot * layout.bufSize)
        return (
            router.dispatchV2(slot: slot, layout: layout, buffer: memory.buffer, context: ()), memory.buffer, memory
        )
    }

    @Test func everyTruncationOfAValidFrameIsRefused() throws {
        let frame = hex("01000000 67000000 67000000 F0 02000000 6100 6200 01000000 6300")
        for length in 0..<frame.count {
            let (outcome, _, _) = try dispatch(Array(frame.prefix(length)))
            guard case .malformed(let error) = outcome else {
                Issue.record("prefix of \(length) bytes gave \(outcome)")
                continue
            }
            switch error {
            case .truncated, .countTooLarge: break  // a cut header, or a string count past the cut
            default: Issue.record("prefix of \(length) bytes gave \(error)")
            }
        }
    }

    @Test func negativeStringCount() throws {
        let (outcome, _, _) = try dispatch(hex("00000000 67000000 67000000 F0 FFFFFFFF"))
        #expect(outcome == .malformed(.negativeCount(offset: 13, count: -1)))
    }

    @Test func countPastTheSlot() throws {
        // 1000 UTF-16 units claimed in a 64-byte slot whose tail is at 64: refused before allocating.
        var frame = hex("00000000 67000000 67000000 F0 E8030000")
        frame += [UInt8](repeating: 0x41, count: 64 - frame.count)
        let (outcome, _, _) = try dispatch(frame)
        #expect(outcome == .malformed(.countTooLarge(offset: 13, count: 1000, available: 47)))
    }

    @Test func hugeArrayCountIsRefusedBeforeAllocating() throws {
        // Int32.max elements of Int32 claimed.
        let memory = try OwnedSharedMemory(capacity: 64)
        try memory.buffer.place(hex("FFFFFF7F 00000000"), at: 0)
        var reader = try memory.buffer.reader(from: 0, limit: 64)
        #expect(throws: SIPCError.countTooLarge(offset: 0, count: Int(Int32.max), available: 4)) {
            _ = try [Int32].read(from: &reader)
        }
    }

    @Test func slotIndexPastTheStack() throws {
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        for slot in [4, 5, 1 << 40, -1, Int.min] {
            let outcome = router.dispatchV2(slot: slot, layout: layout, buffer: memory.buffer, context: ())
            #expect(outcome == .malformed(.slotOutOfRange(slot: slot, stackSize: 4)))
        }
    }

    @Test func slotPastASmallerBufferThanTheLayoutSays() throws {
        // The peer's buffer holds two slots, the layout says four.
        let memory = try OwnedSharedMemory(capacity: 2 * layout.bufSize)
        let outcome = router.dispatchV2(slot: 3, layout: layout, buffer: memory.buffer, context: ())
        #expect(outcome == .malformed(.slotOutOfRange(slot: 3, stackSize: 2)))
    }

    @Test func tamperedHeaderFields() throws {
        let frame = hex("00000000 66000000 66000000 F0 01000000 02000000")
        let capacity = UInt32(layout.capacity)
        for (field, header) in [
            ("capacity", (capacity + 1, 21, 0)), ("capacity", (0xFFFF_FFFF, 21, 0)),
            ("tail", (capacity, capacity + 1, 0)), ("tail", (capacity, 0xFFFF_FFFF, 0)),
            ("cursor", (capacity, 21, capacity + 100)),
        ] as [(String, (UInt32, UInt32, UInt32))] {
            let memory = try OwnedSharedMemory(capacity: layout.capacity)
            try memory.buffer.place(frame, at: 0)
            memory.buffer.storeHeader(capacity: header.0, tail: header.1, cursor: header.2)
            let outcome = router.dispatchV2(slot: 0, layout: layout, buffer: memory.buffer, context: ())
            guard case .malformed(.badHeader(let name, _, _)) = outcome else {
                Issue.record("\(field): \(outcome)")
                continue
            }
            #expect(name == field)
        }
    }

    @Test func tailBelowTheFrameMeansTruncated() throws {
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        try memory.buffer.place(hex("00000000 66000000 66000000 F0 01000000 02000000"), at: 0)
        memory.buffer.storeHeader(capacity: UInt32(layout.capacity), tail: 15, cursor: 0)
        let outcome = router.dispatchV2(slot: 0, layout: layout, buffer: memory.buffer, context: ())
        #expect(outcome == .malformed(.truncated(offset: 13, needed: 4, available: 2)))
    }

    @Test func attachingToAMappingWhoseHeaderLies() throws {
        let memory = try OwnedSharedMemory(capacity: 100)
        memory.buffer.storeHeader(capacity: 200, tail: 0, cursor: 0)
        #expect(throws: SIPCError.badHeader(field: "capacity", value: 200, limit: 100)) {
            _ = try SharedBuffer.attach(base: memory.buffer.base, mappingSize: memory.mappingSize)
        }
        memory.buffer.storeHeader(capacity: 100, tail: 101, cursor: 0)
        #expect(throws: SIPCError.badHeader(field: "tail", value: 101, limit: 100)) {
            _ = try SharedBuffer.attach(base: memory.buffer.base, mappingSize: memory.mappingSize)
        }
        #expect(throws: SIPCError.self) { _ = try SharedBuffer.attach(base: memory.buffer.base, mappingSize: 11) }
        memory.buffer.storeHeader(capacity: 100, tail: 100, cursor: 100)
        #expect(try SharedBuffer.attach(base: memory.buffer.base, mappingSize: memory.mappingSize).capacity == 100)
    }

    /// Headers and multi-field structs are checked once as a whole; when cut, the error still names the
    /// field that is cut, as reading field by field would.
    @Test func cutHeadersAndStructsNameTheCutField() throws {
        /// The error reading `size`-byte fields from `start` gives when only `count` bytes are there.
        func cut(_ start: Int, fields: [Int], count: Int) -> SIPCError {
            var at = start
            for size in fields {
                if count - (at - start) < size {
                    return .truncated(offset: at, needed: size, available: count - (at - start))
                }
                at += size
            }
            preconditionFailure("not cut")
        }
        // The callee reading a call header (seq, id, id, marker).
        let header = hex("01000000 66000000 66000000 F0")
        for count in 0..<header.count {
            let (outcome, _, _) = try dispatch(Array(header.prefix(count)))
            #expect(outcome == .malformed(cut(0, fields: [4, 4, 4, 1], count: count)), "\(count) bytes")
        }
        // The caller reading an output section (id, marker, Int32) the callee cut short.
        let output = hex("66000000 F1 03000000")
        for count in 0..<output.count {
            let memory = try OwnedSharedMemory(capacity: layout.capacity)
            let pending = try FrameV2.writeCall(
                Demo.addInt, (1, 2), sequence: 0, slot: 0, layout: layout, buffer: memory.buffer)
            try memory.buffer.place(Array(output.prefix(count)), at: pending.outputsAt)
            try memory.buffer.setTail(pending.outputsAt + count)
            #expect(throws: cut(pending.outputsAt, fields: [4, 1, 4], count: count), "\(count) bytes") {
                _ = try FrameV2.readOutputs(Demo.addInt, of: pending, buffer: memory.buffer)
            }
        }
        // Points, sizes and rectangles, read and written in a window that is too short.
        let memory = try OwnedSharedMemory(capacity: 64)
        try memory.buffer.place([UInt8](repeating: 0x11, count: 16), at: 8)
        for count in 0..<16 {
            func reader() throws -> ParamReader { try memory.buffer.reader(from: 8, limit: 8 + count) }
            func writer() throws -> ParamWriter { try memory.buffer.writer(from: 8, limit: 8 + count) }
            let rect = Win32Rect(left: 1, top: 2, right: 3, bottom: 4)
            var r = try reader()
            #expect(throws: cut(8, fields: [4, 4, 4, 4], count: count)) { _ = try Win32Rect.read(from: &r) }
            var w = try writer()
            #expect(throws: SIPCError.overflow(offset: 8 + count / 4 * 4, needed: 4, available: count % 4)) {
                try rect.write(to: &w)
            }
            guard count < 8 else { continue }
            r = try reader()
            #expect(throws: cut(8, fields: [4, 4], count: count)) { _ = try Win32Point.read(from: &r) }
            r = try reader()
            #expect(throws: cut(8, fields: [4, 4], count: count)) { _ = try Win32Size.read(from: &r) }
            w = try writer()
            #expect(throws: SIPCError.overflow(offset: 8 + count / 4 * 4, needed: 4, available: count % 4)) {
                try Win32Point(x: 1, y: 2).write(to: &w)
            }
        }
        // Nothing was written past any window: the bytes after 8 + 15 are the ones placed.
        #expect(memory.buffer.bytes(23..<24) == [0x11])
    }

    /// The header is checked where it is used, not once per call: a peer that rewrites it while the
    /// handler runs cannot move the outputs out of the slot, and the caller then refuses the header.
    @Test func headerRewrittenDuringTheHandler() throws {
        var router = SIPCRouter<SharedBuffer>()
        router.registerContextual(Demo.addInt) { inputs, buffer in
            buffer.storeHeader(capacity: .max, tail: .max, cursor: .max)
            return inputs.0 &+ inputs.1
        }
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        let nextSlot = [UInt8](repeating: 0xEE, count: 64)
        try memory.buffer.place(nextSlot, at: 64)
        let pending = try FrameV2.writeCall(
            Demo.addInt, (1, 2), sequence: 0, slot: 0, layout: layout, buffer: memory.buffer)
        #expect(router.dispatchV2(slot: 0, layout: layout, buffer: memory.buffer, context: memory.buffer) == .handled)
        #expect(memory.buffer.bytes(pending.outputsAt..<(pending.outputsAt + 9)) == hex("66000000 F1 03000000"))
        #expect(memory.buffer.bytes(64..<128) == nextSlot)
        #expect(throws: SIPCError.badHeader(field: "capacity", value: .max, limit: layout.capacity)) {
            _ = try FrameV2.readOutputs(Demo.addInt, of: pending, buffer: memory.buffer)
        }
    }

    @Test func corruptedMarkersAndIDs() throws {
        #expect(
            try dispatch(hex("00000000 66000000 66000000 F1 01000000 02000000")).0
                == .malformed(.badMarker(offset: 12, expected: 0xF0, found: 0xF1)))
        #expect(
            try dispatch(hex("00000000 66000000 67000000 F0 01000000 02000000")).0
                == .malformed(.idMismatch(offset: 8, expected: 102, found: 103)))
        #expect(try dispatch(hex("00000000 7B000000 7B000000 F0")).0 == .unknownFunction(123))
    }

    @Test func callerRefusesAFrameThatOverflowsItsSlot() throws {
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        let tooLong = WideString(units: [UInt16](repeating: 0x41, count: 30))  // 13 + 4 + 60 + 4 > 64
        // Slot 1 is 64..<128: header 64..<77, count 77..<81, units from 81; unit 24 needs 127..<129.
        #expect(throws: SIPCError.overflow(offset: 127, needed: 2, available: 1)) {
            _ = try FrameV2.writeCall(
                Demo.addString, (tooLong, ""), sequence: 0, slot: 1, layout: layout, buffer: memory.buffer)
        }
        // Nothing was written into the next slot.
        #expect(memory.buffer.bytes(128..<192).allSatisfy { $0 == 0 })
    }

    @Test func calleeRefusesOutputsThatOverflowTheSlotAndLeavesTheNextSlotAlone() throws {
        // AddString("ab…", "…") whose result no longer fits the 64-byte slot.
        let a = WideString(units: [UInt16](repeating: 0x61, count: 10))
        let b = WideString(units: [UInt16](repeating: 0x62, count: 4))
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        let nextSlot = [UInt8](repeating: 0xEE, count: 64)
        try memory.buffer.place(nextSlot, at: 64)
        _ = try FrameV2.writeCall(Demo.addString, (a, b), sequence: 0, slot: 0, layout: layout, buffer: memory.buffer)
        let outcome = router.dispatchV2(slot: 0, layout: layout, buffer: memory.buffer, context: ())
        guard case .malformed(.overflow) = outcome else {
            Issue.record("expected an overflow, got \(outcome)")
            return
        }
        #expect(outcome.lresult == 0)
        #expect(memory.buffer.bytes(64..<128) == nextSlot)
    }

    @Test func handlerErrorsAreNotHandled() throws {
        struct Refused: Error {}
        var router = SIPCRouter<Void>()
        router.register(Demo.sum) { (_: Int32) throws -> Int32 in throw Refused() }
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        _ = try FrameV2.writeCall(Demo.sum, 3, sequence: 0, slot: 0, layout: layout, buffer: memory.buffer)
        let outcome = router.dispatchV2(slot: 0, layout: layout, buffer: memory.buffer, context: ())
        #expect(outcome == .handlerFailed(functionID: 105, description: "Refused()"))
        #expect(outcome.lresult == 0)
    }

    @Test func v1LengthFieldLies() throws {
        let body = hex("00000000 66000000 66000000 F0 01000000 02000000")
        for (length, expected) in [
            // The cursor ends at 29 (4 garbage bytes, 21 of frame, 4 of length).
            (Int32(-1), SIPCError.badFrameLength(offset: 29, length: -1)),
            (Int32(12), .badFrameLength(offset: 29, length: 12)),
            (Int32(26), .badFrameLength(offset: 29, length: 26)),
            (Int32.max, .badFrameLength(offset: 29, length: Int32.max)),
            (Int32(17), .frameLengthMismatch(offset: 17, expectedEnd: 21, actualEnd: 25)),
            (Int32(22), .idMismatch(offset: 7, expected: 102, found: 0x6600)),
        ] {
            let memory = try OwnedSharedMemory(capacity: 256)
            try memory.buffer.place(
                hex("EEEEEEEE") + body + withUnsafeBytes(of: length.littleEndian, Array.init), at: 0)
            try memory.buffer.seek(.set, 4 + body.count + 4)
            let outcome = router.dispatchV1(functionID: 102, buffer: memory.buffer, context: ())
            if length == 17 || length == 22 {
                // The frame then "starts" inside the real one or the garbage: its ids do not line up.
                guard case .malformed = outcome else { Issue.record("L=\(length): \(outcome)"); continue }
            } else {
                #expect(outcome == .malformed(expected), "L=\(length)")
            }
        }
        let memory = try OwnedSharedMemory(capacity: 256)
        #expect(
            router.dispatchV1(functionID: 102, buffer: memory.buffer, context: ())
                == .malformed(.badFrameLength(offset: 0, length: -1)))
    }

    @Test func v1WParamMustMatchTheFrame() throws {
        let memory = try OwnedSharedMemory(capacity: 256)
        _ = try FrameV1.writeCall(Demo.addInt, (1, 2), sequence: 0, buffer: memory.buffer)
        #expect(
            router.dispatchV1(functionID: 105, buffer: memory.buffer, context: ())
                == .malformed(.idMismatch(offset: 4, expected: 105, found: 102)))
    }

    @Test func seekAndSetTailStayInside() throws {
        let memory = try OwnedSharedMemory(capacity: 32)
        let buffer = memory.buffer
        #expect(throws: SIPCError.seekOutOfRange(target: 33, capacity: 32)) { try buffer.seek(.set, 33) }
        #expect(throws: SIPCError.seekOutOfRange(target: -1, capacity: 32)) { try buffer.seek(.set, -1) }
        #expect(throws: SIPCError.self) { try buffer.seek(.current, Int.max) }
        try buffer.seek(.set, 20)  // raises the tail ("auto expand")
        #expect(try buffer.header() == .init(capacity: 32, tail: 20, cursor: 20))
        try buffer.setTail(8)  // pulls the cursor back
        #expect(try buffer.header() == .init(capacity: 32, tail: 8, cursor: 8))
        try buffer.seek(.end, -8)
        #expect(try buffer.tell() == 0)
        var sink = [UInt8](repeating: 0, count: 9)
        #expect(throws: SIPCError.truncated(offset: 0, needed: 9, available: 8)) {
            try sink.withUnsafeMutableBytes { try buffer.read(into: $0) }
        }
        let big = [UInt8](repeating: 1, count: 33)
        #expect(throws: SIPCError.overflow(offset: 0, needed: 33, available: 32)) {
            try big.withUnsafeBytes { try buffer.write($0) }
        }
    }

    /// Random bytes in a slot and random header fields: any outcome but a trap, and nothing written
    /// outside the slot.
    @Test func randomFramesNeverTrapOrSpill() async {
        let layout = self.layout
        let router = self.router
        await propertyCheck(
            count: 2000, input: Gen.uint8().array(of: 0...64), Gen.uint32(in: 0...300), Gen.uint32(in: 0...300),
            Gen.int(in: -1...5)
        ) { bytes, tail, cursor, slot in
            let memory = try OwnedSharedMemory(capacity: layout.capacity)
            let guardBytes = [UInt8](repeating: 0xA5, count: layout.capacity)
            try memory.buffer.place(guardBytes, at: 0)
            try memory.buffer.place(bytes, at: 64)
            memory.buffer.storeHeader(capacity: UInt32(layout.capacity), tail: tail, cursor: cursor)
            _ = router.dispatchV2(slot: slot, layout: layout, buffer: memory.buffer, context: ())
            #expect(memory.buffer.bytes(0..<64) == Array(guardBytes[0..<64]))
            #expect(memory.buffer.bytes(128..<256) == Array(guardBytes[128..<256]))
        }
    }

    /// Valid frames with random bytes flipped decode or are refused, never trap.
    @Test func corruptedValidFramesNeverTrap() async {
        let layout = self.layout
        let router = self.router
        await propertyCheck(count: 2000, input: Gen.int(in: 0..<26), Gen.uint8(), Gen.int(in: 0..<26), Gen.uint8()) {
            i, x, j, y in
            var frame = hex("01000000 67000000 67000000 F0 02000000 6100 6200 01000000 6300")
            frame[i] ^= x
            frame[j] ^= y
            let memory = try OwnedSharedMemory(capacity: layout.capacity)
            try memory.buffer.place(frame, at: 0)
            let outcome = router.dispatchV2(slot: 0, layout: layout, buffer: memory.buffer, context: ())
            #expect(outcome == .handled || outcome.lresult == 0)
        }
    }
}
