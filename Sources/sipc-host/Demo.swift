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
            stderr; the line `listening title=… hwnd=…` on stdout says the server is ready. If the shim \
            dies, it is restarted with backoff (100 ms doubling to 5 s), the server window comes back under the \
            same title, and former clients get sinstar3's UM_RECONN; the line is printed again. Stops on \
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

    @Option(
        name: .customLong("allow-exe"),
        help:
            "Accept connects only from processes running this executable (a file name such as client.exe, or a full Windows path); repeat for more. Default: anyone."
    )
    var allowedExecutables: [String] = []

    @Option(
        help:
            "After a shim restart, also post UM_RECONN to the message-only windows of this class (sinstar3: sinstar3_uiwnd)."
    )
    var reconnectClass: String?

    @Option(help: "Give up after this many shim failures in a row (the shim is restarted with backoff until then).")
    var maxFailures = 5

    func run() throws {
        let logger = host.logger("sipc-host")
        let stopper = SignalStop()
        var configuration = SIPCServer.Configuration(profile: try wire.resolved())
        configuration.trace = trace
        if topLevel { configuration.windowKind = .topLevel }
        if !allowedExecutables.isEmpty { configuration.allowedExecutables = allowedExecutables }
        var policy = SIPCSupervisor.Policy()
        policy.maximumConsecutiveFailures = max(1, maxFailures)
        policy.reconnectWindowClass = reconnectClass
        let supervisor = SIPCSupervisor(
            configuration: configuration, router: SIPCDemo.serverRouter(logger: logger), policy: policy,
            logger: logger, launch: try host.launcher(logger: logger))
        supervisor.onStart = { server in
            server.onReady = { peer in
                do {
                    try peer.call(SIPCDemo.sayHello, SIPCDemo.greeting, timeout: .seconds(5))
                    logger.info("SayHello sent", metadata: ["client": "\(peer.remoteWindow)"])
                } catch {
                    logger.warning(
                        "SayHello failed", metadata: ["client": "\(peer.remoteWindow)", "error": "\(error)"])
                }
            }
            // Unbuffered: `make demo` waits for this line (printed again after each shim restart).
            let ready =
                "listening title=\(configuration.profile.serverTitle) hwnd=\(server.mainWindow.hwnd) wire=\(configuration.profile.wireVersion.rawValue)\n"
            FileHandle.standardOutput.write(Data(ready.utf8))
        }
        let end = duration.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }
        do {
            try supervisor.run(until: { stopper.stop.isStopped || end.map { ContinuousClock.now >= $0 } == true })
        } catch {
            logger.error("the bridge failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        logger.info("stopped")
    }
}
