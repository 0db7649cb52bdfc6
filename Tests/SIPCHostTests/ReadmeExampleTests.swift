import Logging
import SIPC
import SIPCHost
import Testing

/// The README's example, Swift side, run against its Windows side (win32-shim/tests/example-multiply.c).
@Suite(.serialized, .enabled(if: WineTestEnvironment.enabled, "needs Wine and the Windows programs: run `make test`"))
struct ReadmeExampleTests {
    @Test func multiplyServedBySwiftCalledFromC() throws {
        try WineTestEnvironment.requireAvailable()
        let title = uniqueTitle("my_server")

        // --- as in the README ---
        let multiply = IPCFunction(id: 300, name: "Multiply", inputs: (Int32.self, Int32.self), outputs: Int64.self)

        var router = SIPCRouter<SIPCPeer>()
        router.register(multiply) { a, b in Int64(a) * Int64(b) }

        var profile = try SIPCProfile.ipcDemo()  // 2048-byte slots, 64 of them, the demo's buffer names
        profile.serverTitle = title

        let wine = WineEnvironment.fromEnvironment(defaultPrefix: ".wine-prefix")
        try wine.ensurePrefix()
        try wine.ensureWineserver()
        let logger = Logger(label: "my-host")
        let transport = try PipeTransport.launch(shim: WineTestEnvironment.shim!, environment: wine, logger: logger)
        let bridge = try BridgeConnection(transport: transport, logger: logger)
        let server = try SIPCServer(bridge: bridge, configuration: .init(profile: profile), router: router)
        // --- end of the README's part ---

        defer {
            server.close()
            _ = bridge.shutdown(timeout: .seconds(5))
        }
        let client = try WindowsProgram("example-multiply.exe", [title, "123456", "-789012"])
        try server.serve(until: { !client.isRunning })
        #expect(client.finish() == 0, "\(client.lines)")
        #expect(client.values("product") == ["\(Int64(123456) * -789012)"])
    }
}
