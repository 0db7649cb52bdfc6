import Foundation
import Logging
import Testing

@testable import SIPCHost

private let msgAdd: UInt32 = 0x8001
private let msgPosted: UInt32 = 0x8002
private let msgNest: UInt32 = 0x8003
private let msgSleep: UInt32 = 0x8004

/// The bridge against the real shim under Wine, with `msg-peer.exe` as the Windows peer.
///
/// Skipped (visibly, with the reason) when Wine or the Windows programs are missing; under `make test`
/// (`SIPB_REQUIRE_WINE=1`) the suite runs anyway and each test fails with a message naming what is missing.
/// Serialized: the tests share one wineserver and measure timings.
@Suite(
    "Bridge under Wine", .serialized,
    .enabled(if: BridgeWine.enabled, "needs wine64, SIPB_SHIM and msg-peer.exe in SIPB_WIN_BIN: run `make test`"))
struct BridgeWineIntegrationTests {
    @Test("handshake, process image, and an orderly GOODBYE", .timeLimit(.minutes(2)))
    func handshake() throws {
        let connection = try BridgeWine.connect()
        #expect(connection.hello.magic == PipeProtocol.magic && connection.hello.major == PipeProtocol.versionMajor)
        #expect(connection.hello.processId != 0)
        let image = try connection.processImagePath(processId: connection.hello.processId)
        #expect(image.lowercased().hasSuffix("sipc-shim.exe"), "image path \(image)")
        #expect(connection.shutdown(timeout: .seconds(10)) == .exited(0))
    }

    @Test(
        "a message-only window relays 0x8001 and WM_COPYDATA; msg-peer's SendMessage gets the host's answer",
        .timeLimit(.minutes(2)))
    func peerSendsToHost() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let title = BridgeWine.uniqueTitle("sipb-host")
        let window = try connection.createWindow(
            className: "SipbHostTest", title: title, relaying: [msgAdd, wmCopyData])
        #expect(window.hwnd != .null)
        #expect(window.filterResults.count == 2 && window.filterResults.allSatisfy(\.ok))
        #expect(try connection.findWindow(parent: .message, title: title) == window.hwnd)
        #expect(try connection.isWindow(window.hwnd))
        #expect(try connection.windowThreadProcessId(window.hwnd)?.processId == connection.hello.processId)
        var seen: [WindowMessage] = []
        connection.onMessage(msgAdd, to: window.hwnd) { _, message in
            seen.append(message)
            return Int64(message.wParam * 1000 + message.lParam)
        }
        let peer = try MsgPeer(["send", title, "0x8001", "5", "7"])
        try peer.finish(serving: connection)
        #expect(peer.line(startingWith: "lresult=").map { MsgPeer.fields($0)["lresult"] } == "5007", "\(peer.lines)")
        #expect(seen.map(\.wParam) == [5] && seen.first?.kind == .sent)

