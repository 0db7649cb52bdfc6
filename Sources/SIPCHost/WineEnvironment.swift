import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where Wine and its prefix are, and how to start Windows programs in it.
///
/// The order that keeps EOF meaningful and the shim's pipes private: ``ensurePrefix(logger:)`` (creates the
/// prefix once), ``ensureWineserver(persistSeconds:logger:)`` (a persistent wineserver, plus `wineboot` so
/// Wine's helper processes start now, with `/dev/null` as their stdio), then ``spawn(_:arguments:stdin:stdout:stderr:)``.
public struct WineEnvironment: Sendable {
    /// The `wine64` loader.
    public var wine: String
    /// The `wineserver` binary.
    public var wineserver: String
    /// The prefix directory (`WINEPREFIX`).
    public var prefix: String
    /// The `WINEDEBUG` channels (`-all` silences Wine).
    public var winedebug: String
    /// Extra variables for every Wine process (e.g. `DISPLAY`).
    public var extraEnvironment: [String: String]

    /// Describes a Wine installation.
    /// - Parameters:
    ///   - wine: The `wine64` loader.
    ///   - wineserver: The `wineserver` binary.
    ///   - prefix: The prefix directory.
    ///   - winedebug: The `WINEDEBUG` value.
    ///   - extraEnvironment: Extra variables for every Wine process.
    public init(
        wine: String = "/usr/lib/wine/wine64", wineserver: String = "/usr/lib/wine/wineserver", prefix: String,
        winedebug: String = "-all", extraEnvironment: [String: String] = [:]
    ) {
        (self.wine, self.wineserver, self.prefix, self.winedebug) = (wine, wineserver, prefix, winedebug)
        self.extraEnvironment = extraEnvironment
    }

