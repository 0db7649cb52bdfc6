import Foundation
import Logging
import SIPC
import SIPCHost
import Testing

/// What the integration tests need from the environment (`make test` sets all of it).
enum WineTestEnvironment {
    static let variables = ProcessInfo.processInfo.environment

    /// `SIPB_SHIM` and `SIPB_WIN_BIN`, when the Windows programs were built.
    static var shim: String? {
        variables["SIPB_SHIM"].flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
    }
    static var windowsBin: String? { variables["SIPB_WIN_BIN"] }

    /// True when Wine, the shim and the peers are all there.
    static var available: Bool {
        guard let shim, let bin = windowsBin else { return false }
        return FileManager.default.isExecutableFile(atPath: variables["SIPB_WINE"] ?? "/usr/lib/wine/wine64")
            && FileManager.default.fileExists(atPath: bin + "/sipc-peer.exe") && !shim.isEmpty
    }

    /// `make test` sets SIPB_REQUIRE_WINE=1: then a missing piece is a failure, not a skip.
    static var required: Bool { variables["SIPB_REQUIRE_WINE"] == "1" }

    /// Enables a Wine test when everything is there, or when it is required (so that it fails loudly).
    static var enabled: Bool { available || required }

    static var wine: WineEnvironment {
        WineEnvironment.fromEnvironment(defaultPrefix: FileManager.default.currentDirectoryPath + "/.wine-prefix")
    }

