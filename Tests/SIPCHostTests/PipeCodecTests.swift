import Testing

@testable import SIPCHost

/// Encodes `payload`, then checks it decodes to the same value and that every prefix shorter than `fixed`
/// bytes (all of it by default; text-to-the-end payloads pass their fixed head) and every one-byte extension
/// is rejected with a typed error.
private func checkRoundTrip<P: PipePayload>(_ payload: P, as frame: FrameType = .reply, fixed: Int? = nil) throws {
    let bytes = try payload.encoded()
    #expect(try P(decoding: bytes, frame: frame) == payload)
    for length in 0..<(fixed ?? bytes.count) {
        #expect(throws: PipeProtocolError.self, "prefix of \(length) bytes of \(P.self)") {
            _ = try P(decoding: Array(bytes[0..<length]), frame: frame)
        }
    }
    // Text-to-the-end payloads accept any extension; all others must reject a trailing byte.
    if !(payload is Pipe.ReasonText) && !(payload is Pipe.Reply) {
        #expect(throws: PipeProtocolError.trailingBytes(frame: frame, count: 1)) {
            _ = try P(decoding: bytes + [0xAB], frame: frame)
        }
    }
}

@Suite("Frame and payload codec")
struct PipeCodecTests {
    @Test("every payload type round-trips; truncations and trailing bytes are typed errors")
    func payloadRoundTrips() throws {
        let hwnd = WindowHandle(rawValue: 0x1_0002_0003)
        try checkRoundTrip(Pipe.Hello(processId: 77))
        try checkRoundTrip(Pipe.HelloAck())
        try checkRoundTrip(Pipe.ReasonText(reason: .malformed, text: "bad ✓"), fixed: 4)
        try checkRoundTrip(Pipe.Reply.ok([1, 2, 3]), fixed: 4)
        try checkRoundTrip(Pipe.Reply.failure(status: .win32Error, lastError: 5, message: "denied"), fixed: 8)
        try checkRoundTrip(Pipe.Reply.failure(status: .notFound, lastError: nil, message: "nope"), fixed: 4)
        try checkRoundTrip(Pipe.Empty())
        try checkRoundTrip(Pipe.LResult(-42))
        try checkRoundTrip(Pipe.SendResult(lresult: Int64.min, delivered: true, lastError: 1400))
        try checkRoundTrip(Pipe.CreatedHandle(handle: ShimHandle(rawValue: 0x44), alreadyExisted: true))
        try checkRoundTrip(Pipe.Window(hwnd))
        try checkRoundTrip(Pipe.Flag(true))
        try checkRoundTrip(
            Pipe.CreateWindow(kind: .messageOnly, messages: [0x8001, 0x4A], className: "Cls", title: "Tïtle 🪟"))
        try checkRoundTrip(
            Pipe.CreateWindow.Result(
                hwnd: hwnd, filterResults: [.init(result: 1, lastError: 0), .init(result: 0, lastError: 5)]))
        try checkRoundTrip(Pipe.DestroyWindow(hwnd: hwnd))
        try checkRoundTrip(Pipe.SendMessage(hwnd: hwnd, message: 0x8001, timeoutMs: 250, wParam: .max, lParam: 7))
        try checkRoundTrip(Pipe.PostMessage(hwnd: hwnd, message: 0x8002, wParam: 1, lParam: 2))
        try checkRoundTrip(Pipe.PostMessage.Result(ok: true, lastError: 0))
        try checkRoundTrip(Pipe.SendCopyData(hwnd: hwnd, sender: .message, dwData: 9, timeoutMs: 0, data: [0, 1, 255]))
        try checkRoundTrip(Pipe.FindWindow(parent: .message, childAfter: .null, className: nil, title: "T"))
        try checkRoundTrip(Pipe.FindWindow(parent: .null, childAfter: hwnd, className: "C", title: nil))
        try checkRoundTrip(Pipe.IsWindow(hwnd: hwnd))
        try checkRoundTrip(Pipe.GetWindowThreadProcessId(hwnd: hwnd))
        try checkRoundTrip(Pipe.GetWindowThreadProcessId.Result(threadId: 32, processId: 48))
        try checkRoundTrip(Pipe.CreateMapping(size: 4096, flags: .devShm, name: "Local\\m", file: "sipb-x"))
        try checkRoundTrip(Pipe.OpenMapping(name: "Local\\m"))
        try checkRoundTrip(Pipe.OpenMapping.Result(handle: ShimHandle(rawValue: 8), size: 4096))
        try checkRoundTrip(Pipe.ReadMapping(handle: ShimHandle(rawValue: 8), offset: 16, length: 32))
        try checkRoundTrip(Pipe.Data([9, 8, 7]))
        try checkRoundTrip(Pipe.WriteMapping(handle: ShimHandle(rawValue: 8), offset: 0, data: [1]))
        try checkRoundTrip(Pipe.CreateEvent(manualReset: true, initialState: false, name: "ev"))
        try checkRoundTrip(Pipe.OpenEvent(desiredAccess: 0x1F0003, name: "ev"))
        try checkRoundTrip(Pipe.Handle(ShimHandle(rawValue: 12)))
        try checkRoundTrip(Pipe.CloseHandle(handle: ShimHandle(rawValue: 12)))
        try checkRoundTrip(Pipe.GetProcessImage(processId: 32))
        try checkRoundTrip(Pipe.Text("C:\\windows\\system32\\notepad.exe"))
        try checkRoundTrip(Pipe.MessageEvent(hwnd: hwnd, message: 0x8001, kind: .posted, wParam: 3, lParam: 4))
        try checkRoundTrip(
            Pipe.CallMapped(
                handle: ShimHandle(rawValue: 8),
                writes: [.init(offset: 0, data: [1, 2, 3]), .init(offset: 40, data: [])],
                hwnd: hwnd, message: 0x8001, timeoutMs: 100, wParam: 2, lParam: .max,
                reads: [.init(offset: 0, length: 12), .init(offset: 48, length: 0)]))
        try checkRoundTrip(
            Pipe.CallMapped(
                handle: ShimHandle(rawValue: 9), writes: [], hwnd: .null, message: 0, timeoutMs: 0, wParam: 0,
                lParam: 0,
                reads: []))
        try checkRoundTrip(
            Pipe.CallMapped.Result(lresult: -1, delivered: true, lastError: 0, reads: [[1, 2], [], [255]]))
        try checkRoundTrip(Pipe.CallMapped.Result(lresult: 0, delivered: false, lastError: 1400, reads: []))
        try checkRoundTrip(Pipe.CopyDataEvent(hwnd: hwnd, sender: hwnd, dwData: 1, data: []))
    }

