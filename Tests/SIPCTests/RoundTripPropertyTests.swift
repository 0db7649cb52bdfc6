import PropertyBased
import SIPC
import Testing

/// Every type round-trips, and takes exactly its documented wire size.
@Suite struct RoundTripPropertyTests {
    @Test func integersRoundTripLittleEndian() async {
        await propertyCheck(
            input: Gen.int8(), Gen.uint8(), Gen.int16(), Gen.uint16(), Gen.int32(), Gen.uint32(), Gen.int64(),
            Gen.uint64()
        ) { a, b, c, d, e, f, g, h in
            #expect(try roundTrip(a) == (a, [UInt8(bitPattern: a)]))
            #expect(try roundTrip(b).0 == b)
            #expect(try roundTrip(c).1 == [UInt8(truncatingIfNeeded: c), UInt8(truncatingIfNeeded: c >> 8)])
            #expect(try roundTrip(d).0 == d)
            let (e2, eBytes) = try roundTrip(e)
            #expect(e2 == e && eBytes.count == 4 && eBytes[0] == UInt8(truncatingIfNeeded: e))
            #expect(try roundTrip(f).0 == f)
            let (g2, gBytes) = try roundTrip(g)
            #expect(g2 == g && gBytes.count == 8 && gBytes[7] == UInt8(truncatingIfNeeded: g >> 56))
            #expect(try roundTrip(h).0 == h)
        }
    }

    @Test func floatsRoundTripBitExact() async {
        await propertyCheck(input: Gen.uint32(), Gen.uint64()) { fBits, dBits in
            let (f, fBytes) = try roundTrip(Float(bitPattern: fBits))
            #expect(f.bitPattern == fBits && fBytes.count == 4)
            let (d, dBytes) = try roundTrip(Double(bitPattern: dBits))
            #expect(d.bitPattern == dBits && dBytes.count == 8)
        }
    }

    @Test func booleansKeepTheirSizes() async throws {
        await propertyCheck(input: Gen.int32()) { raw in
            let (b, bytes) = try roundTrip(Win32BOOL(rawValue: raw))
            #expect(b.rawValue == raw && bytes.count == 4 && b.boolValue == (raw != 0))
        }
        #expect(try roundTrip(CBool(true)) == (CBool(true), [1]))
        #expect(try roundTrip(CBool(false)) == (CBool(false), [0]))
        #expect(try roundTrip(Win32BOOL(true)).1 == [1, 0, 0, 0])
    }

