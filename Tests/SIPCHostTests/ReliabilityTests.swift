import Foundation
import Logging
import SIPC
import Testing

@testable import SIPCHost

/// The supervisor's restart policy and the allow-list, without Wine.
@Suite struct SupervisorPolicyTests {
    @Test func theDelayDoublesFromTheInitialOneUpToTheMaximum() {
        let policy = SIPCSupervisor.Policy()
        let delays = (0...9).map { policy.delay(afterFailures: $0) }
        #expect(
            delays == [
                .zero, .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
                .milliseconds(1600), .milliseconds(3200), .seconds(5), .seconds(5), .seconds(5),
            ])
    }

    @Test func launchFailuresBackOffThenTheLastErrorIsThrown() throws {
        var policy = SIPCSupervisor.Policy()
        policy.initialDelay = .milliseconds(20)
        policy.maximumDelay = .milliseconds(50)
        policy.maximumConsecutiveFailures = 4
        policy.retryFirstStart = true
        var attempts = 0
        let supervisor = SIPCSupervisor(
            configuration: .init(profile: try SIPCProfile.ipcDemo(stackSize: 8)), router: SIPCRouter(),
            policy: policy
        ) { () throws(BridgeError) -> BridgeConnection in
            attempts += 1
            throw .launchFailed("test launcher, attempt \(attempts)")
        }
        var events: [SIPCSupervisor.Event] = []
        supervisor.onEvent = { events.append($0) }
        let start = ContinuousClock.now
        #expect(throws: BridgeError.launchFailed("test launcher, attempt 4")) { try supervisor.run() }
        let elapsed = ContinuousClock.now - start
        #expect(attempts == 4)
        #expect(
            events == [
                .launchFailed(attempt: 1, error: .launchFailed("test launcher, attempt 1")),
                .backingOff(delay: .milliseconds(20), consecutiveFailures: 1),
                .launchFailed(attempt: 2, error: .launchFailed("test launcher, attempt 2")),
                .backingOff(delay: .milliseconds(40), consecutiveFailures: 2),
                .launchFailed(attempt: 3, error: .launchFailed("test launcher, attempt 3")),
                .backingOff(delay: .milliseconds(50), consecutiveFailures: 3),
                .launchFailed(attempt: 4, error: .launchFailed("test launcher, attempt 4")),
            ])
        #expect(elapsed >= .milliseconds(110), "the three delays were not waited: \(elapsed)")
        #expect(supervisor.generation == 0 && supervisor.server == nil)
    }

    @Test func aStopConditionEndsTheBackoffAtOnce() throws {
        var policy = SIPCSupervisor.Policy()
        policy.initialDelay = .seconds(30)
        policy.retryFirstStart = true
        let supervisor = SIPCSupervisor(
            configuration: .init(profile: try SIPCProfile.ipcDemo(stackSize: 8)), router: SIPCRouter(),
            policy: policy
        ) { () throws(BridgeError) -> BridgeConnection in throw .launchFailed("never") }
        let stopAt = ContinuousClock.now + .milliseconds(200)
        try supervisor.run(until: { ContinuousClock.now >= stopAt })
        #expect(ContinuousClock.now - stopAt < .seconds(2))
    }

    @Test func aFirstStartThatFailsIsNotRetriedByDefault() throws {
        var attempts = 0
        let supervisor = SIPCSupervisor(
            configuration: .init(profile: try SIPCProfile.ipcDemo(stackSize: 8)), router: SIPCRouter()
        ) { () throws(BridgeError) -> BridgeConnection in
            attempts += 1
            throw .launchFailed("no Wine here")
        }
        #expect(throws: BridgeError.launchFailed("no Wine here")) { try supervisor.run() }
        #expect(attempts == 1)
    }

    @Test func theAllowListMatchesFullPathsOrFileNamesIgnoringCase() {
        let image = #"C:\Program Files\Demo\Client.EXE"#
        #expect(SIPCServer.executable(image, isIn: ["client.exe"]))
        #expect(SIPCServer.executable(image, isIn: [#"c:\program files\demo\client.exe"#]))
        #expect(!SIPCServer.executable(image, isIn: [#"C:\Other\client.exe"#]))
        #expect(!SIPCServer.executable(image, isIn: ["demo", "client", "lient.exe"]))
        #expect(!SIPCServer.executable(image, isIn: []))
        #expect(!SIPCServer.executable("", isIn: ["client.exe"]))
    }
}