        try connection.destroyWindow(window.hwnd)
        #expect(try connection.isWindow(window.hwnd) == false)
        #expect(throws: BridgeError.self) { try connection.destroyWindow(window.hwnd) }
    }

    @Test(
        "the host sends, posts and copies data to msg-peer's window; a relayed SendMessage round trip is timed",
        .timeLimit(.minutes(2)))
    func hostSendsToPeer() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let title = BridgeWine.uniqueTitle("sipb-peer")
        let (peer, peerWindow) = try MsgPeer.serving(title)
        #expect(try connection.findWindow(parent: .message, title: title) == peerWindow)
        let pid = try #require(UInt32(MsgPeer.fields(peer.line(startingWith: "ready") ?? "")["pid"] ?? ""))
        #expect(try connection.windowThreadProcessId(peerWindow)?.processId == pid)
        #expect(try connection.processImagePath(processId: pid).lowercased().hasSuffix("msg-peer.exe"))

        let outcome = try connection.sendMessage(to: peerWindow, message: msgAdd, wParam: 40, lParam: 2)
        #expect(outcome == SendOutcome(lresult: 42, delivered: true, lastError: outcome.lastError))

        let rounds = 200
        let start = ContinuousClock.now
        for round in 0..<rounds {
            let result = try connection.sendMessage(to: peerWindow, message: msgAdd, wParam: UInt64(round), lParam: 1)
            if result.lresult != Int64(round + 1) { Issue.record("round \(round): \(result)") }
        }
        let perCall = (ContinuousClock.now - start) / rounds
        print("host -> shim -> msg-peer SendMessage round trip: \(perCall) per call over \(rounds) calls")

        try connection.postMessage(to: peerWindow, message: msgPosted, wParam: 3, lParam: 4)
        #expect(try peer.waitForLine(startingWith: "posted msg=0x8002") == "posted msg=0x8002 w=3 l=4")

        let timedOut = #expect(throws: BridgeError.self) {
            _ = try connection.sendMessage(to: peerWindow, message: msgSleep, wParam: 1500, timeout: .milliseconds(200))
        }
        if case .requestFailed(_, let status, _, _)? = timedOut { #expect(status == .timeout) }
        #expect(try connection.sendMessage(to: peerWindow, message: msgAdd, wParam: 1, lParam: 1).lresult == 2)

        try connection.postMessage(to: peerWindow, message: 0x0010)  // WM_CLOSE: msg-peer leaves
        #expect(try peer.finish(timeout: .seconds(20)) == .exited(0))
        let gone = try connection.sendMessage(to: peerWindow, message: msgAdd, wParam: 1, lParam: 1)
        #expect(gone.delivered == false && gone.lresult == 0)

        // NULL, the handles Windows broadcasts to (HWND_BROADCAST, HWND_TOPMOST; the wineserver compares 32 bits),
        // and handles that never were windows: not delivered, with ERROR_INVALID_WINDOW_HANDLE.
        for raw: UInt64 in [0, 0xFFFF, 0xFFFF_FFFF, UInt64.max, 0x1_0000_FFFF, 0x7654_3210] {
            let outcome = try connection.sendMessage(to: WindowHandle(rawValue: raw), message: msgAdd, wParam: 1, lParam: 1)
            #expect(outcome.delivered == false && outcome.lresult == 0 && outcome.lastError == 1400, "\(raw): \(outcome)")
        }
    }

    @Test("a message posted by msg-peer reaches the host's posted-message handler", .timeLimit(.minutes(2)))
    func peerPostsToHost() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let title = BridgeWine.uniqueTitle("sipb-post")
        let window = try connection.createWindow(className: "SipbHostTest", title: title, relaying: [msgPosted])
        var posted: [WindowMessage] = []
        connection.onPostedMessage(to: window.hwnd) { _, message in posted.append(message) }
        let peer = try MsgPeer(["post", title, "0x8002", "3", "4"])
        try peer.finish(serving: connection)
        #expect(peer.line(startingWith: "ok=") == "ok=1 error=0")
        try connection.serve(for: .seconds(5), until: { !posted.isEmpty })
        #expect(posted.map { [UInt64($0.message), $0.wParam, $0.lParam] } == [[UInt64(msgPosted), 3, 4]])
        #expect(posted.first?.kind == .posted)
    }

    // Sizes across two Wine processes stop at 1 MiB: Wine 8 itself cannot carry a cross-process WM_COPYDATA
    // of about 2 MiB or more (measured: 1.94 MiB arrives, 1.99 MiB hangs the sender and the receiver gets a
    // garbage posted message). 64 MiB through the pipe in both directions is `copyDataLoopback64MiB`.
    @Test(
        "WM_COPYDATA from msg-peer to the host arrives byte-exact, from 4 KiB through the upload area when there is one",
        .timeLimit(.minutes(2)),
        arguments: [(0, true), (64, true), (4095, true), (4096, true), (1 << 20, true), (1 << 20, false)])
    func copyDataToHost(size: Int, useUpload: Bool) throws {
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "sipb.test", factory: { _ in CapturingLogHandler(store: store) })
        let connection = try BridgeWine.connect(
            useUpload: useUpload, shimLog: .logger(.debug), shimEnvironment: ["SIPB_SHIM_LOG": "debug"],
            logger: logger)
        defer { connection.shutdown() }
        #expect(connection.usesUploadArea == useUpload)
        let uploadFile = (connection.transport as? PipeTransport)?.uploadFileName
        #expect((uploadFile != nil) == useUpload)
        if let uploadFile {
            #expect(access("/dev/shm/" + uploadFile, F_OK) != 0, "the upload area's file goes once the shim has it")
        }
        let title = BridgeWine.uniqueTitle("sipb-copy-in")
        let window = try connection.createWindow(className: "SipbHostTest", title: title, relaying: [wmCopyData])
        let seed = 7
        var received: [CopyData] = []
        var hostHash: UInt64 = 0
        connection.onCopyData(to: window.hwnd) { _, copy in
            received.append(CopyData(hwnd: copy.hwnd, sender: copy.sender, dwData: copy.dwData, data: []))
            hostHash = fnv1a(copy.data)
            #expect(copy.data == peerPattern(size: size, seed: seed))
            return Int64(copy.data.count)
        }
        let start = ContinuousClock.now
        let peer = try MsgPeer(["copydata", title, "99", "\(size)", "\(seed)"])
        try peer.finish(timeout: .seconds(120), serving: connection)
        print(
            "msg-peer -> host WM_COPYDATA of \(size) bytes: \(ContinuousClock.now - start) including msg-peer's start")
        let fields = MsgPeer.fields(try #require(peer.line(startingWith: "lresult="), "\(peer.lines)"))
        #expect(fields["lresult"] == "\(size)")
        #expect(parseNumber("0x" + (fields["fnv1a"] ?? "")) == hostHash)
        #expect(hostHash == fnv1a(peerPattern(size: size, seed: seed)))
        #expect(received.count == 1 && received.first?.dwData == 99)
        connection.shutdown()
        let way = useUpload && size >= 4096 ? "bytes in the upload area" : "bytes through the pipe"
        #expect(
            store.all.contains { $0.contains("WM_COPYDATA of \(size) bytes to ") && $0.contains(way) },
            "\(store.all.filter { $0.contains("WM_COPYDATA") })")
    }

    @Test(
        "a WM_COPYDATA that comes while the host has not taken the upload area's bytes goes through the pipe",
        .timeLimit(.minutes(2)))
    func copyDataUploadBusy() throws {
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "sipb.test", factory: { _ in CapturingLogHandler(store: store) })
        let connection = try BridgeWine.connect(
            shimLog: .logger(.debug), shimEnvironment: ["SIPB_SHIM_LOG": "debug"], logger: logger)
        defer { connection.shutdown() }
        let title = BridgeWine.uniqueTitle("sipb-copy-busy")
        let window = try connection.createWindow(className: "SipbHostTest", title: title, relaying: [wmCopyData])
        var hashes: [UInt64: UInt64] = [:]  // dwData → hash of what arrived
        connection.onCopyData(to: window.hwnd) { _, copy in
            hashes[copy.dwData] = fnv1a(copy.data)
            return Int64(copy.data.count)
        }
        // Two senders while the host serves nothing: the first one's bytes stay in the area (the host has not
        // read its frame), so the shim, serving the second one inside its wait, must use the pipe.
        let sizes: [UInt64: Int] = [1: 300_000, 2: 200_000]
        let peers = try sizes.keys.sorted().map { dwData in
            try MsgPeer(["copydata", title, "\(dwData)", "\(sizes[dwData]!)", "\(dwData)"])
        }
        let deadline = ContinuousClock.now + .seconds(60)
        func relayed() -> [String] { store.all.filter { $0.contains("WM_COPYDATA of ") && $0.contains(": bytes ") } }
        while relayed().count < 2 && ContinuousClock.now < deadline { usleep(20_000) }
        let lines = relayed()
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.filter { $0.contains("bytes in the upload area") }.count == 1, "\(lines)")
        #expect(lines.filter { $0.contains("bytes through the pipe") }.count == 1, "\(lines)")
        for peer in peers { try peer.finish(timeout: .seconds(120), serving: connection) }
        for (dwData, size) in sizes {
            #expect(hashes[dwData] == fnv1a(peerPattern(size: size, seed: Int(dwData))), "dwData \(dwData)")
        }
        // The area is free again: the next one goes through it.
        let peer = try MsgPeer(["copydata", title, "3", "100000", "3"])
        try peer.finish(timeout: .seconds(120), serving: connection)
        #expect(hashes[3] == fnv1a(peerPattern(size: 100_000, seed: 3)))
        connection.shutdown()
        #expect(store.all.contains { $0.contains("WM_COPYDATA of 100000 bytes to ") && $0.contains("upload area") })
    }

    @Test(
        "WM_COPYDATA from the host to msg-peer arrives byte-exact",
        .timeLimit(.minutes(2)), arguments: [0, 64, 1 << 20])
    func copyDataToPeer(size: Int) throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let title = BridgeWine.uniqueTitle("sipb-copy-out")
        let (peer, peerWindow) = try MsgPeer.serving(title)
        let bytes = peerPattern(size: size, seed: 3)
        let start = ContinuousClock.now
        let outcome = try connection.sendCopyData(to: peerWindow, dwData: 1234, bytes: bytes, timeout: .seconds(60))
        print("host -> msg-peer WM_COPYDATA of \(size) bytes: \(ContinuousClock.now - start)")
        #expect(outcome.delivered && outcome.lresult == Int64(size))
        let line = try #require(try peer.waitForLine(startingWith: "copydata"), "\(peer.lines)")
        let fields = MsgPeer.fields(line)
        #expect(fields["dwData"] == "1234" && fields["size"] == "\(size)")
        #expect(parseNumber("0x" + (fields["fnv1a"] ?? "")) == fnv1a(bytes))
        try connection.postMessage(to: peerWindow, message: 0x0010)
        try peer.finish(timeout: .seconds(20))
    }

    @Test(
        "several large WM_COPYDATA from the host to msg-peer in a row, each byte-exact (the shim reuses its large buffer)",
        .timeLimit(.minutes(2)))
    func copyDataToPeerInARow() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let (peer, peerWindow) = try MsgPeer.serving(BridgeWine.uniqueTitle("sipb-copy-row"))
        // Shrinking and growing: a kept buffer is reused when it is large enough and replaced when it is not.
        let sizes = [1 << 20, 300_000, 1 << 20, 1_500_000, 70_000, 2_000_000]
        var hashes: [UInt64] = []
        for (i, size) in sizes.enumerated() {
            let bytes = peerPattern(size: size, seed: 20 + i)
            hashes.append(fnv1a(bytes))
            let outcome = try connection.sendCopyData(
                to: peerWindow, dwData: UInt64(i), bytes: bytes, timeout: .seconds(60))
            #expect(outcome.delivered && outcome.lresult == Int64(size), "send \(i)")
        }
        let deadline = ContinuousClock.now + .seconds(30)
        func received() -> [String] { peer.lines.filter { $0.hasPrefix("copydata") } }
        while received().count < sizes.count && ContinuousClock.now < deadline { usleep(20_000) }
        let lines = received()
        #expect(lines.count == sizes.count, "\(lines)")
        for (i, line) in lines.enumerated() where i < sizes.count {
            let fields = MsgPeer.fields(line)
            #expect(fields["dwData"] == "\(i)" && fields["size"] == "\(sizes[i])", "\(line)")
            #expect(parseNumber("0x" + (fields["fnv1a"] ?? "")) == hashes[i], "send \(i): \(line)")
        }
        try connection.postMessage(to: peerWindow, message: 0x0010)
        try peer.finish(timeout: .seconds(20))
    }

    @Test(
        "64 MiB WM_COPYDATA host → shim window → host: byte-exact through the pipe in both directions",
        .timeLimit(.minutes(2)))
    func copyDataLoopback64MiB() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let window = try connection.createWindow(
            className: "SipbHostTest", title: BridgeWine.uniqueTitle("sipb-copy-loop"), relaying: [wmCopyData])
        let size = 64 << 20
        let bytes = peerPattern(size: size, seed: 5)
        var hostHash: UInt64 = 0
        var sender = WindowHandle.null
        connection.onCopyData(to: window.hwnd) { _, copy in
            hostHash = fnv1a(copy.data)
            sender = copy.sender
            return Int64(copy.data.count)
        }
        let start = ContinuousClock.now
        let outcome = try connection.sendCopyData(
            to: window.hwnd, from: window.hwnd, dwData: 64, bytes: bytes, timeout: .seconds(60))
        print("64 MiB WM_COPYDATA host -> shim -> host: \(ContinuousClock.now - start)")
        #expect(outcome.delivered && outcome.lresult == Int64(size))
        #expect(hostHash == fnv1a(bytes))
        #expect(sender == window.hwnd)
    }

    @Test(
        "nested SendMessage host → msg-peer → host → … 40 levels deep (20 host calls) unwinds", .timeLimit(.minutes(2)))
    func nestingFromHost() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let title = BridgeWine.uniqueTitle("sipb-nest-host")
        let window = try connection.createWindow(className: "SipbHostTest", title: title, relaying: [msgNest])
        var deepest = 0
        connection.onMessage(msgNest, to: window.hwnd) { connection, message in
            deepest = max(deepest, connection.nestingDepth)
            guard message.lParam > 0 else { return 1 }
            return try connection.sendMessage(
                to: WindowHandle(rawValue: message.wParam), message: msgNest, wParam: window.hwnd.rawValue,
                lParam: message.lParam - 1
            ).lresult + 1
        }
        let (peer, peerWindow) = try MsgPeer.serving(BridgeWine.uniqueTitle("sipb-nest-peer"))
        let start = ContinuousClock.now
        let outcome = try connection.sendMessage(
            to: peerWindow, message: msgNest, wParam: window.hwnd.rawValue, lParam: 40)
        print("nested 40-level SendMessage chain through the host: \(ContinuousClock.now - start)")
        #expect(outcome.lresult == 41)
        #expect(deepest == 20)
        try connection.postMessage(to: peerWindow, message: 0x0010)
        try peer.finish(timeout: .seconds(20))
    }

    @Test(
        "nested SendMessage started by a Windows program: msg-peer → host → msg-peer → … 41 levels",
        .timeLimit(.minutes(2)))
    func nestingFromWindows() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        var deepest = 0
        let lresult = try bounceFromWindows(connection, levels: 40, name: "sipb-nest-win") { connection, _ in
            deepest = max(deepest, connection.nestingDepth)
        }
        #expect(lresult == "41")
        #expect(deepest == 20)
    }

    @Test(
        "the shim's spins (SIPB_SHIM_SPIN_US, _SEND_SPIN_US, _IDLE_SPIN_US): default, set, off, or refused with a log line; nested calls both ways unwind with each",
        .timeLimit(.minutes(2)),
        arguments: [
            ("SIPB_SHIM_SPIN_US", nil), ("SIPB_SHIM_SPIN_US", "0"), ("SIPB_SHIM_SPIN_US", "25"), ("SIPB_SHIM_SPIN_US", "abc"),
            ("SIPB_SHIM_SPIN_US", "99999"), ("SIPB_SHIM_SEND_SPIN_US", "0"), ("SIPB_SHIM_SEND_SPIN_US", "7"),
            ("SIPB_SHIM_SEND_SPIN_US", "12345678901234567890"), ("SIPB_SHIM_IDLE_SPIN_US", "0"), ("SIPB_SHIM_IDLE_SPIN_US", "33"),
            ("SIPB_SHIM_IDLE_SPIN_US", "-5"),
        ] as [(String, String?)])
    func shimSpinSetting(variable: String, value: String?) throws {
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "sipb.test", factory: { _ in CapturingLogHandler(store: store) })
        let connection = try BridgeWine.connect(
            shimLog: .logger(.info),
            shimEnvironment: ["SIPB_SHIM_LOG": "info"].merging(value.map { [variable: $0] } ?? [:]) { $1 },
            logger: logger)
        defer { connection.shutdown() }
        // Windows → host → Windows, ten levels deep: every wait of the shim (for the host, for a window) and its main
        // loop after host requests.
        #expect(try bounceFromWindows(connection, levels: 10, name: "sipb-spin") == "11")
        connection.shutdown()

        // Each spin's log line, its default, and what this case expects of it.
        let spins: [(variable: String, line: String, fallback: Int)] = [
            ("SIPB_SHIM_SPIN_US", "waits for the host spin first up to", 100),
            ("SIPB_SHIM_SEND_SPIN_US", "waits for a window's answer spin first up to", 400),
            ("SIPB_SHIM_IDLE_SPIN_US", "after a host request, watches for the next up to", 200),
        ]
        for spin in spins {
            let lines = store.all.filter { $0.contains(spin.line) }
            let refused = store.all.filter { $0.contains(spin.variable) && $0.contains("is not a number") }
            let set = spin.variable == variable ? value.flatMap { Int($0) }.flatMap { (0...10_000).contains($0) ? $0 : nil } : nil
            let expected = set ?? spin.fallback  // the default when unset or refused
            if ProcessInfo.processInfo.activeProcessorCount < 2 {
                #expect(lines.isEmpty, "no spin on one processor: \(lines)")
            } else if expected == 0 {
                #expect(lines.isEmpty, "\(spin.variable): \(lines)")
            } else {
                #expect(lines.count == 1 && lines[0].contains("up to \(expected) us"), "\(spin.variable): \(store.all)")
            }
            let wantRefused = spin.variable == variable && value != nil && set == nil
            #expect(refused.count == (wantRefused ? 1 : 0), "\(spin.variable): \(store.all)")
        }
    }

    @Test(
        "the ring on and off: nested calls from Windows, with frames over 64 KiB (pipe) between small ones (ring)",
        .timeLimit(.minutes(2)), arguments: [true, false])
    func ringOnAndOff(useRing: Bool) throws {
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "sipb.test", factory: { _ in CapturingLogHandler(store: store) })
        let connection = try BridgeWine.connect(
            useRing: useRing, shimLog: .logger(.info), shimEnvironment: ["SIPB_SHIM_LOG": "info"], logger: logger)
        defer { connection.shutdown() }
        #expect(connection.usesRing == useRing)
        let ringFile = (connection.transport as? PipeTransport)?.ringFileName
        #expect((ringFile != nil) == useRing)
        if let ringFile { #expect(access("/dev/shm/" + ringFile, F_OK) != 0, "the ring's file goes once the shim has it") }
        let name = BridgeWine.uniqueTitle("Local\\sipb-ring-map")
        let mapping = try connection.createMapping(name: name, size: 300_000)
        var written = 0
        let lresult = try bounceFromWindows(connection, levels: 10, name: "sipb-ring") { connection, message in
            // A 200 KB write (through the pipe: too large for the ring) between small requests and replies.
            let fill = UInt8(truncatingIfNeeded: message.lParam)
            try connection.writeMapping(mapping.handle, offset: 0, bytes: [UInt8](repeating: fill, count: 200_000))
            written += 1
            #expect(try connection.readMapping(mapping.handle, offset: 199_999, length: 1) == [fill])
        }
        #expect(lresult == "11")
        #expect(written == 6)
        try connection.closeHandle(mapping.handle)
        connection.shutdown()
        #expect(store.all.contains { $0.contains("reading host frames from the ring") } == useRing, "\(store.all)")
    }

    @Test(
        "while the shim waits for the host's answer (on its wake word, or on the wake event), it still runs a SendMessage to another of its windows",
        .timeLimit(.minutes(2)), arguments: [true, false])
    func sentMessagesRunWhileWaitingForHost(onAddress: Bool) throws {
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "sipb.test", factory: { _ in CapturingLogHandler(store: store) })
        var environment = ["SIPB_SHIM_LOG": "info"]
        if !onAddress { environment["SIPB_SHIM_WAIT_ON_ADDRESS"] = "0" }
        let connection = try BridgeWine.connect(shimLog: .logger(.info), shimEnvironment: environment, logger: logger)
        defer { connection.shutdown() }
        let relaying = BridgeWine.uniqueTitle("sipb-wait-a")
        let other = BridgeWine.uniqueTitle("sipb-wait-b")
        let a = try connection.createWindow(className: "SipbWaitTest", title: relaying, relaying: [msgAdd])
        // Relays nothing: the shim's own window procedure answers (DefWindowProcW, 0) without the host.
        _ = try connection.createWindow(className: "SipbWaitTest", title: other, relaying: [])
        var inner: [String] = []
        var innerExit: ProcessExitStatus?
        connection.onMessage(msgAdd, to: a.hwnd) { _, message in
            // The shim is waiting for this answer. Another Windows program sends to window B and must get
            // its answer from the shim before this handler can finish: nothing else would run it.
            let sender = try MsgPeer(["send", other, "0x8001", "1", "2"])
            innerExit = sender.process.waitForExit(timeout: .seconds(30))
            inner = sender.lines
            return Int64(message.wParam + message.lParam)
        }
        let outer = try MsgPeer(["send", relaying, "0x8001", "40", "2"])
        try outer.finish(serving: connection)
        #expect(innerExit == .exited(0), "the inner send was not run while the shim waited: \(inner)")
        #expect(inner.first { $0.hasPrefix("lresult=") }.map { MsgPeer.fields($0)["lresult"] } == "0", "\(inner)")
        #expect(outer.line(startingWith: "lresult=").map { MsgPeer.fields($0)["lresult"] } == "42", "\(outer.lines)")
        connection.shutdown()
        let mode = onAddress ? "block on an address (WaitOnAddress)" : "block on the wake event"
        #expect(store.all.contains { $0.contains("waits for the host \(mode)") }, "\(store.all)")
    }

    @Test("killing the shim fails the pending call within 1 s with a clear error", .timeLimit(.minutes(2)))
    func shimKilledMidCall() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let transport = try #require(connection.transport as? PipeTransport)
        let (peer, peerWindow) = try MsgPeer.serving(BridgeWine.uniqueTitle("sipb-kill"))
        let shimPid = transport.process.pid
        let killedAt = MarkedInstant()
        let killer = Thread {
            usleep(300_000)
            killedAt.mark()
            kill(shimPid, SIGKILL)
        }
        killer.start()
        let error = #expect(throws: BridgeError.self) {
            _ = try connection.sendMessage(to: peerWindow, message: msgSleep, wParam: 5000)
        }
        let failedAt = ContinuousClock.now
        #expect(error == .shimExited(.signaled(SIGKILL)), "\(String(describing: error))")
        let latency = try #require(killedAt.instant).duration(to: failedAt)
        print("pending call failed \(latency) after SIGKILL of the shim")
        #expect(latency < .seconds(1))
        #expect(throws: BridgeError.shimExited(.signaled(SIGKILL))) { _ = try connection.isWindow(peerWindow) }
        // The Windows program the shim was calling lives on (this also keeps `peer` alive until here).
        #expect(peer.process.exitStatus == nil, "msg-peer ended with the shim: \(peer.lines)")
    }

    @Test(
        "a /dev/shm mapping created by the shim is one memory with the host's mmap and READ/WRITE_MAPPING",
        .timeLimit(.minutes(2)))
    func sharedMapping() throws {
        let connection = try BridgeWine.connect()
        defer { connection.shutdown() }
        let name = BridgeWine.uniqueTitle("Local\\sipb-map")
        let file = BridgeWine.uniqueTitle("sipb-test-map")
        let size: UInt32 = 256 * 1024
        let (object, mapping) = try connection.createSharedMapping(name: name, size: size, file: file)
        defer { mapping.close() }
        #expect(object.alreadyExisted == false)
        #expect(mapping.size == Int(size))
        let pattern = peerPattern(size: 4096, seed: 11)
        pattern.withUnsafeBytes { mapping.bytes.copyMemory(from: $0) }
        #expect(try connection.readMapping(object.handle, offset: 0, length: 4096) == pattern)
        try connection.writeMapping(object.handle, offset: 100_000, bytes: [1, 2, 3, 4, 5])
        #expect(Array(mapping.bytes[100_000..<100_005]) == [1, 2, 3, 4, 5])

        let opened = try connection.openMapping(name: name)
        #expect(opened.size >= UInt64(size))
        #expect(try connection.readMapping(opened.handle, offset: 100_000, length: 5) == [1, 2, 3, 4, 5])
        let outOfRange = #expect(throws: BridgeError.self) {
            _ = try connection.readMapping(opened.handle, offset: size - 2, length: 4)
        }
        if case .requestFailed(_, let status, _, _)? = outOfRange { #expect(status != .ok) }
        try connection.closeHandle(opened.handle)
        try connection.closeHandle(object.handle)

        mapping.close()
        #expect(access("/dev/shm/" + file, F_OK) != 0, "the host unlinks the file it owns")
    }

    @Test(
        "events: create, create again (already exists), open, close; unknown handles are NOT_FOUND; shim log lines reach the logger",
        .timeLimit(.minutes(2)))
    func eventsAndHandles() throws {
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "sipb.test", factory: { _ in CapturingLogHandler(store: store) })
        let connection = try BridgeWine.connect(
            shimLog: .logger(.info), shimEnvironment: ["SIPB_SHIM_LOG": "info"], logger: logger)
        defer { connection.shutdown() }
        let name = BridgeWine.uniqueTitle("Local\\sipb-event")
        let first = try connection.createEvent(name: name, manualReset: true)
        #expect(first.alreadyExisted == false)
        let second = try connection.createEvent(name: name)
        #expect(second.alreadyExisted == true)
        let opened = try connection.openEvent(name: name)
        for handle in [first.handle, second.handle, opened] { try connection.closeHandle(handle) }
        let notFound = #expect(throws: BridgeError.self) { try connection.closeHandle(first.handle) }
        if case .requestFailed(_, let status, _, _)? = notFound { #expect(status == .notFound) }
        let missing = #expect(throws: BridgeError.self) { _ = try connection.openMapping(name: name + "-missing") }
        if case .requestFailed(_, let status, _, _)? = missing { #expect(status == .win32Error) }
        #expect(connection.shutdown() == .exited(0))
        #expect(store.all.contains { $0.hasPrefix("shim: ") }, "the shim's stderr lines are forwarded: \(store.all)")
        // Its last line, written just before it exited, is there as soon as shutdown() has seen the exit.
        #expect(store.all.contains { $0.contains("exiting with code 0") }, "\(store.all.suffix(3))")
    }
}

