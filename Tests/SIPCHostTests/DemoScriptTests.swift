import Foundation
import Testing

/// `make demo`'s script — sipc-demo-client.exe calling AddInt, AddString, Sum(19), Sum(100) and
/// waiting for SayHello — against the built `sipc-host demo` executable and against the C server
/// (`sipc-demo-server.exe`, the all-Wine baseline): both must give identical answers.
@Suite(.serialized, .enabled(if: WineTestEnvironment.enabled, "needs Wine and the Windows programs: run `make test`"))
struct DemoScriptTests {
    /// The `sipc-host` executable: SIPB_HOST_EXE, or next to the test bundle.
    static var hostExecutable: String? {
        if let path = ProcessInfo.processInfo.environment["SIPB_HOST_EXE"],
            FileManager.default.isExecutableFile(atPath: path)
        {
            return path
        }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "sipc-host"
        ).path
        return FileManager.default.isExecutableFile(atPath: beside) ? beside : nil
    }

    /// A native process (sipc-host) with its output in files (never a pipe that a Wine helper could keep open).
    final class NativeProgram: @unchecked Sendable {
        let process = Process()
        let outputLog = FileManager.default.temporaryDirectory.appendingPathComponent("sipb-test-\(UUID().uuidString).out")
        let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("sipb-test-\(UUID().uuidString).err")

        init(_ path: String, _ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            for log in [outputLog, errorLog] { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
            process.standardOutput = try FileHandle(forWritingTo: outputLog)
            process.standardError = try FileHandle(forWritingTo: errorLog)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// What it wrote on standard output so far.
        var text: String { (try? String(contentsOf: outputLog, encoding: .utf8)) ?? "" }

        /// What it wrote on standard error (its log).
        var errors: String { (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "" }

        deinit {
            try? FileManager.default.removeItem(at: outputLog)
            try? FileManager.default.removeItem(at: errorLog)
        }

        /// Interrupts it if it still runs (SIGINT, then SIGKILL after 10 s) and returns its exit status, or -1
        /// if it never ended.
        func stop() -> Int32 {
            if process.isRunning { process.interrupt() }
            return endProcess(process, waiting: .seconds(10))
        }
    }

    /// The call lines without their timings: what must be identical.
    static func answers(_ client: WindowsProgram) -> [String] {
        client.lines.filter { $0.hasPrefix("call=") }.map { line in
            line.split(separator: " ").filter { !$0.hasPrefix("rtt_ms=") }.joined(separator: " ")
        }
    }

    static func waitUntil(_ condition: () -> Bool, timeout: Duration = .seconds(60)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(), ContinuousClock.now < deadline { usleep(20_000) }
        return condition()
    }

    /// `sipc-host call`: the Swift host as a client of the C demo server, through the command line.
    @Test func sipcHostCallsTheCServer() throws {
        try WineTestEnvironment.requireAvailable()
        let hostPath = try #require(Self.hostExecutable, "sipc-host not built (swift build)")
        let title = uniqueTitle("sipb_call_c")
        let server = try WindowsProgram("sipc-demo-server.exe", ["--title", title, "--seconds", "60"])
        defer { server.kill() }
        #expect(
            Self.waitUntil({ !server.values("listening").isEmpty || !server.isRunning }),
            "sipc-demo-server did not start")
        for (arguments, expected) in [
            (["add-int", "40", "2"], "42"), (["add-string", "Hello, ", "世界 ✓"], "Hello, 世界 ✓"), (["sum", "19"], "190"),
        ] {
            let call = try NativeProgram(hostPath, ["call", "--title", title, "--stack-size", "64"] + arguments)
            #expect(Self.waitUntil({ !call.process.isRunning }), "sipc-host call did not finish")
            #expect(call.stop() == 0, "\(call.errors)")
            let result = call.text.split(whereSeparator: \.isNewline).first { $0.hasPrefix("result=") }
            #expect(result?.hasPrefix("result=\(expected) rtt_ms=") == true, "\(call.text) \(call.errors)")
        }
        // A usage error is reported, not attempted.
        let bad = try NativeProgram(hostPath, ["call", "sum", "not-a-number"])
        #expect(Self.waitUntil({ !bad.process.isRunning }))
        #expect(bad.stop() != 0)
    }

    @Test func theSwiftHostAndTheCServerGiveIdenticalAnswers() throws {
        try WineTestEnvironment.requireAvailable()
        let hostPath = try #require(Self.hostExecutable, "sipc-host not built (swift build)")

        // 1. The Swift host, through its command line.
        let swiftTitle = uniqueTitle("sipb_demo_swift")
        let host = try NativeProgram(hostPath, ["demo", "--title", swiftTitle])
        defer { _ = host.stop() }
        #expect(
            Self.waitUntil({ host.text.contains("listening") || !host.process.isRunning }), "sipc-host did not start")
        #expect(host.text.hasPrefix("listening title=\(swiftTitle) "))
        let swiftClient = try WindowsProgram("sipc-demo-client.exe", ["--title", swiftTitle, "script"])
        #expect(swiftClient.finish() == 0, "\(swiftClient.lines)")
        #expect(host.stop() == 0, "sipc-host should stop cleanly on SIGINT")

        // 2. The C server under Wine: the all-Wine baseline.
        let cTitle = uniqueTitle("sipb_demo_c")
        let server = try WindowsProgram("sipc-demo-server.exe", ["--title", cTitle, "--seconds", "60"])
        defer { server.kill() }
        #expect(
            Self.waitUntil({ !server.values("listening").isEmpty || !server.isRunning }),
            "sipc-demo-server did not start")
        let cClient = try WindowsProgram("sipc-demo-client.exe", ["--title", cTitle, "script"])
        #expect(cClient.finish() == 0, "\(cClient.lines)")

        let swiftAnswers = Self.answers(swiftClient)
        #expect(swiftAnswers == Self.answers(cClient))
        #expect(swiftAnswers.contains("call=AddInt args=1,2 result=3"))
        #expect(swiftAnswers.contains("call=Sum args=19 result=190 served=10"))
        #expect(swiftAnswers.contains("call=Sum args=100 result=5050 served=50"))
        #expect(swiftClient.values("hello").count == 1)
        #expect(swiftClient.values("hello").first?.hasPrefix("\"Hello from the Swift host ✓\"") == true)
        #expect(cClient.values("hello").first?.hasPrefix("\"Hello from the C server\"") == true)
    }
}
