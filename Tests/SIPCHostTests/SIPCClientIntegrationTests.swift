import Foundation
import SIPC
import SIPCHost
import Testing

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

    @Test func noServerIsAClearError() throws {
        #expect(throws: BridgeError.self) { _ = try self.connect(title: uniqueTitle("sipb_none")) }
    }
}
