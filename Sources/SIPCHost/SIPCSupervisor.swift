import Foundation
import Logging
import SIPC

/// Keeps a ``SIPCServer`` available: starts the shim, serves, and when the shim dies (killed, crashed, or the
/// pipe broke) releases everything of the old run, starts a new shim after a backoff delay, opens the server
/// window again under the same title and asks the former clients to reconnect the way sinstar3's server does
/// (`UM_RECONN`, spec §9.3).
///
/// Clients that were in a call when the shim died see that call fail (their peer window is gone; SOUI's
/// wait loop checks `IsWindow`). Nothing is replayed: a SIPC call is not idempotent in general.
///
/// All of it runs on the calling thread, which becomes the bridge's call-loop thread.
public final class SIPCSupervisor {
    /// When to restart and whom to tell.
    public struct Policy: Sendable {
        /// The delay before the first restart after a failure.
        public var initialDelay: Duration = .milliseconds(100)
        /// The longest delay: each failure in a row doubles the delay up to this.
        public var maximumDelay: Duration = .seconds(5)
        /// A run that lasted this long resets the backoff: the next failure waits ``initialDelay`` again.
        public var stableAfter: Duration = .seconds(10)
        /// Give up (``SIPCSupervisor/run(until:)`` throws) after this many failures in a row; nil: never.
        public var maximumConsecutiveFailures: Int? = nil
        /// Whether a failure of the very first start is retried too. Off by default: the first start failing
        /// is most often a setup error (no Wine, no prefix, no shim) that waiting does not mend.
        public var retryFirstStart = false
        /// After a restart, post `UM_RECONN(0, 0)` to the windows of the clients that were connected when
        /// the shim died (those still alive).
        public var notifyFormerClients = true
        /// After a restart, also post `UM_RECONN(0, 0)` to every message-only window of this class that is not
        /// connected (sinstar3's server does this with `sinstar3_uiwnd`); nil: don't enumerate.
        public var reconnectWindowClass: String? = nil
        /// Creates the default policy.
        public init() {}

        /// The delay before the attempt that follows `failures` failures in a row (1 → ``initialDelay``).
        public func delay(afterFailures failures: Int) -> Duration {
            guard failures > 0 else { return .zero }
            var delay = initialDelay
            for _ in 1..<failures {
                delay *= 2
                if delay >= maximumDelay { return maximumDelay }
            }
            return min(delay, maximumDelay)
        }
    }

    /// One thing that happened to the service, for logs and tests.
    public enum Event: Sendable, Equatable {
        /// A server runs (generation 1 is the first).
        case started(generation: Int, mainWindow: WindowHandle)
        /// The bridge of that generation failed.
        case failed(generation: Int, error: BridgeError)
        /// Starting the shim or the server failed.
        case launchFailed(attempt: Int, error: BridgeError)
        /// Waiting this long before the next attempt.
        case backingOff(delay: Duration, consecutiveFailures: Int)
        /// `UM_RECONN` was posted to these windows.
        case reconnectRequested([WindowHandle])
    }

    /// The sinstar3 reconnect request, `WM_USER + 5001`.
    public static let reconnectMessage: UInt32 = 0x1789

    /// Starts a shim and returns the bridge to it (see ``SIPCSupervisor/shimLauncher(shim:environment:shimLog:logger:)``).
    public typealias Launcher = () throws(BridgeError) -> BridgeConnection

    private let launch: Launcher
    /// The server's settings, the same for every run.
    public let configuration: SIPCServer.Configuration
    /// The restart policy.
    public let policy: Policy
    private let router: SIPCRouter<SIPCPeer>
    private let logger: Logger
    /// Called with each new server before it serves: install `onReady`, `onDisconnect` and window handlers here.
    public var onStart: ((SIPCServer) -> Void)?
    /// Called for every ``Event``.
    public var onEvent: ((Event) -> Void)?
    /// The server of the current run (nil between runs).
    public private(set) var server: SIPCServer?
    /// How many servers were started so far.
    public private(set) var generation = 0

    /// Creates a supervisor; nothing starts before ``run(until:)``.
    public init(
        configuration: SIPCServer.Configuration, router: SIPCRouter<SIPCPeer>, policy: Policy = Policy(),
        logger: Logger = Logger(label: "sipb.supervisor", factory: { _ in SwiftLogNoOpLogHandler() }),
        launch: @escaping Launcher
    ) {
        self.configuration = configuration
        self.router = router
        self.policy = policy
        self.logger = logger
        self.launch = launch
    }

