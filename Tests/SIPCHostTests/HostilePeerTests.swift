import Foundation
import Logging
import SIPC
import SIPCHost
import Testing

/// A log handler that keeps the level, message and metadata of every event, for tests that check why the
/// server refused something. With SIPB_TEST_LOG=1 it also prints them on standard error.
struct RecordingLogHandler: LogHandler {
    /// One logged event.
    struct Event: Sendable, CustomStringConvertible {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]

        var description: String {
            let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            return "[\(level)] \(message) " + fields.joined(separator: " ")
        }
    }

    final class Store: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [Event] = []
        func append(_ event: Event) {
            lock.lock()
            events.append(event)
            lock.unlock()
        }
        var all: [Event] {
            lock.lock()
            defer { lock.unlock() }
            return events
        }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    private let echo = WineTestEnvironment.variables["SIPB_TEST_LOG"] == "1"

    init(store: Store) { self.store = store }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let recorded = Event(
            level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" })
        store.append(recorded)
        if echo { FileHandle.standardError.write(Data("sipc-server: \(recorded)\n".utf8)) }
    }
}

/// One attack of `hostile-peer.exe` and what the server must log when it refuses it.
struct HostileAttack: CustomStringConvertible {
    /// What a metadata value must be.
    enum Value {
        /// Contains this text.
        case contains(String)
        /// Is exactly the peer's `<attack>_<suffix>` line (the window or wParam it used).
        case peer(String)
    }

    /// The peer's sub-command, and the key of its `<attack>=<LRESULT>` line.
    let name: String
    /// What the peer must print for it: the LRESULT the server answered (0: refused).
    let answer: String
    let level: Logger.Level
    let message: String
    /// Metadata the event must carry (a key may be listed more than once).
    let metadata: KeyValuePairs<String, Value>

    init(
        _ name: String, answer: String = "0", _ level: Logger.Level, _ message: String,
        _ metadata: KeyValuePairs<String, Value> = [:]
    ) {
        self.name = name
        self.answer = answer
        self.level = level
        self.message = message
        self.metadata = metadata
    }

    var description: String { name }

    static func malformed(_ name: String, _ error: String) -> HostileAttack {
        HostileAttack(name, .warning, "malformed call refused", ["error": .contains(error)])
    }

    static let notTheClient = "call refused: lParam is not the connected client"
    static let pastTheStack = "call refused: slot past the stack"
    static let refusedConnect = "connect refused: already connected or our own window"
    static let taken = "is already taken by another process"