    @Test("CopyDataEvent(taking:) agrees with init(decoding:) on every cut and every extension of a payload")
    func copyDataTaking() throws {
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let event = Pipe.CopyDataEvent(
            hwnd: WindowHandle(rawValue: 0x1_0002), sender: WindowHandle(rawValue: 0x30004), dwData: 0xFEED, data: data)
        let payload = try event.encoded()
        #expect(try Pipe.CopyDataEvent(taking: payload) == event)
        #expect(try Pipe.CopyDataEvent(taking: try Pipe.CopyDataEvent(hwnd: .null, sender: .null, dwData: 0, data: []).encoded()).data == [])
        var candidates = (0..<payload.count).map { Array(payload[0..<$0]) }
        candidates += [payload + [0], payload + [1, 2, 3]]
        for bytes in candidates {
            let reference = Result { () throws(PipeProtocolError) in
                try Pipe.CopyDataEvent(decoding: bytes, frame: .eventCopyData)
            }
            let taken = Result { () throws(PipeProtocolError) in try Pipe.CopyDataEvent(taking: bytes) }
            switch (reference, taken) {
            case (.success(let a), .success(let b)): #expect(a == b)
            case (.failure(let a), .failure(let b)): #expect(a == b, "\(bytes.count) bytes")
            default: Issue.record("\(bytes.count) bytes: decoding gave \(reference), taking gave \(taken)")
            }
        }
    }

    @Test("wire layout of a frame and a payload is little-endian as documented")
    func wireLayout() throws {
        let frame = PipeFrame(type: .sendMessage, tag: 0x0102_0304, payload: [0xAA])
        #expect(try frame.encoded() == [9, 0, 0, 0, 0x02, 0x01, 0, 0, 0x04, 0x03, 0x02, 0x01, 0xAA])
        #expect(Pipe.Hello(processId: 1).bytes == [0x53, 0x49, 0x50, 0x42, 1, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0])  // version 1.2
        #expect(try Pipe.Text("hé").encoded() == [2, 0, 0, 0, 0x68, 0, 0xE9, 0])
    }

