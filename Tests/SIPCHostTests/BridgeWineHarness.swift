import Foundation
import Logging
import Testing

@testable import SIPCHost

/// What the bridge's Wine integration tests need: `SIPB_SHIM` (the shim), `SIPB_WIN_BIN` (with `msg-peer.exe`),
/// `SIPB_WINE`, `SIPB_WINESERVER`, `WINEPREFIX`, `WINEDEBUG` — all set by `make test`, which also sets
/// `SIPB_REQUIRE_WINE=1` so that a missing piece fails the run instead of skipping.
enum BridgeWine {
    static let variables = ProcessInfo.processInfo.environment

    /// The repository root, found from this file's path (for the default prefix).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static var shim: String? {
        variables["SIPB_SHIM"].flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
    }

    static var msgPeer: String? {
        let bin = variables["SIPB_WIN_BIN"] ?? shim.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        return bin.map { $0 + "/msg-peer.exe" }.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
    }

    static var wine: WineEnvironment {
        WineEnvironment.fromEnvironment(defaultPrefix: repositoryRoot + "/.wine-prefix")
    }

    /// What is missing, or nil when everything is there.
    static var missing: String? {
        var missing: [String] = []
        if shim == nil { missing.append("SIPB_SHIM (sipc-shim.exe)") }
        if msgPeer == nil { missing.append("SIPB_WIN_BIN with msg-peer.exe") }
        if access(wine.wine, X_OK) != 0 { missing.append("wine64 at \(wine.wine) (SIPB_WINE)") }
        return missing.isEmpty ? nil : missing.joined(separator: ", ")
    }

    /// True when the tests can run.
    static var available: Bool { missing == nil }
    /// True under `make test`.
    static var required: Bool { variables["SIPB_REQUIRE_WINE"] == "1" }
    /// Run the suite when it can run, or when it must (so that it fails with a clear message).
    static var enabled: Bool { available || required }

    /// Fails the test with a clear message when something is missing.
    static func requireAvailable() throws {
        if let missing {
            throw BridgeTestSetupError("the Wine integration tests need \(missing); run them with `make test`")
        }
    }

    /// Starts a shim and completes the handshake.
    static func connect(
        maxNestingDepth: Int = 64, useRing: Bool = true, useUpload: Bool = true, shimLog: ShimLogDestination = .inherit,
        shimEnvironment: [String: String] = [:],
        logger: Logger = Logger(label: "sipb.test", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws -> BridgeConnection {
        try requireAvailable()
        var configuration = BridgeConnection.Configuration()
        configuration.maxNestingDepth = maxNestingDepth
        configuration.useRing = useRing
        configuration.useUpload = useUpload
        configuration.handshakeTimeout = .seconds(60)
        configuration.replyTimeout = .seconds(90)  // no test call should take this long: fail instead of hanging
        var environment = wine
        environment.extraEnvironment.merge(shimEnvironment) { $1 }
        return try BridgeConnection.launch(
            shim: shim ?? "", environment: environment, configuration: configuration, shimLog: shimLog, logger: logger)
    }

    /// A title no other test (or run) uses.
    static func uniqueTitle(_ base: String) -> String { "\(base)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" }
}

/// A log handler that keeps every message, for tests that check what was logged.
struct CapturingLogHandler: LogHandler {
    final class Store: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [String] = []
        func append(_ message: String) {
            lock.lock()
            messages.append(message)
            lock.unlock()
        }
        var all: [String] {
            lock.lock()
            defer { lock.unlock() }
            return messages
        }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { store.append(event.message.description) }
}

struct BridgeTestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `msg-peer.exe` under Wine, its standard output going to a temporary file that the test polls.
final class MsgPeer {
    let process: ChildProcess
    let outputPath: String

    init(_ arguments: [String]) throws {
        try BridgeWine.requireAvailable()
        outputPath = NSTemporaryDirectory() + "sipb-msg-peer-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BridgeTestSetupError("cannot create \(outputPath)") }
        defer { close(fd) }
        process = try BridgeWine.wine.spawn(
            BridgeWine.msgPeer ?? "", arguments: arguments, stdin: .null, stdout: .fileDescriptor(fd), stderr: .inherit)
    }

    deinit {
        process.terminate(grace: .milliseconds(200))
        unlink(outputPath)
    }

    var lines: [String] {
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isNewline).map(String.init)
    }

    /// The first line starting with `prefix`.
    func line(startingWith prefix: String) -> String? { lines.first { $0.hasPrefix(prefix) } }

    /// Waits for a line starting with `prefix`, serving `connection` meanwhile if given.
    func waitForLine(
        startingWith prefix: String, timeout: Duration = .seconds(30), serving connection: BridgeConnection? = nil
    ) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = line(startingWith: prefix) { return line }
            if let connection { try connection.serve(for: .milliseconds(20)) } else { usleep(10_000) }
        }
        return line(startingWith: prefix)
    }

    /// Waits for the program to exit, serving `connection` meanwhile if given.
    @discardableResult
    func finish(timeout: Duration = .seconds(60), serving connection: BridgeConnection? = nil) throws
        -> ProcessExitStatus?
    {
        if let connection {
            let deadline = ContinuousClock.now + timeout
            try connection.serve(until: { self.process.exitStatus != nil || ContinuousClock.now >= deadline })
        }
        return process.waitForExit(timeout: connection == nil ? timeout : .seconds(2))
    }

    /// Starts `msg-peer.exe serve TITLE 60 msgonly` and waits for its `ready` line: the peer and its window.
    static func serving(_ title: String) throws -> (peer: MsgPeer, window: WindowHandle) {
        let peer = try MsgPeer(["serve", title, "60", "msgonly"])
        let ready = try #require(try peer.waitForLine(startingWith: "ready"), "msg-peer did not start: \(peer.lines)")
        return (peer, WindowHandle(rawValue: try #require(parseNumber(fields(ready)["hwnd"]))))
    }

    /// The `key=value` fields of a line.
    static func fields(_ line: String) -> [String: String] {
        var fields: [String: String] = [:]
        for word in line.split(separator: " ") {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return fields
    }
}

/// FNV-1a 64, as msg-peer computes it.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return hash
}

/// msg-peer's copydata pattern: byte i = (i * 31 + seed) & 0xFF.
func peerPattern(size: Int, seed: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: size)
    for index in 0..<size { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ seed) }
    return bytes
}

/// Parses `0x…` or decimal.
func parseNumber(_ text: String?) -> UInt64? {
    guard let text else { return nil }
    return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
}