    /// The attacks on a v2 server with 10 slots of 2048 bytes (capacity 20480), in the order they run.
    static let v2: [HostileAttack] = [
        HostileAttack(
            "connect-dead-window", .error, "connect failed",
            ["client": .peer("client"), "error": .contains("the peer's window is gone")]),
        HostileAttack("connect-server-window", .notice, refusedConnect, ["client": .peer("client")]),
        HostileAttack("connect-twice", .notice, refusedConnect, ["client": .peer("client")]),
        HostileAttack("connect-connection-window", .notice, refusedConnect, ["client": .peer("client")]),
        HostileAttack("unconnected-window", .warning, notTheClient, ["lParam": .peer("lparam")]),
        HostileAttack(
            "main-window-call", .notice, "call on the main window refused",
            ["wParam": .peer("wparam"), "lParam": .peer("lparam")]),
        HostileAttack("spoof-lparam-zero", .warning, notTheClient, ["lParam": .peer("lparam")]),
        HostileAttack("spoof-lparam-server", .warning, notTheClient, ["lParam": .peer("lparam")]),
        HostileAttack("spoof-lparam-connection", .warning, notTheClient, ["lParam": .peer("lparam")]),
        HostileAttack("spoof-lparam-garbage", .warning, notTheClient, ["lParam": .peer("lparam")]),
        HostileAttack("slot-stack-size", .warning, pastTheStack, ["wParam": .peer("wparam")]),
        HostileAttack("slot-101", .warning, pastTheStack, ["wParam": .peer("wparam")]),
        HostileAttack("slot-u32-max", .warning, pastTheStack, ["wParam": .peer("wparam")]),
        HostileAttack("slot-u64-max", .warning, pastTheStack, ["wParam": .peer("wparam")]),
        .malformed("header-capacity", "shared header field capacity = 4294967295 exceeds its limit 20480"),
        .malformed("header-capacity-small", "shared header field capacity = 64 exceeds its limit 20480"),
        .malformed("header-tail", "shared header field tail = 20481 exceeds its limit 20480"),
        .malformed("header-cursor", "shared header field cursor = 4294967295 exceeds its limit 20480"),
        .malformed("header-tail-short", "truncated: need 4 bytes at offset 4, only 3 readable"),
        .malformed("string-negative", "negative count -1 at offset 13"),
        .malformed("string-huge", "count 2147483647 at offset 13 exceeds"),
        .malformed("string-past-slot", "count 1100 at offset 13 exceeds"),
        .malformed("frame-overflows-slot", "count 1400 at offset 13 exceeds"),
        .malformed("frame-id-mismatch", "function id mismatch at offset 8: expected 102, found 103"),
        .malformed("frame-bad-marker", "bad section marker at offset 12: expected 0xF0, found 0x0"),
        HostileAttack("frame-unknown-function", .notice, "unknown function", ["id": .contains("4242")]),
        .malformed("frame-beyond-tail", "truncated: need 1 bytes at offset 18432, only 0 readable"),
        .malformed("outputs-overflow-slot", "overflow: "),
        HostileAttack(
            "server-send-header", .warning, "handler failed",
            // The server writes its nested call into its own slot (no header field is used for that) and the
            // peer, reading it through the header it tampered, refuses it: the call fails, the server's handler
            // with it. Outputs are never read through a tampered header (checked by the caller's read).
            ["id": .contains("105"), "error": .contains("the peer did not handle function 105")]),
        HostileAttack(
            "bad-outputs", .warning, "handler failed",
            ["id": .contains("105"), "error": .contains("function id mismatch")]),
        HostileAttack(
            "spoof-disconnect", answer: "still-connected", .warning,
            "disconnect refused: lParam is not the connected client", ["lParam": .peer("lparam")]),
        HostileAttack(
            "squat-mapping", .error, "connect failed",
            ["client": .peer("client"), "error": .contains("mapping name "), "error": .contains(taken)]),
        HostileAttack(
            "squat-event", .error, "connect failed",
            ["client": .peer("client"), "error": .contains("_mutex is"), "error": .contains(taken)]),
    ]

    /// The attacks on a v1 server (one 1024-byte buffer per direction; calls go to the main window).
    static let v1: [HostileAttack] = [
        HostileAttack(
            "connect-dead-window", .error, "connect failed",
            ["client": .peer("client"), "error": .contains("the peer's window is gone")]),
        HostileAttack("connect-server-window", .notice, refusedConnect, ["client": .peer("client")]),
        HostileAttack("connect-twice", .notice, refusedConnect, ["client": .peer("client")]),
        HostileAttack(
            "unconnected-window", .notice, "call on the main window refused",
            ["wParam": .peer("wparam"), "lParam": .peer("lparam")]),
        HostileAttack(
            "v1-wide-wparam", .notice, "call refused: wParam is not a function id", ["wParam": .peer("wparam")]),
        .malformed("v1-bad-length", "v1 frame length 2147483647"),
        HostileAttack(
            "squat-mapping", .error, "connect failed",
            ["client": .peer("client"), "error": .contains("mapping name "), "error": .contains(taken)]),
        HostileAttack(
            "squat-event", .error, "connect failed",
            ["client": .peer("client"), "error": .contains("_mutex is"), "error": .contains(taken)]),
    ]
}

