import SIPC
import Testing

/// Byte vectors written by hand from the spec (soui-sipc.md), checked in both directions: what we
/// encode equals them, and what we decode from them is the right value.
@Suite struct GoldenVectorTests {
    /// One call of the golden set: the caller's frame bytes and the callee's output section.
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let sequence: Int32
        let input: [UInt8]  // seq … inputs (v2) — without v1's length field
        let output: [UInt8]  // id, F1, outputs
        var testDescription: String { name }
    }

    static let v2Vectors: [Vector] = [
        // AddInt(1, 2) = 3, seq 0.
        Vector(
            name: "AddInt", sequence: 0,
            input: hex("00000000 66000000 66000000 F0 01000000 02000000"),
            output: hex("66000000 F1 03000000")),
        // AddString("ab", "c") = "abc": tstring = int32 count + UTF-16LE.
        Vector(
            name: "AddString", sequence: 1,
            input: hex("01000000 67000000 67000000 F0 02000000 6100 6200 01000000 6300"),
            output: hex("67000000 F1 03000000 6100 6200 6300")),
        // SayHello("hi"), no outputs: the section header alone.
        Vector(
            name: "SayHello", sequence: 2,
            input: hex("02000000 68000000 68000000 F0 02000000 6800 6900"),
            output: hex("68000000 F1")),
        // Sum(3) = 6.
        Vector(
            name: "Sum", sequence: 3,
            input: hex("03000000 69000000 69000000 F0 03000000"),
            output: hex("69000000 F1 06000000")),
    ]

    static func demoRouter() -> SIPCRouter<Void> {
        var router = SIPCRouter<Void>()
        router.register(Demo.addInt) { a, b in a &+ b }
        router.register(Demo.addString) { a, b in WideString(units: a.units + b.units) }
        router.register(Demo.sayHello) { _ in () }
        router.register(Demo.sum) { n in n * (n + 1) / 2 }
        return router
    }

    /// Encodes the caller's side of `vector` through the real descriptor.
    static func encode(_ vector: Vector, version: WireVersion, buffer: SharedBuffer, layout: SlotLayout) throws
        -> PendingCall
    {
        switch (vector.name, version) {
        case ("AddInt", .v2):
            try FrameV2.writeCall(
                Demo.addInt, (1, 2), sequence: vector.sequence, slot: 0, layout: layout, buffer: buffer)
        case ("AddString", .v2):
            try FrameV2.writeCall(
                Demo.addString, ("ab", "c"), sequence: vector.sequence, slot: 0, layout: layout, buffer: buffer)
        case ("SayHello", .v2):
            try FrameV2.writeCall(
                Demo.sayHello, "hi", sequence: vector.sequence, slot: 0, layout: layout, buffer: buffer)
        case ("Sum", .v2):
            try FrameV2.writeCall(Demo.sum, 3, sequence: vector.sequence, slot: 0, layout: layout, buffer: buffer)
        case ("AddInt", .v1): try FrameV1.writeCall(Demo.addInt, (1, 2), sequence: vector.sequence, buffer: buffer)
        case ("AddString", .v1):
            try FrameV1.writeCall(Demo.addString, ("ab", "c"), sequence: vector.sequence, buffer: buffer)
        case ("SayHello", .v1): try FrameV1.writeCall(Demo.sayHello, "hi", sequence: vector.sequence, buffer: buffer)
        default: try FrameV1.writeCall(Demo.sum, 3, sequence: vector.sequence, buffer: buffer)
        }
    }

    static func checkOutputs(_ vector: Vector, call: PendingCall, version: WireVersion, buffer: SharedBuffer) throws {
        func read<I, O>(_ f: IPCFunction<I, O>) throws -> O {
            version == .v2
                ? try FrameV2.readOutputs(f, of: call, buffer: buffer)
                : try FrameV1.readOutputs(f, of: call, buffer: buffer)
        }
        switch vector.name {
        case "AddInt": #expect(try read(Demo.addInt) == 3)
        case "AddString": #expect(try read(Demo.addString).string == "abc")
        case "SayHello": try read(Demo.sayHello)
        default: #expect(try read(Demo.sum) == 6)
        }
    }

    @Test(arguments: v2Vectors)
    func v2CallerEncodesTheSpecBytes(_ vector: Vector) throws {
        let layout = try SlotLayout(bufSize: 2048, stackSize: 4)
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        let call = try Self.encode(vector, version: .v2, buffer: memory.buffer, layout: layout)
        #expect(memory.buffer.bytes(0..<call.outputsAt) == vector.input)
        #expect(
            try memory.buffer.header() == .init(capacity: 8192, tail: vector.input.count, cursor: vector.input.count))
    }

    @Test(arguments: v2Vectors)
    func v2CalleeDecodesTheSpecBytesAndAnswersWithTheSpecBytes(_ vector: Vector) throws {
        let layout = try SlotLayout(bufSize: 2048, stackSize: 4)
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        // A peer's frame in slot 1, written byte by byte from the spec.
        try memory.buffer.place(vector.input, at: 2048)
        #expect(Self.demoRouter().dispatchV2(slot: 1, layout: layout, buffer: memory.buffer, context: ()) == .handled)
        #expect(
            memory.buffer.bytes(2048..<(2048 + vector.input.count + vector.output.count)) == vector.input
                + vector.output)
        let end = 2048 + vector.input.count + vector.output.count
        #expect(try memory.buffer.header() == .init(capacity: 8192, tail: end, cursor: end))
    }

    @Test(arguments: v2Vectors)
    func v2CallerDecodesTheSpecOutputBytes(_ vector: Vector) throws {
        let layout = try SlotLayout(bufSize: 2048, stackSize: 4)
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        let call = try Self.encode(vector, version: .v2, buffer: memory.buffer, layout: layout)
        try memory.buffer.place(vector.output, at: call.outputsAt)  // the peer's answer
        try Self.checkOutputs(vector, call: call, version: .v2, buffer: memory.buffer)
    }

    /// v1 = the same bytes plus the trailing int32 length L (bytes from seq to the end of the inputs).
    static func v1Input(_ vector: Vector) -> [UInt8] {
        let length = UInt32(vector.input.count)
        return vector.input + [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), 0, 0]
    }

    @Test func v1LengthFieldsAreSpelledOut() {
        // L for AddInt = 4 + 4 + 4 + 1 + 8 = 21 = 0x15.
        #expect(Self.v1Input(Self.v2Vectors[0]) == hex("00000000 66000000 66000000 F0 01000000 02000000 15000000"))
    }

    @Test(arguments: v2Vectors)
    func v1RoundTripsTheSpecBytes(_ vector: Vector) throws {
        let memory = try OwnedSharedMemory(capacity: 1024)
        let buffer = memory.buffer
        // Caller side: exact bytes, appended at the cursor.
        let call = try Self.encode(
            vector, version: .v1, buffer: buffer, layout: try SlotLayout(bufSize: 1024, stackSize: 1))
        #expect(buffer.bytes(0..<call.outputsAt) == Self.v1Input(vector))
        // Callee side: found backwards from the cursor; answer appended after L.
        #expect(
            Self.demoRouter().dispatchV1(functionID: UInt32(vector.input[4]), buffer: buffer, context: ()) == .handled)
        #expect(buffer.bytes(call.outputsAt..<(call.outputsAt + vector.output.count)) == vector.output)
        // Caller reads the outputs and pops the frame.
        try Self.checkOutputs(vector, call: call, version: .v1, buffer: buffer)
        #expect(try buffer.header() == .init(capacity: 1024, tail: 0, cursor: 0))
    }

    @Test func v1NestedFramesStackContiguously() throws {
        let memory = try OwnedSharedMemory(capacity: 1024)
        let outer = try FrameV1.writeCall(Demo.sum, 3, sequence: 0, buffer: memory.buffer)
        let inner = try FrameV1.writeCall(Demo.addInt, (1, 2), sequence: 1, buffer: memory.buffer)
        #expect(inner.frameStart == outer.outputsAt)
        #expect(Self.demoRouter().dispatchV1(functionID: 102, buffer: memory.buffer, context: ()) == .handled)
        #expect(try FrameV1.readOutputs(Demo.addInt, of: inner, buffer: memory.buffer) == 3)
        #expect(try memory.buffer.tell() == outer.outputsAt)
    }

    /// The spec's appendix: sinstar3 `ISinstar_GetCompositionSegmentEnd` (115), iSeg = 2 → 7, seq 5.
    @Test func specAppendixExample() throws {
        let segmentEnd = IPCFunction(id: 115, name: "GetCompositionSegmentEnd", inputs: Int32.self, outputs: Int32.self)
        let profile = SIPCProfile.sinstar3
        #expect(
            try profile.bufferName(writer: 0x000A_0B2C, reader: 0x0012_0456)
                == "sistart3_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22_000a0b2c_2_00120456")
        #expect(profile.layout.capacity == 0x5000)
        let memory = try OwnedSharedMemory(capacity: profile.layout.capacity)
        let call = try FrameV2.writeCall(
            segmentEnd, 2, sequence: 5, slot: 0, layout: profile.layout, buffer: memory.buffer)
        #expect(memory.buffer.bytes(0..<17) == hex("05000000 73000000 73000000 F0 02000000"))
        #expect(call.outputsAt == 17)
        var router = SIPCRouter<Void>()
        router.register(segmentEnd) { segment in segment == 2 ? 7 : -1 }
        #expect(router.dispatchV2(slot: 0, layout: profile.layout, buffer: memory.buffer, context: ()) == .handled)
        #expect(memory.buffer.bytes(17..<26) == hex("73000000 F1 07000000"))
        #expect(try FrameV2.readOutputs(segmentEnd, of: call, buffer: memory.buffer) == 7)
    }

    @Test func bufferNamesUseLowThirtyTwoBitsInLowerCaseHex() throws {
        let demo = try SIPCProfile.ipcDemo()
        #expect(
            try demo.bufferName(writer: 0xFFFF_FFFF_0000_ABCD, reader: 0x1)
                == "demo2_share_buffer_8085395F-E2FA-4F96-8BD0-FE5D7412CD22_0000abcd_2_00000001")
        #expect(SIPCProfile.eventName(forBuffer: "x") == "x_mutex")
        var broken = demo
        broken.bufferNameFormat = "only_one_%08x"
        #expect(throws: SIPCError.self) { try broken.bufferName(writer: 1, reader: 2) }
    }
}