    @Test func geometryAndHandles() async {
        await propertyCheck(input: Gen.int32(), Gen.int32(), Gen.int32(), Gen.int32(), Gen.uint64()) { a, b, c, d, h in
            #expect(try roundTrip(Win32Point(x: a, y: b)).0 == Win32Point(x: a, y: b))
            #expect(try roundTrip(Win32Size(cx: c, cy: d)).1.count == 8)
            let rect = Win32Rect(left: a, top: b, right: c, bottom: d)
            let (back, bytes) = try roundTrip(rect)
            #expect(back == rect && bytes.count == 16)
            #expect(bytes[12..<16].elementsEqual(withUnsafeBytes(of: d.littleEndian, Array.init)))
            #expect(
                try roundTrip(Handle64(rawValue: h)) == (
                    Handle64(rawValue: h), withUnsafeBytes(of: h.littleEndian, Array.init)
                ))
        }
    }

    @Test func fixedByteArrays() async {
        await propertyCheck(input: Gen.uint8().array(of: 256)) { bytes in
            let value = try #require(FixedBytes<256>(bytes))
            let (back, wire) = try roundTrip(value)
            #expect(back == value && wire == bytes)
        }
        #expect(FixedBytes<4>([1, 2, 3]) == nil)
    }

    @Test func narrowStrings() async {
        await propertyCheck(input: Gen.uint8().array(of: 0...300)) { bytes in
            let (back, wire) = try roundTrip(NarrowString(bytes: bytes))
            #expect(back.bytes == bytes)
            #expect(wire.count == 4 + bytes.count)
            #expect(Array(wire.prefix(4)) == withUnsafeBytes(of: Int32(bytes.count).littleEndian, Array.init))
        }
    }

    /// Any text, non-BMP included, round-trips as UTF-16 with a code-unit count.
    @Test func wideStringsCarryAnyText() async {
        // Every scalar but the surrogate range (which is not a scalar); astral planes included.
        let scalar = Gen<UnicodeScalar>.oneOf(
            Gen.unicodeScalar(in: "\u{0}"..."\u{D7FF}").eraseToAnySequence(),
            Gen.unicodeScalar(in: "\u{E000}"..."\u{FFFF}").eraseToAnySequence(),
            Gen.unicodeScalar(in: "\u{10000}"..."\u{10FFFF}").eraseToAnySequence())
        await propertyCheck(input: scalar.array(of: 0...60)) { scalars in
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            let (back, wire) = try roundTrip(WideString(text))
            #expect(back.string == text)
            #expect(wire.count == 4 + 2 * text.utf16.count)
        }
        let (back, wire) = try! roundTrip(WideString("𝄞"))
        #expect(back.string == "𝄞" && wire == hex("02000000 34D8 1EDD"))
    }

    /// Raw units, unpaired surrogates included, survive untouched.
    @Test func wideStringsKeepRawUnits() async {
        await propertyCheck(input: Gen.uint16().array(of: 0...100)) { units in
            let back = try roundTrip(WideString(units: units)).0
            #expect(back.units == units)
        }
    }

    @Test func arraysAndNestedArrays() async {
        await propertyCheck(input: Gen.int32().array(of: 0...50), Gen.uint16().array(of: 0...8).array(of: 0...8)) {
            ints, nested in
            let (back, wire) = try roundTrip(ints)
            #expect(back == ints && wire.count == 4 + 4 * ints.count)
            let strings = nested.map { WideString(units: $0) }
            #expect(try roundTrip(strings).0 == strings)
        }
    }

    /// A user-defined POD struct composed from the core types.
    struct Caret: IPCParam, Equatable {
        var point: Win32Point
        var height: Int32
        var visible: CBool
        static func read(from reader: inout ParamReader) throws(SIPCError) -> Caret {
            Caret(point: try .read(from: &reader), height: try .read(from: &reader), visible: try .read(from: &reader))
        }
        func write(to writer: inout ParamWriter) throws(SIPCError) {
            try point.write(to: &writer)
            try height.write(to: &writer)
            try visible.write(to: &writer)
        }
        static var minimumWireSize: Int { 13 }
    }

    @Test func userDefinedStructs() async {
        await propertyCheck(input: Gen.int32(), Gen.int32(), Gen.int32(), Gen.bool) { x, y, h, v in
            let caret = Caret(point: Win32Point(x: x, y: y), height: h, visible: CBool(v))
            let (back, wire) = try roundTrip(caret)
            #expect(back == caret && wire.count == 13)
        }
    }

    /// Random calls with eight mixed inputs and eight outputs go through a real frame, router and
    /// slot, in both frame formats.
    static let wide = IPCFunction(
        id: 300, name: "Wide",
        inputs: (
            Int8.self, UInt16.self, Int32.self, UInt64.self, Double.self, Win32BOOL.self, WideString.self, [Int32].self
        ),
        outputs: (
            [Int32].self, WideString.self, Win32BOOL.self, Double.self, UInt64.self, Int32.self, UInt16.self, Int8.self
        ))

    @Test(arguments: WireVersion.allCases)
    func randomEightByEightCalls(version: WireVersion) async throws {
        var router = SIPCRouter<Void>()
        router.register(Self.wide) { a, b, c, d, e, f, g, h in (h, g, f, e, d, c, b, a) }
        let layout = try SlotLayout(bufSize: 1024, stackSize: 4)
        await propertyCheck(
            input: Gen.int8(), Gen.uint16(), Gen.int32(), Gen.uint64(), Gen.int32().array(of: 0...20),
            Gen.uint16().array(of: 0...40), Gen.int(in: 0...3)
        ) { a, b, c, d, ints, units, slot in
            let memory = try OwnedSharedMemory(capacity: layout.capacity)
            let inputs = (a, b, c, d, Double(c) / 3, Win32BOOL(rawValue: c), WideString(units: units), ints)
            let call =
                version == .v2
                ? try FrameV2.writeCall(
                    Self.wide, inputs, sequence: c, slot: slot, layout: layout, buffer: memory.buffer)
                : try FrameV1.writeCall(Self.wide, inputs, sequence: c, buffer: memory.buffer)
            let outcome =
                version == .v2
                ? router.dispatchV2(slot: slot, layout: layout, buffer: memory.buffer, context: ())
                : router.dispatchV1(functionID: 300, buffer: memory.buffer, context: ())
            #expect(outcome == .handled)
            let out =
                version == .v2
                ? try FrameV2.readOutputs(Self.wide, of: call, buffer: memory.buffer)
                : try FrameV1.readOutputs(Self.wide, of: call, buffer: memory.buffer)
            #expect(out.0 == ints && out.1.units == units && out.2.rawValue == c && out.3 == Double(c) / 3)
            #expect(out.4 == d && out.5 == c && out.6 == b && out.7 == a)
        }
    }

    /// Nine inputs and nine outputs go beyond the generated fixed-arity initialisers, through the
    /// variadic (parameter-pack) one: the bytes must be the plain concatenation all the same.
    @Test func moreThanEightParametersUseTheVariadicInitialiser() throws {
        let nine = IPCFunction(
            id: 301, name: "Nine",
            inputs: (
                UInt8.self, UInt8.self, UInt8.self, UInt8.self, UInt8.self, UInt8.self, UInt8.self, UInt8.self,
                Int32.self
            ),
            outputs: (
                Int32.self, UInt8.self, UInt8.self, UInt8.self, UInt8.self, UInt8.self, UInt8.self, UInt8.self,
                UInt8.self
            ))
        var router = SIPCRouter<Void>()
        router.register(nine) { a, b, c, d, e, f, g, h, i in (i, h, g, f, e, d, c, b, a) }
        let layout = try SlotLayout(bufSize: 64, stackSize: 1)
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        let call = try FrameV2.writeCall(
            nine, (1, 2, 3, 4, 5, 6, 7, 8, -9), sequence: 0, slot: 0, layout: layout, buffer: memory.buffer)
        #expect(memory.buffer.bytes(13..<call.outputsAt) == [1, 2, 3, 4, 5, 6, 7, 8] + hex("F7FFFFFF"))
        #expect(router.dispatchV2(slot: 0, layout: layout, buffer: memory.buffer, context: ()) == .handled)
        #expect(
            memory.buffer.bytes(call.outputsAt..<(call.outputsAt + 17)) == hex("2D010000 F1 F7FFFFFF") + [
                8, 7, 6, 5, 4, 3, 2, 1,
            ])
        let out = try FrameV2.readOutputs(nine, of: call, buffer: memory.buffer)
        #expect(out.0 == -9 && out.1 == 8 && out.8 == 1)
    }

    @Test func sequenceNumbersWrapAsInSOUI() throws {
        var v2 = CallStackState(version: .v2, stackSize: 1)
        var seen: [Int32] = []
        for _ in 0..<0x10001 {
            seen.append(try v2.enter().sequence)
            v2.leave()
        }
        #expect(seen[0xFFFE] == 0xFFFE && seen[0xFFFF] == 0 && seen.max() == 0xFFFE)
        var v1 = CallStackState(version: .v1, stackSize: 1)
        for _ in 0...100_000 { _ = try v1.enter(); v1.leave() }
        #expect(v1.nextSequence == 0)
    }

    @Test func slotsFollowTheCallDepth() throws {
        var state = CallStackState(version: .v2, stackSize: 3)
        #expect(try state.enter().slot == 0)
        #expect(try state.enter().slot == 1)
        #expect(try state.enter().slot == 2)
        #expect(throws: SIPCError.stackExhausted(depth: 3, stackSize: 3)) { _ = try state.enter() }
        state.leave()
        #expect(try state.enter().slot == 2)
    }
}
