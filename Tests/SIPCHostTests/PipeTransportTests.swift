import Foundation
import Testing

@testable import SIPCHost

/// Runs `/bin/sh -c script` as a stand-in shim over a real ``PipeTransport`` (no Wine needed).
private func nativeShim(_ script: String) throws -> PipeTransport {
    let toChild = try makePipe()
    let fromChild = try makePipe()
    let process = try ChildProcess.spawn(
        executable: "/bin/sh", arguments: ["-c", script], environment: ProcessInfo.processInfo.environment,
        stdin: .fileDescriptor(toChild.read), stdout: .fileDescriptor(fromChild.write), stderr: .inherit)
    close(toChild.read)
    close(fromChild.write)
    return PipeTransport(process: process, inputFD: toChild.write, outputFD: fromChild.read)
}

/// A shell `printf` command that writes these bytes exactly.
private func printf(_ bytes: [UInt8]) -> String {
    "printf '" + bytes.map { "\\" + String($0, radix: 8) }.joined() + "'"
}

private func frameBytes(_ frame: PipeFrame) -> [UInt8] { (try? frame.encoded()) ?? [] }

/// Consumes the host's 20-byte HELLO_ACK, so the child is still there when the host writes it.
private let readAck = "head -c 20 > /dev/null"

@Suite("Pipe transport over a native child process")
struct PipeTransportTests {
    let hello = frameBytes(PipeFrame(type: .hello, payload: Pipe.Hello(processId: 99).bytes))
    let goodbye = frameBytes(PipeFrame(type: .goodbye, payload: Pipe.ReasonText(reason: .none, text: "bye").bytes))

    @Test("frames split across writes arrive whole; the last frame before exit is delivered before the exit")
    func shortReadsAndDrainBeforeExit() throws {
        let split = hello.count / 2
        let transport = try nativeShim(
            [
                printf(Array(hello[..<split])), "sleep 0.2", printf(Array(hello[split...])), readAck, printf(goodbye),
                "exit 3",
            ]
            .joined(separator: "; "))
        let connection = try BridgeConnection(transport: transport)
        #expect(connection.hello.processId == 99)
        #expect(throws: BridgeError.shimLeft(reason: .none, message: "bye")) { try connection.serve(for: .seconds(10)) }
        #expect(connection.shutdown(timeout: .seconds(5)) == .exited(3))
    }

    @Test("exit is detected from the process status even when a grandchild keeps the pipe open (no EOF)")
    func exitWithoutEOF() throws {
        // The background `sleep` inherits stdout, as Wine's helper processes would: the pipe never reaches EOF
        // while it lives, yet the exit must be reported at once. It ends by itself after 2 s.
        let transport = try nativeShim([printf(hello), readAck, "(sleep 2 &)", "exit 0"].joined(separator: "; "))
        let connection = try BridgeConnection(transport: transport)
        let start = ContinuousClock.now
        #expect(throws: BridgeError.shimExited(.exited(0))) { try connection.serve(for: .seconds(10)) }
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test("garbage on stdout is a protocol violation: PROTOCOL_ERROR is written back and the pipe is closed")
    func garbageOutput() throws {
        let transport = try nativeShim(
            [printf(hello), printf([7, 0, 0, 0]), "cat > /dev/null"].joined(separator: "; "))
        let connection = try BridgeConnection(transport: transport)
        #expect(throws: BridgeError.protocolViolation(.frameTooSmall(size: 7))) {
            try connection.serve(for: .seconds(10))
        }
        // `cat` got PROTOCOL_ERROR, then EOF when the host closed its stdin, so it exits on its own.
        #expect(connection.shutdown(timeout: .seconds(5)) == .exited(0))
    }