/// The Swift host's SIPC server under real Wine against `hostile-peer.exe` (win32-shim/tests/hostile-peer.c), a
/// mingw-built client that connects with the C library and then misbehaves with raw Win32 calls: calls from
/// windows that never connected, spoofed lParams, slots past the stack, tampered shared headers, string counts
/// negative or past the slot, frames and outputs larger than their slot, malformed outputs, a disconnect posted for
/// somebody else, mapping and event names squatted before the server creates them. Each attack must be refused
/// (LRESULT 0) with its own logged reason, in order; afterwards the same client and a well-behaved one get correct
/// answers, and no /dev/shm file of this process is left.
@Suite(.serialized, .enabled(if: WineTestEnvironment.enabled, "needs Wine and the Windows programs: run `make test`"))
final class HostilePeerTests {
    let session: ShimSession

    init() throws { session = try ShimSession() }
    deinit { session.close() }

    /// The events at notice level and above: the server's refusals.
    static func refusals(_ store: RecordingLogHandler.Store) -> [RecordingLogHandler.Event] {
        store.all.filter { $0.level >= .notice }
    }

    /// Runs `attacks` (between `before` and `after`) in one hostile-peer, serving until it exits, and checks that
    /// each was answered as expected and refused with its own log event, in order and with nothing else.
    func attack(
        _ server: SIPCServer, store: RecordingLogHandler.Store, options: [String], attacks: [HostileAttack],
        before: [String], after: [String]
    ) throws -> WindowsProgram {
        let logged = store.all.count
        let peer = try WindowsProgram("hostile-peer.exe", options + before + attacks.map(\.name) + after)
        let deadline = ContinuousClock.now + .seconds(120)
        try server.serve(until: { !peer.isRunning || ContinuousClock.now > deadline })
        #expect(peer.finish() == 0, "hostile-peer output: \(peer.lines)")
        #expect(peer.values("status") == ["ok"], "\(peer.lines)")

        let new = Array(store.all.dropFirst(logged).filter { $0.level >= .notice })
        #expect(
            new.map(\.message) == attacks.map(\.message),
            "logged:\n\(new.map(\.description).joined(separator: "\n"))")
        for (index, attack) in attacks.enumerated() {
            #expect(peer.values(attack.name) == [attack.answer], "\(attack): \(peer.lines)")
            guard index < new.count else { continue }
            let event = new[index]
            #expect(event.level == attack.level, "\(attack): \(event)")
            #expect(event.message == attack.message, "\(attack): \(event)")
            for (key, value) in attack.metadata {
                let logged = event.metadata[key]
                switch value {
                case .contains(let text):
                    #expect(logged?.contains(text) == true, "\(attack): \(key) should contain \(text): \(event)")
                case .peer(let suffix):
                    let sent = peer.values("\(attack.name)_\(suffix)")
                    #expect(sent.count == 1 && logged == sent.first, "\(attack): \(key) \(sent) vs \(event)")
                }
            }
        }
        return peer
    }

    func makeServer(_ profile: SIPCProfile, connectionTitle: String) throws -> (SIPCServer, RecordingLogHandler.Store) {
        let store = RecordingLogHandler.Store()
        var configuration = SIPCServer.Configuration(profile: profile)
        configuration.connectionTitle = connectionTitle
        let server = try SIPCServer(
            bridge: session.bridge, configuration: configuration, router: TestProtocol.router(),
            logger: Logger(label: "sipb.sipc", factory: { _ in RecordingLogHandler(store: store) }))
        return (server, store)
    }

    @Test(.timeLimit(.minutes(5)))
    func v2AttacksAreRefusedWithTheirReasonAndTheHostKeepsServing() throws {
        var profile = try SIPCProfile.ipcDemo(stackSize: 10)
        profile.serverTitle = uniqueTitle("sipb_hostile")
        let connectionTitle = uniqueTitle("sipb_hostile_conn")
        let (server, store) = try makeServer(profile, connectionTitle: connectionTitle)
        defer { server.close() }

        let peer = try attack(
            server, store: store,
            options: ["--title", profile.serverTitle, "--stack", "10", "--conn-title", connectionTitle],
            attacks: HostileAttack.v2, before: ["control"], after: ["legit", "conn-windows", "disconnect-s4"])
        // The same frame, sent as a client should, is answered: the refusals are the attacks' doing.
        #expect(peer.values("control") == ["1"] && peer.values("control_result") == ["42"], "\(peer.lines)")
        #expect(peer.values("spoof-disconnect_sync") == ["ok"])
        // The attacker's own connection still works, and nothing was left behind by the refused connects.
        #expect(peer.values("legit") == ["42"] && peer.values("legit-sum") == ["15"], "\(peer.lines)")
        #expect(peer.values("conn-windows") == ["1"])
        #expect(peer.values("disconnect-s4") == ["ok"])
        #expect(server.peers.isEmpty)
        #expect(sharedMemoryFilesOfThisProcess().isEmpty, "\(sharedMemoryFilesOfThisProcess())")

        // A well-behaved client afterwards.
        let refused = Self.refusals(store).count
        let client = try WindowsProgram(
            "sipc-peer.exe",
            [
                "client", "--title", profile.serverTitle, "--stack", "10", "add-int", "40", "2", "types", "sum", "10",
                "disconnect",
            ])
        let deadline = ContinuousClock.now + .seconds(90)
        try server.serve(until: { !client.isRunning || ContinuousClock.now > deadline })
        #expect(client.finish() == 0, "client output: \(client.lines)")
        #expect(client.values("result") == ["42", "55"])
        #expect(client.values("types") == ["ok"])
        #expect(Self.refusals(store).count == refused, "\(Self.refusals(store).dropFirst(refused))")
        server.close()
        #expect(server.peers.isEmpty)
        #expect(sharedMemoryFilesOfThisProcess().isEmpty, "\(sharedMemoryFilesOfThisProcess())")
    }

    @Test(.timeLimit(.minutes(5)))
    func v1AttacksAreRefusedWithTheirReasonAndTheHostKeepsServing() throws {
        var profile = SIPCProfile.v1Demo
        profile.serverTitle = uniqueTitle("sipb_hostile_v1")
        let (server, store) = try makeServer(profile, connectionTitle: uniqueTitle("sipb_hostile_conn"))
        defer { server.close() }

        let peer = try attack(
            server, store: store,
            options: ["--v1", "--title", profile.serverTitle, "--buf", "1024", "--format", profile.bufferNameFormat],
            attacks: HostileAttack.v1, before: [], after: ["legit"])
        #expect(peer.values("legit") == ["42"] && peer.values("legit-sum") == ["15"], "\(peer.lines)")
        // Its disconnect was posted just before it exited.
        let dropped = ContinuousClock.now + .seconds(10)
        try server.serve(until: { server.peers.isEmpty || ContinuousClock.now > dropped })
        #expect(server.peers.isEmpty)
        #expect(sharedMemoryFilesOfThisProcess().isEmpty, "\(sharedMemoryFilesOfThisProcess())")

        let client = try WindowsProgram(
            "sipc-peer.exe",
            [
                "client", "--v1", "--title", profile.serverTitle, "--buf", "1024", "--format", profile.bufferNameFormat,
                "add-int", "5", "6", "sum", "10", "disconnect",
            ])
        let deadline = ContinuousClock.now + .seconds(90)
        try server.serve(until: { !client.isRunning || ContinuousClock.now > deadline })
        #expect(client.finish() == 0, "client output: \(client.lines)")
        #expect(client.values("result") == ["11", "55"])
        server.close()
        #expect(sharedMemoryFilesOfThisProcess().isEmpty, "\(sharedMemoryFilesOfThisProcess())")
    }
}