    @Test("frames fed in every chunk size, down to single bytes, come out whole and in order")
    func chunkedDecoding() throws {
        let frames = [
            PipeFrame(type: .hello, payload: Pipe.Hello(processId: 1).bytes),
            PipeFrame(type: .reply, tag: 7),
            PipeFrame(type: .eventCopyData, tag: 9, payload: (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
            PipeFrame(type: .goodbye, payload: [0, 0, 0, 0]),
        ]
        let stream = try frames.flatMap { try $0.encoded() }
        for chunk in [1, 2, 3, 5, 11, 12, 13, 4096, stream.count] {
            var decoder = PipeFrameDecoder()
            var out: [PipeFrame] = []
            var offset = 0
            while offset < stream.count {
                let end = min(offset + chunk, stream.count)
                decoder.append(stream[offset..<end])
                offset = end
                while let frame = try decoder.nextFrame() { out.append(frame) }
            }
            #expect(out == frames, "chunk size \(chunk)")
            #expect(decoder.bufferedByteCount == 0)
        }
    }

    @Test("a header with size below 8 is rejected as soon as the size field is there")
    func sizeTooSmall() {
        for size: UInt32 in [0, 1, 7] {
            var decoder = PipeFrameDecoder()
            decoder.append([UInt8(size), 0, 0, 0])
            #expect(throws: PipeProtocolError.frameTooSmall(size: size)) { _ = try decoder.nextFrame() }
        }
    }

    @Test("a header with size above 8 + SIPB_MAX_PAYLOAD is rejected before any payload arrives")
    func sizeTooLarge() throws {
        for size in [PipeProtocol.maxFrameSize + 1, UInt32.max] {
            var decoder = PipeFrameDecoder()
            var writer = PayloadWriter()
            writer.writeU32(size)
            decoder.append(writer.bytes)
            #expect(throws: PipeProtocolError.frameTooLarge(size: size)) { _ = try decoder.nextFrame() }
        }
        var decoder = PipeFrameDecoder()
        var writer = PayloadWriter()
        writer.writeU32(PipeProtocol.maxFrameSize)
        decoder.append(writer.bytes)
        #expect(try decoder.nextFrame() == nil)  // the largest legal size just waits for its bytes
    }

    @Test("non-zero flags are rejected, and the decoder stays failed")
    func nonZeroFlags() {
        var decoder = PipeFrameDecoder()
        decoder.append([8, 0, 0, 0, 0x04, 0x00, 0x01, 0x00, 0, 0, 0, 0])
        let expected = PipeProtocolError.nonZeroFlags(type: .reply, flags: 1)
        #expect(throws: expected) { _ = try decoder.nextFrame() }
        decoder.append((try? PipeFrame(type: .reply).encoded()) ?? [])
        #expect(throws: expected) { _ = try decoder.nextFrame() }
    }

    @Test("a frame cut short waits for more bytes instead of failing")
    func partialFrame() throws {
        var decoder = PipeFrameDecoder()
        let bytes = try PipeFrame(type: .reply, tag: 3, payload: [1, 2, 3]).encoded()
        decoder.append(bytes.dropLast())
        #expect(try decoder.nextFrame() == nil)
        decoder.append(bytes.suffix(1))
        #expect(try decoder.nextFrame() == PipeFrame(type: .reply, tag: 3, payload: [1, 2, 3]))
    }

    @Test("counts and lengths past the end of the payload are typed errors")
    func countsPastTheEnd() {
        // str16 claiming 10 units with 4 bytes left.
        #expect(throws: PipeProtocolError.truncated(frame: .openMapping, field: "name", needed: 20, remaining: 4)) {
            _ = try Pipe.OpenMapping(decoding: [10, 0, 0, 0, 0x41, 0, 0x42, 0], frame: .openMapping)
        }
        // str16 above SIPB_MAX_STR16.
        #expect(
            throws: PipeProtocolError.countTooLarge(frame: .openMapping, field: "name", count: 32768, limit: 32767)
        ) {
            _ = try Pipe.OpenMapping(decoding: [0x00, 0x80, 0, 0], frame: .openMapping)
        }
        // bytes claiming 100 with 3 left.
        #expect(throws: PipeProtocolError.truncated(frame: .reply, field: "data", needed: 100, remaining: 3)) {
            _ = try Pipe.Data(decoding: [100, 0, 0, 0, 1, 2, 3], frame: .reply)
        }
        // bytes with a length of 4 GiB - 1.
        #expect(throws: PipeProtocolError.self) {
            _ = try Pipe.Data(decoding: [0xFF, 0xFF, 0xFF, 0xFF], frame: .reply)
        }
        // CREATE_WINDOW with n = 5 but two messages, and with n = 257.
        var w = PayloadWriter()
        w.writeU32(0); w.writeU32(5); w.writeU32(1); w.writeU32(2)
        #expect(throws: PipeProtocolError.truncated(frame: .createWindow, field: "msgs", needed: 20, remaining: 8)) {
            _ = try Pipe.CreateWindow(decoding: w.bytes, frame: .createWindow)
        }
        var big = PayloadWriter()
        big.writeU32(0); big.writeU32(257)
        #expect(
            throws: PipeProtocolError.countTooLarge(frame: .createWindow, field: "n", count: 257, limit: 256)
        ) {
            _ = try Pipe.CreateWindow(decoding: big.bytes, frame: .createWindow)
        }
        // CREATE_WINDOW result with n past the end.
        var result = PayloadWriter()
        result.writeU64(1); result.writeU32(3); result.writeU32(1); result.writeU32(0)
        #expect(throws: PipeProtocolError.self) {
            _ = try Pipe.CreateWindow.Result(decoding: result.bytes, frame: .reply)
        }
        // CALL_MAPPED with 5 writes, with 5 reads, and a result with 5 reads.
        var writes = PayloadWriter()
        writes.writeU64(8); writes.writeU32(5)
        #expect(
            throws: PipeProtocolError.countTooLarge(frame: .callMapped, field: "writeCount", count: 5, limit: 4)
        ) {
            _ = try Pipe.CallMapped(decoding: writes.bytes, frame: .callMapped)
        }
        var reads = PayloadWriter()
        reads.writeU64(8); reads.writeU32(0); reads.writeU64(1); reads.writeU32(2); reads.writeU32(0)
        reads.writeU64(0); reads.writeU64(0); reads.writeU32(5)
        #expect(throws: PipeProtocolError.countTooLarge(frame: .callMapped, field: "readCount", count: 5, limit: 4)) {
            _ = try Pipe.CallMapped(decoding: reads.bytes, frame: .callMapped)
        }
        var mapped = PayloadWriter()
        mapped.writeI64(1); mapped.writeU32(1); mapped.writeU32(0); mapped.writeU32(0xFFFF_FFFF)
        #expect(
            throws: PipeProtocolError.countTooLarge(frame: .reply, field: "readCount", count: 0xFFFF_FFFF, limit: 4)
        ) {
            _ = try Pipe.CallMapped.Result(decoding: mapped.bytes, frame: .reply)
        }
        // EV_MESSAGE with an unknown kind.
        var event = PayloadWriter()
        event.writeU64(1); event.writeU32(2); event.writeU32(7); event.writeU64(0); event.writeU64(0)
        #expect(throws: PipeProtocolError.invalidValue(frame: .eventMessage, field: "kind", value: 7)) {
            _ = try Pipe.MessageEvent(decoding: event.bytes, frame: .eventMessage)
        }
        // WIN32_ERROR reply without its lastError.
        #expect(throws: PipeProtocolError.truncated(frame: .reply, field: "lastError", needed: 4, remaining: 2)) {
            _ = try Pipe.Reply(decoding: [4, 0, 0, 0, 1, 2], frame: .reply)
        }
    }

    @Test("values that cannot be encoded are refused, not truncated")
    func encodeLimits() {
        let long = String(repeating: "x", count: 32768)
        #expect(throws: PipeProtocolError.self) { _ = try Pipe.OpenMapping(name: long).encoded() }
        #expect(throws: PipeProtocolError.self) {
            _ = try Pipe.CreateWindow(
                kind: .messageOnly, messages: Array(repeating: 1, count: 257), className: "c", title: "t"
            )
            .encoded()
        }
        let five = Array(repeating: Pipe.CallMapped.Read(offset: 0, length: 1), count: 5)
        #expect(throws: PipeProtocolError.countTooLarge(frame: .callMapped, field: "readCount", count: 5, limit: 4)) {
            _ = try Pipe.CallMapped(
                handle: ShimHandle(rawValue: 1), writes: [], hwnd: .null, message: 0, timeoutMs: 0, wParam: 0,
                lParam: 0, reads: five
            ).encoded()
        }
        #expect(throws: PipeProtocolError.countTooLarge(frame: .callMapped, field: "writeCount", count: 5, limit: 4)) {
            _ = try Pipe.CallMapped(
                handle: ShimHandle(rawValue: 1), writes: Array(repeating: .init(offset: 0, data: [1]), count: 5),
                hwnd: .null, message: 0, timeoutMs: 0, wParam: 0, lParam: 0, reads: []
            ).encoded()
        }
        let frame = PipeFrame(
            type: .sendCopyData, tag: 1, payload: [UInt8](repeating: 0, count: Int(PipeProtocol.maxPayload) + 1))
        #expect(throws: PipeProtocolError.frameTooLarge(size: PipeProtocol.maxFrameSize + 1)) {
            _ = try frame.encodedHeader()
        }
    }

    @Test("every protocol error says what was wrong")
    func errorDescriptions() {
        let error = PipeProtocolError.truncated(frame: .sendMessage, field: "wParam", needed: 8, remaining: 3)
        #expect(error.description == "SEND_MESSAGE payload truncated at field 'wParam': needs 8 bytes, 3 left")
        #expect(PipeProtocolError.versionMismatch(peerMajor: 2, peerMinor: 0).reason == .version)
        #expect(FrameType(rawValue: 0x7777).description == "type 0x7777")
    }
}