    @Test("a write to a child that is gone fails with shimExited instead of SIGPIPE or a bare errno")
    func writeToDeadChild() throws {
        let transport = try nativeShim([printf(hello), readAck, "exec 0<&-", "exit 0"].joined(separator: "; "))
        let connection = try BridgeConnection(transport: transport)
        transport.process.waitForExit(timeout: .seconds(5))
        #expect(throws: BridgeError.shimExited(.exited(0))) {
            for _ in 0..<3 { _ = try connection.isWindow(.null) }
        }
        // The transport alone: EPIPE from the write becomes the exit it means.
        let alone = try nativeShim("exec 0<&-; exit 3")
        alone.process.waitForExit(timeout: .seconds(5))
        #expect(throws: BridgeError.shimExited(.exited(3))) {
            try alone.send(PipeFrame(type: .reply, tag: 1, payload: []))
        }
    }

    // MARK: receive(deadline:) on the calling thread, without BridgeConnection

    /// The next event, waiting at most 5 s.
    private func next(_ transport: PipeTransport) -> TransportEvent? {
        transport.receive(deadline: .now + .seconds(5))
    }

    @Test("more than a pipe's worth of frames, then exit with a grandchild holding the pipe: all frames, then exited")
    func everyFrameBeforeExit() throws {
        // 2000 frames of 112 bytes (224 KB) exceed the 64 KiB pipe, so the child exits only after the host has
        // read most of them; the background `sleep` keeps the write end open (no EOF) for 2 s.
        let frames = (1...2000).map {
            PipeFrame(type: .reply, tag: UInt32($0), payload: Array(repeating: UInt8($0 & 0xFF), count: 100))
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sipb-frames-\(getpid()).bin")
        try Data(frames.flatMap(frameBytes)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let transport = try nativeShim("cat '\(file.path)'; (sleep 2 &); exit 5")
        for frame in frames { #expect(next(transport) == .frame(frame)) }
        // cat had written the last frame before it ended; waiting for EOF would take the `sleep`'s 2 s from here.
        let lastFrame = ContinuousClock.now
        #expect(next(transport) == .exited(.exited(5)))
        #expect(ContinuousClock.now - lastFrame < .seconds(1))
    }

    @Test("a child that exited before the first receive: its frames come first, even past the deadline")
    func framesOfAChildAlreadyGone() throws {
        let frames = (1...20).map { PipeFrame(type: .eventMessage, tag: UInt32($0), payload: [UInt8($0)]) }
        let transport = try nativeShim(frames.map { printf(frameBytes($0)) }.joined(separator: "; ") + "; exit 0")
        #expect(transport.process.waitForExit(timeout: .seconds(5)) == .exited(0))
        // Everything is in the pipe already: a deadline in the past still gets each frame.
        for frame in frames { #expect(transport.receive(deadline: .now - .seconds(1)) == .frame(frame)) }
        #expect(next(transport) == .exited(.exited(0)))
    }

    @Test("deadlines: nil no earlier than the deadline, at once for a past one; after exited only nil at the deadline")
    func deadlines() throws {
        let transport = try nativeShim("cat > /dev/null")  // silent until its stdin closes
        let start = ContinuousClock.now
        #expect(transport.receive(deadline: start + .milliseconds(150)) == nil)
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(150) && waited < .seconds(1))
        let pastStart = ContinuousClock.now
        #expect(transport.receive(deadline: pastStart - .milliseconds(1)) == nil)
        #expect(ContinuousClock.now - pastStart < .milliseconds(500))
        transport.closeOutput()  // `cat` sees EOF and exits
        #expect(next(transport) == .exited(.exited(0)))
        let afterStart = ContinuousClock.now
        #expect(transport.receive(deadline: afterStart + .milliseconds(50)) == nil)
        #expect(ContinuousClock.now - afterStart >= .milliseconds(50))
        #expect(transport.receive(deadline: nil) == .exited(.exited(0)))  // no deadline: no hang
    }

    @Test("a malformed stream: the frames before it, then failed(protocolViolation), then exited")
    func malformedStream() throws {
        let transport = try nativeShim(
            [printf(hello), printf([7, 0, 0, 0, 1, 2, 3]), "exit 4"].joined(separator: "; "))
        #expect(next(transport) == .frame(PipeFrame(type: .hello, payload: Pipe.Hello(processId: 99).bytes)))
        #expect(next(transport) == .failed(.protocolViolation(.frameTooSmall(size: 7))))
        #expect(next(transport) == .exited(.exited(4)))
    }

    @Test("EOF while the child lives is not an exit; a frame cut short by the exit is dropped")
    func eofIsNotExit() throws {
        let transport = try nativeShim(
            [printf(hello), printf(Array(hello[..<10])), "exec 1>&-", "sleep 0.3", "exit 2"].joined(separator: "; "))
        #expect(next(transport) == .frame(PipeFrame(type: .hello, payload: Pipe.Hello(processId: 99).bytes)))
        #expect(transport.receive(deadline: .now + .milliseconds(100)) == nil)  // EOF seen, the child still runs
        #expect(next(transport) == .exited(.exited(2)))
    }

    @Test("terminate() from another thread wakes a receive that has no deadline")
    func terminateWakesReceive() throws {
        let transport = try nativeShim("cat > /dev/null")
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { transport.terminate() }
        #expect(transport.receive(deadline: nil) == .exited(.signaled(SIGKILL)))
    }
}