    /// A logger on standard error when SIPB_TEST_LOG=1, else a silent one.
    static func logger(_ label: String) -> Logger {
        guard variables["SIPB_TEST_LOG"] == "1" else {
            return Logger(label: label, factory: { _ in SwiftLogNoOpLogHandler() })
        }
        var logger = Logger(label: label, factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .debug
        return logger
    }

    static func requireAvailable() throws {
        guard available else {
            throw TestSetupError(
                "Wine integration test needs SIPB_SHIM, SIPB_WIN_BIN (with sipc-peer.exe) and wine64: run `make test`")
        }
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A bridge to a freshly started shim, shut down by `close()`.
final class ShimSession {
    let bridge: BridgeConnection

    init() throws {
        try WineTestEnvironment.requireAvailable()
        let wine = WineTestEnvironment.wine
        try wine.ensurePrefix()
        try wine.ensureWineserver()
        let transport = try PipeTransport.launch(
            shim: WineTestEnvironment.shim!, environment: wine, shimLog: .inherit,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        bridge = try BridgeConnection(transport: transport)
    }

    func close() { _ = bridge.shutdown(timeout: .seconds(5)) }
}

/// A Windows test program run under Wine, its standard output collected.
final class WindowsProgram: @unchecked Sendable {
    let process = Process()
    /// Standard output goes to a file, not a pipe: a Wine helper the program starts (explorer.exe, the first
    /// time a window is made) inherits its standard handles and may outlive it, so a pipe might never reach
    /// end-of-file. A file can be read at any time and never blocks.
    private let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent(
        "sipb-win-\(getpid())-\(UUID().uuidString).out")

    /// Starts `<SIPB_WIN_BIN>/<name>` with `arguments`.
    init(_ name: String, _ arguments: [String]) throws {
        let wine = WineTestEnvironment.wine
        process.executableURL = URL(fileURLWithPath: wine.wine)
        process.arguments = [WineTestEnvironment.windowsBin! + "/" + name] + arguments
        process.environment = wine.processEnvironment
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = FileHandle.standardError
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit { try? FileManager.default.removeItem(at: outputFile) }

    var isRunning: Bool { process.isRunning }

    /// Ends the program now (SIGKILL to its Wine process: SIGTERM is not acted on promptly).
    @discardableResult
    func kill() -> Int32 {
        if process.isRunning { _ = Foundation.kill(process.processIdentifier, SIGKILL) }
        return finish(timeout: .seconds(10))
    }

    /// The output so far, as lines.
    var lines: [String] {
        let data = (try? Data(contentsOf: outputFile)) ?? Data()
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
    }

    /// The values of every `key=value` line with this key, in order.
    func values(_ key: String) -> [String] {
        lines.compactMap { line in line.hasPrefix(key + "=") ? String(line.dropFirst(key.count + 1)) : nil }
    }

    /// Waits for the exit (bounded: past `timeout` the program is killed, and past 10 s more the test goes on
    /// without its status) and returns the exit status, or -1 when it never ended.
    func finish(timeout: Duration = .seconds(60)) -> Int32 {
        endProcess(process, waiting: timeout)
    }
}

/// The functions of win32-shim/tests/test_protocol.h and the ipcdemo protocol, Swift side.
enum TestProtocol {
    static let addInt = IPCFunction(id: 102, name: "AddInt", inputs: (Int32.self, Int32.self), outputs: Int32.self)
    static let addString = IPCFunction(
        id: 103, name: "AddString", inputs: (WideString.self, WideString.self), outputs: WideString.self)
    static let sayHello = IPCFunction(id: 104, name: "SayHello", inputs: WideString.self, outputs: ())
    static let sum = IPCFunction(id: 105, name: "Sum", inputs: Int32.self, outputs: Int32.self)
    static let ints = IPCFunction(
        id: 201, name: "TypesInts",
        inputs: (Int8.self, UInt8.self, Int16.self, UInt16.self, Int32.self, UInt32.self, Int64.self, UInt64.self),
        outputs: (Int8.self, UInt8.self, Int16.self, UInt16.self, Int32.self, UInt32.self, Int64.self, UInt64.self))
    static let floats = IPCFunction(
        id: 202, name: "TypesFloats", inputs: (Float.self, Double.self, Win32BOOL.self, CBool.self),
        outputs: (Float.self, Double.self, Win32BOOL.self, CBool.self))
    static let geometry = IPCFunction(
        id: 203, name: "TypesGeometry",
        inputs: (Win32Point.self, Win32Size.self, Win32Rect.self, FixedBytes<256>.self, Handle64.self),
        outputs: (Win32Point.self, Win32Size.self, Win32Rect.self, FixedBytes<256>.self, Handle64.self))
    static let strings = IPCFunction(
        id: 204, name: "TypesStrings", inputs: (NarrowString.self, WideString.self, [Int32].self),
        outputs: (NarrowString.self, WideString.self, [Int32].self, Int32.self))

    /// The demo and type-coverage handlers, transforms exactly as test_protocol.h documents them.
    /// - Parameter skipping: Function ids left out, for a test to register its own handler.
    static func router(skipping: Set<UInt32> = []) -> SIPCRouter<SIPCPeer> {
        var router = SIPCRouter<SIPCPeer>()
        if !skipping.contains(addInt.id) { router.register(addInt) { a, b in a &+ b } }
        router.register(addString) { a, b in WideString(units: a.units + b.units) }
        if !skipping.contains(sum.id) {
            router.registerContextual(sum) { n, peer in
                n <= 0 ? 0 : n &+ (try peer.call(sum, n - 1))
            }
        }
        router.register(ints) { a, b, c, d, e, f, g, h in
            (a &+ 1, b &+ 1, c &+ 1, d &+ 1, e &+ 1, f &+ 1, g &+ 1, h &+ 1)
        }
        router.register(floats) { f, d, b4, b1 in
            (f * 2, d * 2, Win32BOOL(!b4.boolValue), CBool(!b1.value))
        }
        router.register(geometry) { p, s, r, bytes, handle in
            var reversed = FixedBytes<256>()
            for i in 0..<256 { reversed.bytes[i] = bytes.bytes[255 - i] }
            return (
                Win32Point(x: p.y, y: p.x), Win32Size(cx: s.cy, cy: s.cx),
                Win32Rect(left: r.bottom, top: r.right, right: r.top, bottom: r.left), reversed,
                Handle64(rawValue: ~handle.rawValue)
            )
        }
        router.register(strings) { a, w, v in
            (
                NarrowString(bytes: a.bytes + [0x21]), WideString(units: w.units + [0x2713]), v.reversed(),
                Int32(w.units.count)
            )
        }
        return router
    }
}

/// Waits up to `waiting` for `process` to end, then SIGKILLs it and waits up to 10 s more; returns its exit
/// status, or -1 when it never ended (so a test can go on instead of hanging on `waitUntilExit`).
func endProcess(_ process: Process, waiting: Duration) -> Int32 {
    var deadline = ContinuousClock.now + waiting
    while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
    if process.isRunning {
        _ = kill(process.processIdentifier, SIGKILL)
        deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
    }
    return process.isRunning ? -1 : process.terminationStatus
}

/// A unique window title per test, so tests never find each other's servers.
func uniqueTitle(_ base: String) -> String {
    "\(base)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
}

/// An instant another thread marks (the first mark counts), read safely from the test's thread.
final class MarkedInstant: @unchecked Sendable {
    private let lock = NSLock()
    private var value: ContinuousClock.Instant?
    func mark() {
        lock.lock()
        if value == nil { value = .now }
        lock.unlock()
    }
    var instant: ContinuousClock.Instant? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// The files of this test process's SIPC buffers in /dev/shm.
func sharedMemoryFilesOfThisProcess() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter {
        $0.hasPrefix(SharedFileMapping.serverFilePrefix(pid: getpid()))
    }
}
