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

    @Test("a write to a child that is gone fails with an error instead of SIGPIPE")
    func writeToDeadChild() throws {
        let transport = try nativeShim([printf(hello), readAck, "exec 0<&-", "exit 0"].joined(separator: "; "))
        let connection = try BridgeConnection(transport: transport)
        transport.process.waitForExit(timeout: .seconds(5))
        #expect(throws: BridgeError.self) {
            for _ in 0..<3 { _ = try connection.isWindow(.null) }
        }
    }
}