/// Issue 6's faults under real Wine: the shim killed and restarted, clients killed mid-call, a client that
/// hangs, and the executable allow-list.
@Suite(.serialized, .enabled(if: WineTestEnvironment.enabled, "needs Wine and the Windows programs: run `make test`"))
final class ReliabilityWineTests {
    enum ReconnectMode: String, CaseIterable, Sendable { case formerClients, windowClass }

    /// The ipcdemo profile (64 slots) under a test's own server title.
    static func demoProfile(title: String) throws -> SIPCProfile {
        var profile = try SIPCProfile.ipcDemo(stackSize: 64)
        profile.serverTitle = title
        return profile
    }

    /// An ipcdemo server titled `title` on `session`'s shim.
    static func demoServer(
        _ session: ShimSession, title: String, router: SIPCRouter<SIPCPeer> = TestProtocol.router()
    ) throws -> SIPCServer {
        try SIPCServer(
            bridge: session.bridge, configuration: .init(profile: demoProfile(title: title)), router: router,
            logger: WineTestEnvironment.logger("sipc-server"))
    }

    @Test(
        "the shim killed: the supervisor restarts it with backoff and a sinstar3-style client reconnects",
        .timeLimit(.minutes(2)), arguments: ReconnectMode.allCases)
    func shimKilledAndRestarted(mode: ReconnectMode) throws {
        try WineTestEnvironment.requireAvailable()
        let title = uniqueTitle("sipb_restart")
        let profile = try Self.demoProfile(title: title)
        var policy = SIPCSupervisor.Policy()
        policy.notifyFormerClients = mode == .formerClients
        policy.reconnectWindowClass = mode == .windowClass ? "sipc_window" : nil
        let logger = WineTestEnvironment.logger("supervisor")
        let supervisor = SIPCSupervisor(
            configuration: .init(profile: profile), router: TestProtocol.router(), policy: policy, logger: logger,
            launch: SIPCSupervisor.shimLauncher(
                shim: WineTestEnvironment.shim!, environment: WineTestEnvironment.wine, logger: logger))
        var events: [SIPCSupervisor.Event] = []
        var eventTimes: [ContinuousClock.Instant] = []
        supervisor.onEvent = {
            events.append($0)
            eventTimes.append(.now)
        }
        let killed = MarkedInstant()
        var client: WindowsProgram?
        var readyGenerations: [Int] = []
        var setupError: (any Error)?
        supervisor.onStart = { [unowned supervisor] server in
            let generation = supervisor.generation
            server.onReady = { [unowned server] _ in
                readyGenerations.append(generation)
                guard generation == 1, let transport = server.bridge.transport as? PipeTransport else { return }
                let pid = transport.process.pid
                // The client is in `wait-reconnect` by then, pumping its messages.
                Thread {
                    usleep(300_000)
                    killed.mark()
                    kill(pid, SIGKILL)
                }.start()
            }
            guard generation == 1 else { return }
            do {
                client = try WindowsProgram(
                    "sipc-peer.exe",
                    [
                        "client", "--title", title, "add-int", "1", "2", "wait-reconnect", "30000", "add-int", "3",
                        "4", "disconnect",
                    ])
            } catch {
                setupError = error
            }
        }
        let deadline = ContinuousClock.now + .seconds(90)
        try supervisor.run(until: {
            setupError != nil || client.map { !$0.isRunning } == true || ContinuousClock.now > deadline
        })
        if let setupError { throw setupError }
        let program = try #require(client)
        #expect(program.finish() == 0, "client output: \(program.lines)")
        #expect(program.values("result") == ["3", "7"])
        #expect(program.values("reconnected") == ["1"])
        #expect(readyGenerations == [1, 2])
        #expect(supervisor.generation == 2)

        // What the supervisor did, in order: failed, waited 100 ms, started again, asked the client back.
        let failed = try #require(events.firstIndex { if case .failed(1, _) = $0 { true } else { false } })
        if case .failed(_, let error) = events[failed] {
            #expect(error == .shimExited(.signaled(SIGKILL)), "\(error)")
        }
        // Past the end is nil (and the checks below fail), not a crash.
        let after = { (offset: Int) in events.indices.contains(failed + offset) ? events[failed + offset] : nil }
        #expect(after(1) == .backingOff(delay: .milliseconds(100), consecutiveFailures: 1))
        guard case .started(2, _)? = after(2) else {
            Issue.record("no second start after the failure: \(events)")
            return
        }
        let oldClientWindow = program.values("local").first.flatMap { UInt64($0.dropFirst(2), radix: 16) }
        guard case .reconnectRequested(let windows)? = after(3) else {
            Issue.record("UM_RECONN was not posted: \(events)")
            return
        }
        #expect(windows.map(\.rawValue) == [try #require(oldClientWindow)])
        let killedAt = try #require(killed.instant)
        print(
            "shim killed (\(mode.rawValue)): failure noticed after \(eventTimes[failed] - killedAt), new server after "
                + "\(eventTimes[failed + 2] - killedAt), client reconnected in "
                + "\(program.values("reconnect_ms").first ?? "?") ms after UM_RECONN")
        #expect(eventTimes[failed] - killedAt < .seconds(1))
        #expect(sharedMemoryFilesOfThisProcess().isEmpty, "\(sharedMemoryFilesOfThisProcess())")
    }

