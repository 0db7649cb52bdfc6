import Foundation
import SIPC
import Testing

@testable import SIPCHost

/// `Pipe` alone would be Foundation's here.
private typealias MappedCall = SIPCHost.Pipe.CallMapped

/// The Swift host as a SIPC client of the mingw-built C server (`sipc-peer.exe server`), whose
/// mappings are backed by the paging file: the shim reads and writes them for the host.
@Suite(.serialized, .enabled(if: WineTestEnvironment.enabled, "needs Wine and the Windows programs: run `make test`"))
final class SIPCClientIntegrationTests {
    let session: ShimSession

    init() throws { session = try ShimSession() }
    deinit { session.close() }

    /// Starts the C server and waits until its window exists.
    func startServer(_ arguments: [String]) throws -> WindowsProgram {
        let server = try WindowsProgram("sipc-peer.exe", ["server"] + arguments + ["60"])
        let deadline = ContinuousClock.now + .seconds(30)
        while server.values("listening").isEmpty, server.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        guard server.values("listening") == ["1"] else {
            throw TestSetupError("the C server did not start: \(server.lines)")
        }
        return server
    }

    func connect(title: String, version: WireVersion = .v2, router: SIPCRouter<SIPCPeer> = TestProtocol.router()) throws
        -> SIPCClient
    {
        var profile = try SIPCProfile.ipcDemo(stackSize: 64)
        if version == .v1 { profile = SIPCProfile.v1Demo }
        profile.serverTitle = title
        return try SIPCClient(
            bridge: session.bridge, profile: profile, router: router, connectTimeout: .seconds(2),
            logger: WineTestEnvironment.logger("sipc-client"))
    }

    @Test func hostCallsAWindowsServerWithEveryType() throws {
        let title = uniqueTitle("sipb_csrv")
        let server = try startServer(["--title", title, "--hello-ms", "20"])
        defer { server.kill() }
        var hellos: [String] = []
        var router = TestProtocol.router()
        router.register(TestProtocol.sayHello) { text in hellos.append(text.string) }
        let client = try connect(title: title, router: router)
        let peer = client.peer

        #expect(try peer.call(TestProtocol.addInt, (40, 2)) == 42)
        #expect(try peer.call(TestProtocol.addString, ("héllo ", "wörld ✓ 𝄞 日本")).string == "héllo wörld ✓ 𝄞 日本")
        // Sum recurses: the C server's handler calls our Sum, which calls the server again, …
        #expect(try peer.call(TestProtocol.sum, 19) == 190)
        #expect(try peer.call(TestProtocol.sum, 100) == 5050)

        let ints = try peer.call(
            TestProtocol.ints, (Int8.max, UInt8.max, Int16.min, 0xFFFE, -1, UInt32.max, Int64.max, 41))
        #expect(ints.0 == Int8.min && ints.1 == 0 && ints.2 == Int16.min + 1 && ints.3 == 0xFFFF)
        #expect(ints.4 == 0 && ints.5 == 0 && ints.6 == Int64.min && ints.7 == 42)
        let floats = try peer.call(TestProtocol.floats, (1.25, -3.5e100, Win32BOOL(rawValue: 7), CBool(false)))
        #expect(floats.0 == 2.5 && floats.1 == -7e100 && floats.2.rawValue == 0 && floats.3.value)
        var bytes = FixedBytes<256>()
        for i in 0..<256 { bytes.bytes[i] = UInt8(i) }
        let geometry = try peer.call(
            TestProtocol.geometry,
            (
                Win32Point(x: 1, y: -2), Win32Size(cx: 3, cy: 4), Win32Rect(left: 5, top: 6, right: 7, bottom: 8),
                bytes,
                Handle64(rawValue: 0x0123_4567_89AB_CDEF)
            ))
        #expect(geometry.0 == Win32Point(x: -2, y: 1) && geometry.1 == Win32Size(cx: 4, cy: 3))
        #expect(geometry.2 == Win32Rect(left: 8, top: 7, right: 6, bottom: 5))
        #expect(geometry.3.array == (0..<256).reversed().map { UInt8($0) })
        #expect(geometry.4.rawValue == ~UInt64(0x0123_4567_89AB_CDEF))
        let strings = try peer.call(TestProtocol.strings, (NarrowString("ansi"), WideString("𝄞 日本"), [1, -2, 3]))
        #expect(
            strings.0.string == "ansi!" && strings.1.string == "𝄞 日本✓" && strings.2 == [3, -2, 1] && strings.3 == 5)

