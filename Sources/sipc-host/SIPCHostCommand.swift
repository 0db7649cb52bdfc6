import ArgumentParser
import Foundation
import Logging
import SIPC
import SIPCHost

@main
struct SIPCHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sipc-host",
        abstract: "Talk SOUI SIPC and Win32 window messages with Windows programs running under Wine.",
        discussion: """
            sipc-host starts win32-shim (sipc-shim.exe) under Wine and speaks to Windows programs through \
            it: as a SIPC server they can connect to, as a SIPC client of their server, or with raw \
            window messages. Wine is found at SIPB_WINE (default /usr/lib/wine/wine64); the prefix is \
            WINEPREFIX, or ./.wine-prefix; the shim is --shim, SIPB_SHIM, or win32-shim/build/sipc-shim.exe.

            Examples:
              sipc-host demo                    serve the SOUI ipcdemo protocol
              sipc-host demo --trace            ... logging every frame's bytes
              sipc-host call add-int 1 2        call a Windows ipcdemo server
              sipc-host prefix                  create the Wine prefix
            """,
        subcommands: [Demo.self, Call.self, Prefix.self])
}

/// Where Wine, the prefix and the shim are, and how loud to be.
struct HostOptions: ParsableArguments {
    @Option(help: "The shim executable (default: $SIPB_SHIM or win32-shim/build/sipc-shim.exe).")
    var shim: String?

    @Option(help: "The Wine prefix (default: $WINEPREFIX or ./.wine-prefix).")
    var prefix: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Flag(help: "Pass the shim's own log (stderr) through.")
    var shimLog = false

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label, factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = logLevel
        return logger
    }

    var wine: WineEnvironment {
        var environment = WineEnvironment.fromEnvironment(
            defaultPrefix: FileManager.default.currentDirectoryPath + "/.wine-prefix")
        if let prefix { environment.prefix = prefix }
        return environment
    }

    func shimPath() throws -> String {
        let candidates = [shim, ProcessInfo.processInfo.environment["SIPB_SHIM"], "win32-shim/build/sipc-shim.exe"]
        for case let path? in candidates where FileManager.default.fileExists(atPath: path) { return path }
        throw ValidationError("sipc-shim.exe not found: build it with `make shim`, or pass --shim")
    }

    /// Checks Wine and the prefix, and returns a launcher that starts the shim (and the wineserver if needed)
    /// and does the handshake, each time it is called: for ``SIPCSupervisor``.
    func launcher(logger: Logger) throws -> SIPCSupervisor.Launcher {
        let wine = self.wine
        try wine.validate()
        try wine.ensurePrefix(logger: logger)
        return SIPCSupervisor.shimLauncher(
            shim: try shimPath(), environment: wine, shimLog: shimLog ? .inherit : .discard, logger: logger)
    }

    /// Prepares the prefix and the wineserver, starts the shim and does the handshake.
    func connect(logger: Logger) throws -> BridgeConnection {
        let wine = self.wine
        try wine.validate()
        try wine.ensurePrefix(logger: logger)
        try wine.ensureWineserver(logger: logger)
        let transport = try PipeTransport.launch(
            shim: try shimPath(), environment: wine, shimLog: shimLog ? .inherit : .discard, logger: logger)
        return try BridgeConnection(transport: transport, logger: logger)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The SIPC wire settings.
struct ProfileOptions: ParsableArguments {
    enum ProfileName: String, ExpressibleByArgument, CaseIterable {
        case ipcdemo, sinstar3, v1demo
    }

    @Option(help: "Built-in settings: \(ProfileName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var profile: ProfileName = .ipcdemo

    @Option(help: "The server window's title (default: the profile's).")
    var title: String?

    @Option(help: "Frame format: v1 or v2 (default: the profile's).")
    var wire: WireVersion?

    @Option(help: "Slots per buffer (default: the profile's; 64 for ipcdemo so that Sum(100) fits).")
    var stackSize: Int?

    @Option(help: "Bytes per slot (default: the profile's).")
    var bufSize: Int?

    @Option(help: "Mapping name format with two %08x (default: the profile's).")
    var nameFormat: String?

    func resolved() throws -> SIPCProfile {
        var result: SIPCProfile
        switch profile {
        case .ipcdemo: result = try SIPCProfile.ipcDemo(stackSize: stackSize ?? 64)
        case .sinstar3: result = SIPCProfile.sinstar3
        case .v1demo: result = SIPCProfile.v1Demo
        }
        if let title { result.serverTitle = title }
        if let wire { result.wireVersion = wire }
        if stackSize != nil || bufSize != nil {
            result.layout = try SlotLayout(
                bufSize: bufSize ?? result.layout.bufSize, stackSize: stackSize ?? result.layout.stackSize)
        }
        if let nameFormat { result.bufferNameFormat = nameFormat }
        _ = try result.bufferName(writer: 0, reader: 0)
        return result
    }
}

extension WireVersion: ExpressibleByArgument {}

/// Stops a serving loop on SIGINT or SIGTERM.
final class SignalStop: @unchecked Sendable {
    let stop = BridgeConnection.StopSignal()
    private var sources: [any DispatchSourceSignal] = []

    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [stop] in stop.stop() }
            source.resume()
            sources.append(source)
        }
    }
}