    @Test(
        "a client killed in the middle of a call, or of a nested call, is dropped at the next check; others go on",
        .timeLimit(.minutes(2)), arguments: [false, true])
    func clientKilledMidCall(nested: Bool) throws {
        let session = try ShimSession()
        defer { session.close() }
        let title = uniqueTitle(nested ? "sipb_kill_nested" : "sipb_kill_call")
        var victim: WindowsProgram?
        var killedInside: (hostCallsOpen: Int, goneAt: ContinuousClock.Instant)?
        var hostCallsOpen: [WindowHandle: Int] = [:]  // the host's Sum calls into each client still open
        // Kills the victim from inside a handler of its own call (once) and returns once its process is gone: the
        // call it made is still open on both sides at that moment. The bystander's Sum chain passes Sum(4) too,
        // first if the victim started late: the caller is told by its window (sipc-peer prints `local=`).
        let killVictim = { (caller: SIPCPeer) in
            guard killedInside == nil, let program = victim,
                parseNumber(program.values("local").first) == caller.remoteWindow.rawValue
            else { return }
            kill(program.process.processIdentifier, SIGKILL)
            let deadline = ContinuousClock.now + .seconds(10)
            while program.isRunning, ContinuousClock.now < deadline { usleep(500) }
            killedInside = (hostCallsOpen[caller.remoteWindow, default: 0], .now)
        }
        var router = TestProtocol.router(skipping: [TestProtocol.addInt.id, TestProtocol.sum.id])
        router.registerContextual(TestProtocol.addInt) { inputs, peer in
            let (a, b) = inputs
            if a == 666 { killVictim(peer) }
            return a &+ b
        }
        router.registerContextual(TestProtocol.sum) { n, peer in
            if n == 4 && nested { killVictim(peer) }
            guard n > 0 else { return 0 }
            hostCallsOpen[peer.remoteWindow, default: 0] += 1
            defer { hostCallsOpen[peer.remoteWindow, default: 0] -= 1 }
            return n &+ (try peer.call(TestProtocol.sum, n - 1))
        }
        let server = try Self.demoServer(session, title: title, router: router)
        defer { server.close() }
        var dropped:
            [(
                window: WindowHandle, connection: WindowHandle, at: ContinuousClock.Instant, filesLeft: Int,
                peersLeft: Int
            )] =
                []
        server.onDisconnect = { [unowned server] peer in
            dropped.append(
                (
                    peer.remoteWindow, peer.localWindow, .now, sharedMemoryFilesOfThisProcess().count,
                    server.peers.count
                ))
        }
        let bystander = try WindowsProgram(
            "sipc-peer.exe",
            ["client", "--title", title, "add-int", "1", "1", "sleep", "2500", "sum", "20", "add-int", "2", "2"])
        // The victim calls Sum(6), the host calls its Sum(5), it calls the host's Sum(4), where the host kills it
        // (three calls open). Or it calls AddInt(666, 0) and is killed inside the handler.
        let victimProgram = try WindowsProgram(
            "sipc-peer.exe",
            ["client", "--title", title, "sleep", "500"] + (nested ? ["sum", "6"] : ["add-int", "666", "0"])
                + ["sleep", "30000"])
        victim = victimProgram
        let deadline = ContinuousClock.now + .seconds(60)
        try server.serve(until: { !bystander.isRunning || ContinuousClock.now > deadline })
        _ = victimProgram.finish(timeout: .seconds(5))
        #expect(bystander.finish() == 0, "bystander: \(bystander.lines)")
        #expect(bystander.values("result") == ["2", "210", "4"])
        let killInfo = try #require(killedInside, "the victim never made its call: \(victimProgram.lines)")
        // Mid-call: inside the victim's AddInt; nested: inside host Sum(4), while the host's Sum(6) waits for
        // its call into the victim's Sum(5).
        #expect(killInfo.hostCallsOpen == (nested ? 1 : 0), "host calls open when killed: \(killInfo.hostCallsOpen)")
        let victimWindow = try #require(parseNumber(victimProgram.values("local").first), "\(victimProgram.lines)")
        let drop = try #require(
            dropped.first { $0.window.rawValue == victimWindow }, "the victim was never dropped: \(dropped)")
        // The server looks for dead client windows every 50 ms (10-44 ms here, up to 200 ms in the soak's load):
        // the time is reported, and bounded only well below the bystander's remaining 2 s, so that a drop that
        // waited for anything but that check (the next call, the last client leaving, close()) still fails.
        #expect(drop.at - killInfo.goneAt < .seconds(1), "dropped \(drop.at - killInfo.goneAt) after its death")
        print("killed client (nested: \(nested)) dropped \(drop.at - killInfo.goneAt) after its process was gone")
        // Its two buffers are gone at once (the bystander's two remain), and so is its connection window.
        #expect(drop.filesLeft == 2 * drop.peersLeft, "files \(drop.filesLeft) for \(drop.peersLeft) peers")
        #expect(server.peers[drop.window] == nil)
        #expect(try session.bridge.isWindow(drop.connection) == false, "its connection window still exists")
        #expect(victimProgram.values("result").isEmpty)
    }

    @Test(
        "a client that hangs: the host's call times out with a clear error, other clients are served meanwhile",
        .timeLimit(.minutes(2)))
    func hangingClient() throws {
        let session = try ShimSession()
        defer { session.close() }
        let title = uniqueTitle("sipb_hang")
        var waiting = false
        var servedWhileWaiting = 0
        var firstCaller: SIPCPeer?
        var router = TestProtocol.router(skipping: [TestProtocol.addInt.id])
        router.registerContextual(TestProtocol.addInt) { inputs, peer in
            let (a, b) = inputs
            if waiting { servedWhileWaiting += 1 }
            if a == 1 && b == 1 { firstCaller = peer }
            return a &+ b
        }
        let server = try Self.demoServer(session, title: title, router: router)
        defer { server.close() }
        // It answers AddInt(1, 1), then sleeps 8 s without pumping messages, then pumps for 4 s.
        let hanging = try WindowsProgram(
            "sipc-peer.exe",
            ["client", "--title", title, "add-int", "1", "1", "freeze", "8000", "sleep", "4000", "add-int", "2", "2"])
        var deadline = ContinuousClock.now + .seconds(60)
        try server.serve(until: { firstCaller != nil || ContinuousClock.now > deadline })
        let stuck = try #require(firstCaller, "the client never called: \(hanging.lines)")
        try session.bridge.serve(for: .milliseconds(200))  // it is frozen now

        // The other client connects first (a Wine process's start is not part of the wait), then calls 1.5 s
        // later, inside the host's 4 s wait, which ends well before the hanging client wakes up.
        let other = try WindowsProgram(
            "sipc-peer.exe",
            ["client", "--title", title, "sleep", "1500", "add-int", "5", "5", "sum", "10", "add-int", "6", "6"])
        try server.serve(until: { server.peers.count == 2 || !other.isRunning || ContinuousClock.now > deadline })
        try #require(server.peers.count == 2, "the other client did not connect: \(other.lines)")
        waiting = true
        let started = ContinuousClock.now
        let error = #expect(throws: SIPCCallError.self) {
            try stuck.call(TestProtocol.sayHello, WideString("are you there?"), timeout: .seconds(4))
        }
        let waited = ContinuousClock.now - started
        waiting = false
        #expect(
            error == .timedOut(functionID: TestProtocol.sayHello.id, after: .seconds(4)), "\(String(describing: error))"
        )
        #expect(waited >= .seconds(4) && waited < .seconds(8), "the call returned after \(waited)")
        #expect(stuck.quarantinedSlots == [0])

        // The other client was served during the wait (its calls nest inside the host's wait).
        deadline = ContinuousClock.now + .seconds(30)
        try server.serve(until: { !other.isRunning || ContinuousClock.now > deadline })
        #expect(other.finish() == 0, "\(other.lines)")
        #expect(other.values("result") == ["10", "55", "12"])
        #expect(servedWhileWaiting >= 1, "no call of the other client was served while the host waited")

        // Once it wakes up, the hanging client answers the next call, made on another slot.
        try stuck.call(TestProtocol.sayHello, WideString("again"), timeout: .seconds(20))
        try server.serve(until: { !hanging.isRunning || ContinuousClock.now > deadline })
        #expect(hanging.finish() == 0, "\(hanging.lines)")
        #expect(hanging.values("result") == ["2", "4"])
        #expect(hanging.values("hello_utf8") == ["are you there?", "again"], "\(hanging.lines)")
    }

    @Test(
        "the shim dead: a connectivity check keeps every client (not known dead), so they can be asked back",
        .timeLimit(.minutes(2)))
    func connectivityCheckAfterTheShimDied() throws {
        let session = try ShimSession()
        defer { session.close() }
        let title = uniqueTitle("sipb_check_dead")
        let server = try Self.demoServer(session, title: title)
        defer { server.close() }
        let client = try WindowsProgram(
            "sipc-peer.exe", ["client", "--title", title, "add-int", "1", "2", "sleep", "30000"])
        defer { client.kill() }
        let deadline = ContinuousClock.now + .seconds(60)
        try server.serve(until: { client.values("result") == ["3"] || !client.isRunning || ContinuousClock.now > deadline })
        try #require(server.peers.count == 1, "the client did not connect: \(client.lines)")

        let transport = try #require(session.bridge.transport as? PipeTransport)
        transport.terminate()
        #expect(transport.process.waitForExit(timeout: .seconds(10)) == .signaled(SIGKILL))
        // Every isWindow now fails with the bridge's error: that is not the client's death.
        server.checkConnectivity()
        #expect(server.peers.count == 1, "a client was dropped because the shim, not its window, was gone")
        #expect(throws: BridgeError.shimExited(.signaled(SIGKILL))) { try server.serve(until: { false }) }
        #expect(server.peers.count == 1)
    }

    @Test(
        "the Swift host killed (SIGKILL): the shim answers the pending SendMessage with 0 and exits within 1 s",
        .timeLimit(.minutes(2)))
    func hostKilled() throws {
        try WineTestEnvironment.requireAvailable()
        let hostPath = try #require(DemoScriptTests.hostExecutable, "sipc-host not built (swift build)")
        let title = uniqueTitle("sipb_host_kill")
        let host = try DemoScriptTests.NativeProgram(hostPath, ["demo", "--title", title])
        defer { _ = host.stop() }
        let hostPid = host.process.processIdentifier
        #expect(
            DemoScriptTests.waitUntil({ host.text.contains("listening") || !host.process.isRunning }),
            "sipc-host did not start: \(host.errors)")
        // The shim is the host's child (the Wine process of sipc-shim.exe).
        let children = (try? String(contentsOfFile: "/proc/\(hostPid)/task/\(hostPid)/children", encoding: .utf8)) ?? ""
        let shimPid = try #require(children.split(separator: " ").compactMap { pid_t($0) }.first, "no shim child")
        // Calls back to back: at any instant the client is almost surely inside a SendMessage to the shim.
        let client = try WindowsProgram("sipc-peer.exe", ["client", "--title", title, "bench-add-int", "100000000"])
        #expect(DemoScriptTests.waitUntil({ !client.values("connected").isEmpty || !client.isRunning }))
        usleep(500_000)
        let filesBefore = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter {
            $0.hasPrefix("sipb-\(hostPid)-")
        }
        kill(hostPid, SIGKILL)
        let killedAt = ContinuousClock.now
        _ = endProcess(host.process, waiting: .seconds(5))
        // Gone, or a zombie waiting for its new parent to reap it: either way it has exited.
        func shimExited() -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(shimPid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while !shimExited(), ContinuousClock.now < deadline { usleep(1000) }
        let exitedAfter = ContinuousClock.now - killedAt
        print("host SIGKILLed: the shim exited \(exitedAfter) later")
        #expect(shimExited(), "the shim still runs")
        #expect(exitedAfter < .seconds(1), "the shim took \(exitedAfter) to exit")
        // The client's call was answered 0 (not handled) or failed as its peer window vanished: it stops, with
        // an error, instead of hanging.
        #expect(client.finish(timeout: .seconds(10)) == 1, "\(client.lines.suffix(5))")
        #expect(!client.values("error").isEmpty, "\(client.lines.suffix(5))")
        // The dead host could not remove its buffers; the next server start does.
        #expect(filesBefore.count == 2, "\(filesBefore)")
        let removed = SharedFileMapping.removeStaleServerFiles()
        #expect(Set(filesBefore).isSubset(of: Set(removed)), "removed \(removed), had \(filesBefore)")
    }

    @Test(
        "the executable allow-list admits sipc-peer.exe and refuses it when it is not listed", .timeLimit(.minutes(2)))
    func allowList() throws {
        let session = try ShimSession()
        defer { session.close() }
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "sipb.test", factory: { _ in CapturingLogHandler(store: store) })
        for (allowed, admitted) in [(["SIPC-PEER.exe"], true), (["sipc-demo-client.exe"], false)] {
            let title = uniqueTitle("sipb_auth")
            var configuration = SIPCServer.Configuration(profile: try SIPCProfile.ipcDemo(stackSize: 64))
            configuration.profile.serverTitle = title
            configuration.allowedExecutables = allowed
            let server = try SIPCServer(
                bridge: session.bridge, configuration: configuration, router: TestProtocol.router(), logger: logger)
            defer { server.close() }
            let client = try WindowsProgram("sipc-peer.exe", ["client", "--title", title, "add-int", "20", "22"])
            let deadline = ContinuousClock.now + .seconds(60)
            try server.serve(until: { !client.isRunning || ContinuousClock.now > deadline })
            if admitted {
                #expect(client.finish() == 0, "\(client.lines)")
                #expect(client.values("result") == ["42"])
            } else {
                #expect(client.finish() != 0)
                #expect(client.values("error") == ["SIPC_E_REFUSED"], "\(client.lines)")
                #expect(store.all.contains("connect refused: executable not allowed"), "\(store.all)")
            }
        }
    }
}