    /// Reads the environment: `SIPB_WINE`, `SIPB_WINESERVER`, `WINEPREFIX`, `WINEDEBUG`, each with its default.
    /// - Parameters:
    ///   - environment: The variables to read (the process's own by default).
    ///   - defaultPrefix: The prefix to use when `WINEPREFIX` is not set (a project-local folder).
    /// - Returns: The environment description; nothing is checked yet.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, defaultPrefix: String
    ) -> WineEnvironment {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        return WineEnvironment(
            wine: value("SIPB_WINE") ?? "/usr/lib/wine/wine64",
            wineserver: value("SIPB_WINESERVER") ?? "/usr/lib/wine/wineserver",
            prefix: value("WINEPREFIX") ?? defaultPrefix,
            winedebug: value("WINEDEBUG") ?? "-all")
    }

    /// The environment of a Wine process: the host's own, plus `WINEPREFIX`, `WINEDEBUG` and the extras.
    public var processEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["WINEPREFIX"] = prefix
        environment["WINEDEBUG"] = winedebug
        environment.merge(extraEnvironment) { $1 }
        return environment
    }

    /// Checks that `wine64` and `wineserver` are executable.
    /// - Throws: ``BridgeError/launchFailed(_:)`` naming the missing one.
    public func validate() throws(BridgeError) {
        for (name, path) in [("wine64", wine), ("wineserver", wineserver)] where access(path, X_OK) != 0 {
            throw .launchFailed("\(name) not found or not executable at \(path)")
        }
    }

    /// True when the prefix has been initialised (its `system.reg` exists).
    public var prefixExists: Bool { FileManager.default.fileExists(atPath: prefix + "/system.reg") }

    /// Creates the prefix with `wineboot --init` (about 20 s, once) unless it exists; Mono and Gecko are skipped
    /// (`WINEDLLOVERRIDES="mscoree,mshtml="`).
    /// - Parameter logger: Where to log.
    /// - Throws: ``BridgeError/launchFailed(_:)`` when Wine is missing or the prefix did not appear.
    public func ensurePrefix(logger: Logger = Logger(label: "sipb.wine", factory: { _ in SwiftLogNoOpLogHandler() }))
        throws(BridgeError)
    {
        try validate()
        if prefixExists { return }
        logger.info("creating the Wine prefix", metadata: ["prefix": "\(prefix)"])
        var environment = processEnvironment
        environment["WINEDLLOVERRIDES"] = "mscoree,mshtml="
        let boot = try ChildProcess.spawn(
            executable: wine, arguments: ["wineboot", "--init"], environment: environment, stdout: .null, stderr: .null)
        guard boot.waitForExit(timeout: .seconds(180)) != nil else {
            boot.terminate()
            throw .launchFailed("wineboot --init did not finish within 180 s")
        }
        let wait = try ChildProcess.spawn(
            executable: wineserver, arguments: ["-w"], environment: processEnvironment, stdout: .null, stderr: .null)
        if wait.waitForExit(timeout: .seconds(60)) == nil { wait.terminate() }
        guard prefixExists else { throw .launchFailed("wineboot --init did not create \(prefix)/system.reg") }
    }

    /// Makes sure a wineserver runs for the prefix and Wine's helper processes are up, before any bridge starts,
    /// so none of them inherits the bridge's pipes.
    ///
    /// Runs `wineserver -p<persistSeconds>` (exit 2 means one already runs; either is fine), then `wine64
    /// wineboot` with `/dev/null` as stdio, which starts `services.exe`, `explorer.exe /desktop` and the rest.
    /// - Parameters:
    ///   - persistSeconds: How long the wineserver stays after its last client leaves.
    ///   - logger: Where to log.
    /// - Throws: ``BridgeError/launchFailed(_:)``.
    public func ensureWineserver(
        persistSeconds: Int = 30,
        logger: Logger = Logger(label: "sipb.wine", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws(BridgeError) {
        try validate()
        let server = try ChildProcess.spawn(
            executable: wineserver, arguments: ["-p\(persistSeconds)"], environment: processEnvironment,
            stdout: .null, stderr: .null)
        switch server.waitForExit(timeout: .seconds(30)) {
        case .exited(0)?: logger.debug("started a persistent wineserver", metadata: ["prefix": "\(prefix)"])
        case .exited(2)?: logger.debug("a wineserver already runs", metadata: ["prefix": "\(prefix)"])
        case let other:
            server.terminate()
            throw .launchFailed("wineserver -p\(persistSeconds) ended with \(other.map { "\($0)" } ?? "a timeout")")
        }
        let boot = try ChildProcess.spawn(
            executable: wine, arguments: ["wineboot"], environment: processEnvironment, stdout: .null, stderr: .null)
        guard boot.waitForExit(timeout: .seconds(120)) != nil else {
            boot.terminate()
            throw .launchFailed("wineboot did not finish within 120 s")
        }
    }

    /// Starts a Windows program under `wine64`.
    /// - Parameters:
    ///   - program: The `.exe` path (a Unix path; Wine maps it).
    ///   - arguments: Its arguments.
    ///   - stdin: Its standard input.
    ///   - stdout: Its standard output.
    ///   - stderr: Its standard error.
    ///   - endsWithMainThread: Kill it when its main thread has ended while other threads linger (see
    ///     ``ChildProcess``): right for the shim, whose main thread is its life; wrong for a Windows program that
    ///     may go on in other threads.
    /// - Returns: The running process (its pid is the Windows process's Unix pid).
    /// - Throws: ``BridgeError/launchFailed(_:)``.
    public func spawn(
        _ program: String, arguments: [String] = [], stdin: ChildStdio = .null, stdout: ChildStdio = .inherit,
        stderr: ChildStdio = .inherit, endsWithMainThread: Bool = false
    ) throws(BridgeError) -> ChildProcess {
        try validate()
        guard FileManager.default.fileExists(atPath: program) else { throw .launchFailed("\(program) does not exist") }
        return try ChildProcess.spawn(
            executable: wine, arguments: [program] + arguments, environment: processEnvironment, stdin: stdin,
            stdout: stdout, stderr: stderr, endsWithMainThread: endsWithMainThread)
    }
}

/// Linux's `F_SETPIPE_SZ` (not exported by the Glibc module without `_GNU_SOURCE`).
let pipeSetSizeCommand: Int32 = 1031
/// The pipe size asked for: `/proc/sys/fs/pipe-max-size`'s default.
let pipeSize: Int32 = 1 << 20

/// Where the shim's standard error (its log) goes.
public enum ShimLogDestination: Sendable {
    /// The host's standard error.
    case inherit
    /// Nowhere.
    case discard
    /// Each line to the bridge's logger at this level. Every line the shim wrote before it exited is logged
    /// before its exit is reported (its stderr is given up to 2 s to drain).
    case logger(Logger.Level)
}

extension PipeTransport {
    /// Starts `sipc-shim.exe` under Wine with piped stdin and stdout and returns the transport over them.
    ///
    /// Call ``WineEnvironment/ensureWineserver(persistSeconds:logger:)`` first (``BridgeConnection/launch``
    /// does). The pipe ends meant for the shim are closed in the host once the shim has them, on success and on
    /// failure; the host's ends belong to the returned transport.
    /// - Parameters:
    ///   - shim: The path of `sipc-shim.exe`.
    ///   - environment: The Wine installation.
    ///   - shimLog: Where the shim's stderr goes.
    ///   - useRing: Whether to give the shim a ring (in `/dev/shm`, docs/PROTOCOL.md "The ring"): frames to the
    ///     shim then go through shared memory when they fit. Without one, or when it cannot be made, all go
    ///     through the pipe. By default on, unless the environment variable `SIPB_RING` is `0`.
    ///   - useUpload: Whether to give the shim an upload area (in `/dev/shm`, docs/PROTOCOL.md "The upload
    ///     area"): the bytes of a large `WM_COPYDATA` to a host window then come through shared memory. By default
    ///     on, unless the environment variable `SIPB_UPLOAD` is `0`.
    ///   - logger: Where to log.
    /// - Throws: ``BridgeError/launchFailed(_:)`` or ``BridgeError/io(operation:errno:)``.
    public static func launch(
        shim: String, environment: WineEnvironment, shimLog: ShimLogDestination = .inherit,
        useRing: Bool = PipeTransport.ringWantedByEnvironment,
        useUpload: Bool = PipeTransport.uploadWantedByEnvironment, logger: Logger
    ) throws(BridgeError) -> PipeTransport {
        let toShim = try makePipe()
        let fromShim: (read: Int32, write: Int32)
        do { fromShim = try makePipe() } catch {
            close(toShim.read); close(toShim.write)
            throw error
        }
        // 1 MiB pipes (the unprivileged maximum) instead of 64 KiB: a large WM_COPYDATA crosses in one or two
        // writes instead of sixteen, and each time a pipe runs full or empty Wine's side of it waits through
        // the wineserver. Best effort: a system with a lower limit keeps the default.
        for fd in [toShim.write, fromShim.read] { _ = fcntl(fd, pipeSetSizeCommand, pipeSize) }
        var logPipe: (read: Int32, write: Int32)?
        var stderrSpec = ChildStdio.inherit
        switch shimLog {
        case .inherit: break
        case .discard: stderrSpec = .null
        case .logger:
            do { logPipe = try makePipe() } catch {
                [toShim.read, toShim.write, fromShim.read, fromShim.write].forEach { close($0) }
                throw error
            }
            stderrSpec = .fileDescriptor(logPipe!.write)
        }
        // The host → shim ring (docs/PROTOCOL.md, "The ring").
        var shimEnvironment = environment
        var ring: ShimRing?
        if useRing {
            let name = SharedFileMapping.freshServerFileName("ring")
            do {
                ring = try ShimRing(file: name)
                shimEnvironment.extraEnvironment["SIPB_SHIM_RING"] = name
            } catch {
                logger.warning("no ring for the shim; every frame goes through the pipe", metadata: ["error": "\(error)"])
            }
        }
        // The shim → host upload area (docs/PROTOCOL.md, "The upload area").
        var upload: ShimUpload?
        if useUpload {
            let name = SharedFileMapping.freshServerFileName("upload")
            do {
                upload = try ShimUpload(file: name)
                shimEnvironment.extraEnvironment["SIPB_SHIM_UPLOAD"] = name
            } catch {
                logger.warning(
                    "no upload area for the shim; WM_COPYDATA bytes come through the pipe", metadata: ["error": "\(error)"])
            }
        }
        let process: ChildProcess
        do {
            // When the wineserver goes away, the shim's main thread ends but its stdin reader, blocked in read(),
            // would keep the process (and every wait of the host) alive forever.
            process = try shimEnvironment.spawn(
                shim, stdin: .fileDescriptor(toShim.read), stdout: .fileDescriptor(fromShim.write), stderr: stderrSpec,
                endsWithMainThread: true)
        } catch {
            [toShim.read, toShim.write, fromShim.read, fromShim.write].forEach { close($0) }
            if let logPipe { close(logPipe.read); close(logPipe.write) }
            ring?.closeAndRemove()
            upload?.closeAndRemove()
            throw error
        }
        close(toShim.read)
        close(fromShim.write)
        var forwarder: LineForwarder?
        if let logPipe, case .logger(let level) = shimLog {
            close(logPipe.write)
            let lines = LineForwarder(fd: logPipe.read, process: process, logger: logger, level: level)
            let thread = Thread { lines.run() }
            thread.name = "sipb-stderr-\(process.pid)"
            thread.start()
            forwarder = lines
        }
        logger.debug("started the shim", metadata: ["pid": "\(process.pid)", "shim": "\(shim)"])
        return PipeTransport(
            process: process, inputFD: toShim.write, outputFD: fromShim.read, ring: ring, upload: upload,
            logForwarder: forwarder, logger: logger)
    }
}

/// Forwards a child's stderr to a logger line by line; owns and closes `fd`. Stops when the child has exited
/// and the pipe is quiet, or at EOF; ``waitUntilDone(timeout:)`` waits for that.
final class LineForwarder: @unchecked Sendable {
    let fd: Int32
    let process: ChildProcess
    let logger: Logger
    let level: Logger.Level
    /// Set (under its lock) when ``run()`` has forwarded its last line.
    private let finished = NSCondition()
    private var done = false

    init(fd: Int32, process: ChildProcess, logger: Logger, level: Logger.Level) {
        (self.fd, self.process, self.logger, self.level) = (fd, process, logger, level)
    }

    /// Waits until every line has been forwarded (the child exited and its stderr is drained), or `timeout`.
    /// - Returns: Whether the forwarder finished.
    @discardableResult
    func waitUntilDone(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        finished.lock()
        defer { finished.unlock() }
        while !done {
            if !finished.waitUnlessPast(deadline) { return false }
        }
        return true
    }

    func run() {
        defer {
            close(fd)
            finished.lock()
            done = true
            finished.broadcast()
            finished.unlock()
        }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollFD, 1, 50)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 {
                if ready < 0 || process.exitStatus != nil { break }
                continue
            }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending.append(contentsOf: chunk[0..<count])
            while let newline = pending.firstIndex(of: 0x0A) {
                emit(pending[..<newline])
                pending.removeSubrange(...newline)
            }
        }
        if !pending.isEmpty { emit(pending[...]) }
    }

    private func emit(_ line: ArraySlice<UInt8>) {
        var text = String(decoding: line, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        logger.log(level: level, "shim: \(text)", metadata: ["pid": "\(process.pid)"])
    }
}