/// msg-peer sends 0x8003 (wParam: a msg-peer server window, lParam: `levels`) to a host window whose handler sends
/// it back to that server with lParam − 1, which bounces it to the host again, until lParam is 0: nested calls
/// started by a Windows program, `levels` + 1 in all. `each` runs first in every host level.
/// - Returns: The `lresult=` the sending msg-peer printed (`levels + 1` when every level answered).
private func bounceFromWindows(
    _ connection: BridgeConnection, levels: Int, name: String,
    each: @escaping (BridgeConnection, WindowMessage) throws -> Void = { _, _ in }
) throws -> String? {
    let title = BridgeWine.uniqueTitle(name)
    let window = try connection.createWindow(className: "SipbHostTest", title: title, relaying: [msgNest])
    defer { try? connection.destroyWindow(window.hwnd) }
    connection.onMessage(msgNest, to: window.hwnd) { connection, message in
        try each(connection, message)
        guard message.lParam > 0 else { return 1 }
        return try connection.sendMessage(
            to: WindowHandle(rawValue: message.wParam), message: msgNest, wParam: window.hwnd.rawValue,
            lParam: message.lParam - 1
        ).lresult + 1
    }
    let server = try MsgPeer(["serve", BridgeWine.uniqueTitle(name + "-srv"), "60", "msgonly"])
    let ready = try #require(try server.waitForLine(startingWith: "ready"), "msg-peer did not start: \(server.lines)")
    let serverWindow = try #require(MsgPeer.fields(ready)["hwnd"])
    let sender = try MsgPeer(["send", title, "0x8003", serverWindow, "\(levels)"])
    try sender.finish(serving: connection)
    try connection.postMessage(to: WindowHandle(rawValue: try #require(parseNumber(serverWindow))), message: 0x0010)
    try server.finish(timeout: .seconds(20))
    let lresult = sender.line(startingWith: "lresult=").flatMap { MsgPeer.fields($0)["lresult"] }
    if lresult != "\(levels + 1)" { Issue.record("msg-peer said: \(sender.lines)") }
    return lresult
}