    /// A launcher that starts `sipc-shim.exe` under Wine (making sure the wineserver runs first, every time:
    /// it may have gone with the shim) and does the handshake.
    public static func shimLauncher(
        shim: String, environment: WineEnvironment, shimLog: ShimLogDestination = .discard,
        bridgeConfiguration: BridgeConnection.Configuration = .init(), logger: Logger
    ) -> Launcher {
        return { () throws(BridgeError) -> BridgeConnection in
            try environment.ensureWineserver(logger: logger)
            let transport = try PipeTransport.launch(
                shim: shim, environment: environment, shimLog: shimLog, logger: logger)
            return try BridgeConnection(transport: transport, configuration: bridgeConfiguration, logger: logger)
        }
    }

    /// Serves until `condition` holds, restarting the shim as the policy says.
    /// - Throws: the last ``BridgeError`` once ``Policy/maximumConsecutiveFailures`` failures came in a row.
    public func run(until condition: () -> Bool = { false }) throws(BridgeError) {
        var failures = 0
        var formerClients: [WindowHandle] = []
        var attempt = 0
        while !condition() {
            attempt += 1
            let bridge: BridgeConnection
            let server: SIPCServer
            do throws(BridgeError) {
                bridge = try launch()
                do {
                    server = try SIPCServer(
                        bridge: bridge, configuration: configuration, router: router, logger: logger)
                } catch {
                    _ = bridge.shutdown(timeout: .seconds(1))
                    throw error
                }
            } catch {
                failures += 1
                logger.error(
                    "starting the SIPC server failed", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                onEvent?(.launchFailed(attempt: attempt, error: error))
                if generation == 0, !policy.retryFirstStart { throw error }
                if let limit = policy.maximumConsecutiveFailures, failures >= limit { throw error }
                backOff(failures: failures, until: condition)
                continue
            }
            generation += 1
            self.server = server
            let started = ContinuousClock.now
            logger.info(
                "SIPC server running",
                metadata: ["generation": "\(generation)", "hwnd": "\(server.mainWindow.hwnd)"])
            onEvent?(.started(generation: generation, mainWindow: server.mainWindow.hwnd))
            onStart?(server)
            requestReconnects(server, formerClients: formerClients)
            do {
                try server.serve(until: condition)
            } catch {
                formerClients = Array(server.peers.keys)
                server.close()
                _ = bridge.shutdown(timeout: .seconds(1))
                self.server = nil
                logger.error(
                    "the bridge failed; restarting the shim",
                    metadata: [
                        "generation": "\(generation)", "error": "\(error)", "clients": "\(formerClients.count)",
                    ])
                onEvent?(.failed(generation: generation, error: error))
                if ContinuousClock.now - started >= policy.stableAfter { failures = 0 }
                failures += 1
                if let limit = policy.maximumConsecutiveFailures, failures >= limit { throw error }
                backOff(failures: failures, until: condition)
                continue
            }
            server.close()
            _ = bridge.shutdown(timeout: .seconds(5))
            self.server = nil
            return
        }
    }

    private func backOff(failures: Int, until condition: () -> Bool) {
        let delay = policy.delay(afterFailures: failures)
        logger.notice("waiting before the next start", metadata: ["delay": "\(delay)", "failures": "\(failures)"])
        onEvent?(.backingOff(delay: delay, consecutiveFailures: failures))
        // In slices of at most 10 ms, so that the stop condition is seen promptly.
        let end = ContinuousClock.now + delay
        while !condition() {
            let left = ContinuousClock.now.duration(to: end)
            guard left > .zero else { break }
            Thread.sleep(forTimeInterval: min(0.01, left.timeInterval))
        }
    }

    /// Posts `UM_RECONN(0, 0)` to the former clients still alive and to the unconnected message-only windows
    /// of ``Policy/reconnectWindowClass``.
    private func requestReconnects(_ server: SIPCServer, formerClients: [WindowHandle]) {
        var targets: [WindowHandle] = []
        if policy.notifyFormerClients {
            targets += formerClients.filter { (try? server.bridge.isWindow($0)) == true }
        }
        if let windowClass = policy.reconnectWindowClass {
            var after = WindowHandle.null
            // Bounded: a desktop does not hold more windows than this, and a loop in FindWindowEx must not hang us.
            for _ in 0..<4096 {
                guard
                    let found =
                        (try? server.bridge.findWindow(
                            parent: .message, childAfter: after, className: windowClass, title: nil)) ?? nil
                else { break }
                after = found
                if server.peers[found] == nil, !targets.contains(found) { targets.append(found) }
            }
        }
        guard !targets.isEmpty else { return }
        var posted: [WindowHandle] = []
        for window in targets {
            do {
                try server.bridge.postMessage(to: window, message: Self.reconnectMessage, wParam: 0, lParam: 0)
                posted.append(window)
            } catch {
                logger.notice("UM_RECONN not posted", metadata: ["window": "\(window)", "error": "\(error)"])
            }
        }
        logger.info("asked clients to reconnect (UM_RECONN)", metadata: ["windows": "\(posted)"])
        onEvent?(.reconnectRequested(posted))
    }
}
