import ArgumentParser
import Foundation
import Logging
import SIPC
import SIPCHost

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the SOUI ipcdemo protocol (AddInt, AddString, Sum, SayHello) in Swift.",
        discussion: """
            Windows clients find the server by title (sipc_demo_svr), connect, and call AddInt (102), \
            AddString (103) and Sum (105); Sum recurses into the client. Each new client gets SayHello (104). \
            Connects, disconnects (with the client's process id and executable) and calls are logged on \
            stderr; the line `listening title=… hwnd=…` on stdout says the server is ready. Stops on \
            SIGINT/SIGTERM or after --duration.
            """)

    @OptionGroup var host: HostOptions
    @OptionGroup var wire: ProfileOptions

    @Flag(help: "Log every frame (both directions) with its bytes.")
    var trace = false

    @Option(help: "Stop after this many seconds (default: run until interrupted).")
    var duration: Double?

    @Flag(help: "Use an invisible top-level main window (needs a display) instead of a message-only one.")
    var topLevel = false

    func run() throws {
        let logger = host.logger("sipc-host")
        let stopper = SignalStop()
        let bridge = try host.connect(logger: logger)
        var configuration = SIPCServer.Configuration(profile: try wire.resolved())
        configuration.trace = trace
        if topLevel { configuration.windowKind = .topLevel }
        let server = try SIPCServer(
            bridge: bridge, configuration: configuration, router: SIPCDemo.serverRouter(logger: logger), logger: logger)
        server.onReady = { peer in
            do {
                try peer.call(SIPCDemo.sayHello, SIPCDemo.greeting, timeout: .seconds(5))
                logger.info("SayHello sent", metadata: ["client": "\(peer.remoteWindow)"])
            } catch {
                logger.warning("SayHello failed", metadata: ["client": "\(peer.remoteWindow)", "error": "\(error)"])
            }
        }
        // Unbuffered: `make demo` waits for this line.
        let ready =
            "listening title=\(configuration.profile.serverTitle) hwnd=\(server.mainWindow.hwnd) wire=\(configuration.profile.wireVersion.rawValue)\n"
        FileHandle.standardOutput.write(Data(ready.utf8))
        let end = duration.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }
        do {
            try server.serve(until: { stopper.stop.isStopped || end.map { ContinuousClock.now >= $0 } == true })
        } catch {
            logger.error("the bridge failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        server.close()
        _ = bridge.shutdown(timeout: .seconds(5))
        logger.info("stopped")
    }
}