        // SayHello arrives from the server once it has seen us connect.
        let deadline = ContinuousClock.now + .seconds(5)
        while hellos.isEmpty, ContinuousClock.now < deadline { try session.bridge.serve(for: .milliseconds(20)) }
        #expect(hellos.count == 1)
        client.disconnect()
        #expect(!peer.isOpen)
    }

    @Test func unknownFunctionIsNotHandled() throws {
        let title = uniqueTitle("sipb_cunk")
        let server = try startServer(["--title", title])
        defer { server.kill() }
        let client = try connect(title: title)
        defer { client.disconnect() }
        let unknown = IPCFunction(id: 999, name: "Nope", inputs: Int32.self, outputs: Int32.self)
        #expect(throws: SIPCCallError.notHandled(functionID: 999)) { try client.peer.call(unknown, 1) }
        #expect(try client.peer.call(TestProtocol.addInt, (1, 1)) == 2)
    }

    @Test func legacyV1Server() throws {
        let title = uniqueTitle("sipb_cv1")
        let server = try startServer([
            "--v1", "--buf", "1024", "--format", SIPCProfile.v1Demo.bufferNameFormat, "--title", title,
        ])
        defer { server.kill() }
        let client = try connect(title: title, version: .v1)
        defer { client.disconnect() }
        #expect(try client.peer.call(TestProtocol.addInt, (5, 6)) == 11)
        #expect(try client.peer.call(TestProtocol.sum, 10) == 55)
        #expect(try client.peer.call(TestProtocol.addString, ("a", "日本")).string == "a日本")
    }

    @Test func callMappedRefusesHostilePayloadsAndDoesNothing() throws {
        let bridge = session.bridge
        let size: UInt32 = 4096
        let mapping = try bridge.createMapping(name: "", size: size).handle  // pagefile-backed, as a server's
        let message: UInt32 = 0x8123
        let window = try bridge.createWindow(
            className: "sipb_cm_test", title: uniqueTitle("sipb_cm"), relaying: [message])
        var calls = 0
        var seenDuringSend: [UInt8] = []
        bridge.onMessage(message, to: window.hwnd) { bridge, _ in
            calls += 1
            seenDuringSend = try bridge.readMapping(mapping, offset: 0, length: 3)
            try bridge.writeMapping(mapping, offset: 200, bytes: [5, 6, 7, 8])
            return 77
        }
        func call(_ writes: [MappedCall.Write], _ reads: [MappedCall.Read], handle: ShimHandle? = nil)
            throws -> MappedCallOutcome
        {
            try bridge.callMapped(
                handle ?? mapping, writing: writes, to: window.hwnd, message: message, wParam: 1, lParam: 2,
                timeout: .seconds(10), reading: reads)
        }
        func status(_ body: () throws -> Void) -> ReplyStatus? {
            do { try body() } catch { return replyStatus(of: error) }
            return nil
        }

        // The good case: writes land before the send, reads see what the handler wrote.
        let good = try call(
            [.init(offset: 0, data: [1, 2, 3]), .init(offset: 100, data: [9, 9])],
            [.init(offset: 0, length: 3), .init(offset: 200, length: 4), .init(offset: 4096, length: 0)])
        #expect(good.send == SendOutcome(lresult: 77, delivered: true, lastError: 0))
        #expect(good.reads == [[1, 2, 3], [5, 6, 7, 8], []])
        #expect(seenDuringSend == [1, 2, 3] && calls == 1)
        try bridge.writeMapping(mapping, offset: 0, bytes: [0, 0, 0])

        // Spans past the view, alone or beside a good one: BAD_REQUEST, nothing written, nothing sent.
        let hostile: [([MappedCall.Write], [MappedCall.Read])] = [
            ([.init(offset: 0, data: [42]), .init(offset: size - 1, data: [1, 2])], []),
            ([.init(offset: size, data: [1])], []),
            ([.init(offset: UInt32.max, data: [1])], []),
            ([.init(offset: 0, data: [42])], [.init(offset: size - 3, length: 4)]),
            ([.init(offset: 0, data: [42])], [.init(offset: UInt32.max, length: UInt32.max)]),
            ([.init(offset: 0, data: [42])], [.init(offset: 0, length: 4), .init(offset: 1, length: UInt32.max)]),
            ([.init(offset: 0, data: [42])], [.init(offset: size + 1, length: 0)]),
        ]
        for (writes, reads) in hostile {
            #expect(status { _ = try call(writes, reads) } == .badRequest, "\(writes) \(reads)")
        }
        #expect(calls == 1)
        #expect(try bridge.readMapping(mapping, offset: 0, length: 1) == [0])
        #expect(try bridge.readMapping(mapping, offset: size - 1, length: 1) == [0])

        // An unknown handle is NOT_FOUND, an event handle is not a mapping.
        #expect(
            status { _ = try call([.init(offset: 0, data: [42])], [], handle: ShimHandle(rawValue: 0xDEAD0)) }
                == .notFound)
        let event = try bridge.createEvent(name: "").handle
        #expect(status { _ = try call([.init(offset: 0, data: [42])], [], handle: event) } == .badRequest)
        try bridge.closeHandle(event)

        // Counts above 4 (the host's encoder refuses them, so the bytes are built here).
        func raw(writeCount: UInt32, writes: Int, readCount: UInt32, reads: Int) -> RawCallMapped {
            var w = PayloadWriter()
            w.writeU64(mapping.rawValue)
            w.writeU32(writeCount)
            for _ in 0..<writes { w.writeU32(0); w.writeU32(1); w.writeRaw([42]) }
            w.writeU64(window.hwnd.rawValue); w.writeU32(message); w.writeU32(0); w.writeU64(0); w.writeU64(0)
            w.writeU32(readCount)
            for _ in 0..<reads { w.writeU32(0); w.writeU32(1) }
            return RawCallMapped(bytes: w.bytes)
        }
        for request in [
            raw(writeCount: 5, writes: 5, readCount: 0, reads: 0),
            raw(writeCount: 0xFFFF_FFFF, writes: 0, readCount: 0, reads: 0),
            raw(writeCount: 1, writes: 1, readCount: 5, reads: 5),
            raw(writeCount: 0, writes: 0, readCount: 0x8000_0000, reads: 0),
        ] {
            #expect(status { _ = try bridge.perform(request) } == .badRequest)
        }
        #expect(calls == 1)
        #expect(try bridge.readMapping(mapping, offset: 0, length: 1) == [0])

        // A window that is not there: the writes are done, nothing is read, delivered is 0.
        let gone = try bridge.callMapped(
            mapping, writing: [.init(offset: 10, data: [3])], to: WindowHandle(rawValue: 0x7FFF_0000), message: message,
            reading: [.init(offset: 0, length: 4)])
        #expect(gone.send.delivered == false && gone.send.lastError == 1400 && gone.reads.isEmpty)
        #expect(try bridge.readMapping(mapping, offset: 10, length: 1) == [3])

        // The connection is still fine.
        let again = try call([.init(offset: 0, data: [4, 5, 6])], [.init(offset: 0, length: 3)])
        #expect(again.reads == [[4, 5, 6]] && calls == 2)
        try bridge.destroyWindow(window.hwnd)
        try bridge.closeHandle(mapping)
    }

    /// `SIPB_BENCH_CALLS=1000 make test` (or `swift test --filter addIntLatency` with the same environment):
    /// host → C server AddInt, alternating blocks with `CALL_MAPPED` and with the three-request path.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SIPB_BENCH_CALLS"] != nil))
    func addIntLatency() throws {
        let count = Int(ProcessInfo.processInfo.environment["SIPB_BENCH_CALLS"] ?? "") ?? 1000
        let title = uniqueTitle("sipb_cbench")
        let server = try startServer(["--title", title])
        defer { server.kill() }
        let client = try connect(title: title)
        defer { client.disconnect() }
        let peer = client.peer
        for _ in 0..<50 { _ = try peer.call(TestProtocol.addInt, (1, 2)) }
        var totals: [Bool: [Duration]] = [true: [], false: []]
        for round in 0..<6 {
            for oneTrip in round % 2 == 0 ? [true, false] : [false, true] {
                peer.mirrorsInOneRoundTrip = oneTrip
                let start = ContinuousClock.now
                for i in 0..<count { #expect(try peer.call(TestProtocol.addInt, (Int32(i), 1)) == Int32(i) + 1) }
                totals[oneTrip]!.append((ContinuousClock.now - start) / count)
            }
        }
        func micros(_ d: Duration) -> Int {
            Int(d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000)
        }
        let after = totals[true]!.map(micros), before = totals[false]!.map(micros)
        print("addIntLatency µs/call, \(count) calls per block: CALL_MAPPED \(after), three requests \(before)")
        print(
            "addIntLatency ratios (three requests / CALL_MAPPED):", zip(before, after).map { Double($0) / Double($1) })
    }

    @Test func noServerIsAClearError() throws {
        #expect(throws: BridgeError.self) { _ = try self.connect(title: uniqueTitle("sipb_none")) }
    }
}

/// A `CALL_MAPPED` whose payload is given as bytes, to send what the typed request refuses to encode.
private struct RawCallMapped: PipeRequest {
    typealias Result = MappedCall.Result
    static let frameType = FrameType.callMapped
    var bytes: [UInt8]
    init(bytes: [UInt8]) { self.bytes = bytes }
    init(reading r: inout PayloadReader) throws(PipeProtocolError) {
        bytes = try r.readRaw(count: r.remaining, "payload")
    }
    func write(to w: inout PayloadWriter) { w.writeRaw(bytes) }
}

/// The status of a `CALL_MAPPED` the shim refused, or nil for any other error.
private func replyStatus(of error: any Error) -> ReplyStatus? {
    guard let error = error as? BridgeError, case .requestFailed(.callMapped, let status, _, _) = error else {
        Issue.record("unexpected error \(error)")
        return nil
    }
    return status
}
