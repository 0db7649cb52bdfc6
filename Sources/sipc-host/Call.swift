import ArgumentParser
import Foundation
import Logging
import SIPC
import SIPCHost

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call a Windows SIPC server of the ipcdemo protocol (e.g. sipc-demo-server.exe).",
        discussion: """
            Connects as a SIPC client by title, makes one call and prints `result=…` and the round-trip \
            time. The server's Sum recursion calls back into this process, which answers.
            """)

    enum Function: String, ExpressibleByArgument, CaseIterable {
        case addInt = "add-int", addString = "add-string", sum
    }

    @OptionGroup var host: HostOptions
    @OptionGroup var wire: ProfileOptions

    @Option(help: "Milliseconds the server has to answer the connect (SOUI's own client allows 100).")
    var connectTimeoutMs = 1000

    @Argument(help: "add-int A B | add-string A B | sum N")
    var function: Function

    @Argument(help: "The function's arguments.")
    var arguments: [String] = []

    func validate() throws {
        guard connectTimeoutMs > 0 else { throw ValidationError("--connect-timeout-ms must be positive") }
        let needed = function == .sum ? 1 : 2
        guard arguments.count == needed else {
            throw ValidationError("\(function.rawValue) takes \(needed) argument(s)")
        }
        if function != .addString, arguments.contains(where: { Int32($0) == nil }) {
            throw ValidationError("\(function.rawValue) takes 32-bit integers")
        }
    }

    func run() throws {
        let logger = host.logger("sipc-host")
        let bridge = try host.connect(logger: logger)
        defer { _ = bridge.shutdown(timeout: .seconds(5)) }
        var router = SIPCRouter<SIPCPeer>()
        router.registerContextual(SIPCDemo.sum) { n, peer in n <= 0 ? 0 : n &+ (try peer.call(SIPCDemo.sum, n - 1)) }
        router.register(SIPCDemo.sayHello) { text in logger.info("SayHello: \(text.string)") }
        let client = try SIPCClient(
            bridge: bridge, profile: try wire.resolved(), router: router,
            connectTimeout: .milliseconds(connectTimeoutMs), logger: logger)
        defer { client.disconnect() }
        let start = ContinuousClock.now
        let result: String
        switch function {
        case .addInt:
            result = String(try client.peer.call(SIPCDemo.addInt, (Int32(arguments[0])!, Int32(arguments[1])!)))
        case .addString:
            result = try client.peer.call(SIPCDemo.addString, (WideString(arguments[0]), WideString(arguments[1])))
                .string
        case .sum: result = String(try client.peer.call(SIPCDemo.sum, Int32(arguments[0])!))
        }
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        print("result=\(result) rtt_ms=\(String(format: "%.3f", ms))")
    }
}

struct Prefix: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the Wine prefix if it is missing (wineboot, about 20 s once) and start its wineserver.")

    @OptionGroup var host: HostOptions

    func run() throws {
        let logger = host.logger("sipc-host")
        let wine = host.wine
        try wine.validate()
        try wine.ensurePrefix(logger: logger)
        try wine.ensureWineserver(logger: logger)
        print("prefix=\(wine.prefix)")
    }
}
