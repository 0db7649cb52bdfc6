import Foundation
import Logging
import SIPCHost
import Testing

/// When its wineserver goes away, a Wine process ends thread by thread, each on its next server call; the shim's
/// stdin reader, blocked in `read` on the host's pipe, makes none, so the process never ends and the host, which
/// learns of the shim's exit from `waitid`, would wait forever (seen during the soak, when this prefix's
/// wineserver disappeared: the host hung in a call to a client). `orphan-thread.exe` takes that shape on purpose:
/// its main thread ends while a second thread stays blocked reading standard input.
@Suite(.serialized, .enabled(if: WineTestEnvironment.enabled, "needs Wine and the Windows programs: run `make test`"))
struct ShimMainThreadTests {
    let program: String
    let wine = WineTestEnvironment.wine

    init() throws {
        try WineTestEnvironment.requireAvailable()
        program = WineTestEnvironment.windowsBin! + "/orphan-thread.exe"
        try #require(FileManager.default.fileExists(atPath: program), "build win32-shim first")
        try wine.ensureWineserver()
    }

    /// Started as the shim is (`PipeTransport.launch`), the process is killed once its main thread is gone, and
    /// the host's receive reports the exit.
    @Test func aShimWithoutItsMainThreadIsKilledAndItsExitSeen() throws {
        let transport = try PipeTransport.launch(
            shim: program, environment: wine, shimLog: .discard,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        defer {
            transport.closeOutput()
            transport.terminate()
        }
        let started = ContinuousClock.now
        let event = transport.receive(deadline: started + .seconds(20))
        let waited = ContinuousClock.now - started
        #expect(event == .exited(.signaled(SIGKILL)), "after \(waited)")
        #expect(transport.process.wasKilledWithoutMainThread)
        // Wine start-up, the 100 ms sleep, then two 100 ms checks.
        #expect(waited < .seconds(10), "the exit was seen after \(waited)")
    }

    /// Without `endsWithMainThread` such a process lives on (a Windows program may go on in other threads): the
    /// difference the option makes. It ends when its reader thread gets input.
    @Test func withoutTheOptionTheProcessLingersUntilItsReaderReturns() throws {
        let input = try makeInputPipe()
        let process = try wine.spawn(program, stdin: .fileDescriptor(input.read), stdout: .null, stderr: .null)
        close(input.read)
        var status: ProcessExitStatus?
        defer {
            if status == nil { process.terminate() }
        }
        let start = ContinuousClock.now
        var lingering = false
        while ContinuousClock.now - start < .seconds(20), !lingering, process.exitStatus == nil {
            usleep(50_000)
            let text = (try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8)) ?? ""
            lingering = text.contains("State:\tZ") && !text.contains("Threads:\t1\n")
        }
        #expect(lingering, "the main thread never ended with the reader still blocked")
        #expect(process.waitForExit(timeout: .seconds(1)) == nil, "it ended without input")
        #expect(!process.wasKilledWithoutMainThread)
        close(input.write)
        status = process.waitForExit(timeout: .seconds(10))
        #expect(status == .exited(3))
    }

    private func makeInputPipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw TestSetupError("pipe: errno \(errno)") }
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }
}
