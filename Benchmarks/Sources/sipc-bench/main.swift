// sipc-bench: one side-by-side benchmark run of the bridge (see scripts/bench.sh and docs/BENCHMARKS.md).
//
// Starts, on one Wine prefix: the C ipcdemo server (sipc-demo-server.exe, the all-Wine baseline), the Swift
// host (`sipc-host demo`, release build, through sipc-shim.exe), a shim of its own (for host → Windows calls
// and WM_COPYDATA), and the Windows bench clients of win32-shim/bench. Compares bridged against all-Wine in
// the same run, alternating between them, and writes the report.
//
// Environment (as the Makefile's RUN_ENV): WINEPREFIX, WINEDEBUG, SIPB_WINE, SIPB_WINESERVER, SIPB_SHIM,
// SIPB_WIN_BIN (the folder of the .exe files), SIPB_HOST_EXE (a release sipc-host), and optionally SIPB_RELAY_ECHO
// (Benchmarks/experiments/relay-echo built natively: the throughput phase then also measures the C server making one
// round trip to a native process per call, the least any bridge adds; see Findings 14).
// Options: --out DIR (default docs), --codec FILE (the codec microbenchmark output to include),
//          --quick (fewer samples, for trying the driver out),
//          --only WORDS (comma-separated phase name prefixes, e.g. `wm_copydata,latency`: run just those, for
//          working on one figure; the report then lists the others as not measured).
import Foundation
import Logging
import SIPC
import SIPCHost

#if canImport(Glibc)
    import Glibc
#endif

setvbuf(stdout, nil, _IOLBF, 0)

let environment = ProcessInfo.processInfo.environment
var outDir = "docs"
var codecFile: String? = nil
var quick = false
var onlyPhases: [String]? = nil
do {
    var args = CommandLine.arguments.dropFirst()
    while let arg = args.popFirst() {
        switch arg {
        case "--out": outDir = args.popFirst() ?? outDir
        case "--codec": codecFile = args.popFirst()
        case "--quick": quick = true
        case "--only": onlyPhases = (args.popFirst() ?? "").lowercased().split(separator: ",").map(String.init)
        default:
            FileHandle.standardError.write(
                Data("usage: sipc-bench [--out DIR] [--codec FILE] [--quick] [--only PHASE,...]\n".utf8))
            exit(2)
        }
    }
}

func require(_ name: String) -> String {
    guard let value = environment[name], !value.isEmpty else {
        FileHandle.standardError.write(Data("sipc-bench: \(name) is not set (run through scripts/bench.sh)\n".utf8))
        exit(2)
    }
    return value
}

let wine = WineEnvironment.fromEnvironment(defaultPrefix: FileManager.default.currentDirectoryPath + "/.wine-prefix")
let shimExe = require("SIPB_SHIM")
let winBin = require("SIPB_WIN_BIN")
let hostExe = require("SIPB_HOST_EXE")
let benchExe = winBin + "/sipc-bench.exe"
let cServerExe = winBin + "/sipc-demo-server.exe"
for path in [shimExe, benchExe, cServerExe, hostExe] where !FileManager.default.fileExists(atPath: path) {
    FileHandle.standardError.write(Data("sipc-bench: \(path) is missing\n".utf8))
    exit(2)
}

let scratch: String = {
    var template = Array("/tmp/sipc-bench.XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    return String(cString: made)
}()
let windowsScratch = "Z:" + scratch

let cTitle = "bench_c_svr"
let echoTitle = "bench_c_echo_svr"
let relayEcho: String? = environment["SIPB_RELAY_ECHO"].flatMap { $0.isEmpty ? nil : $0 }
let swiftTitle = "bench_swift_svr"
let results = Results()
var children: [Child] = []

func log(_ text: String) {
    let stamp = String(format: "%6.1f", Date().timeIntervalSince(results.started))
    print("[\(stamp) s] \(text)")
}

/// Starts a Windows program under wine64.
func startWindows(_ name: String, _ exe: String, _ arguments: [String], stdin: Bool = false) throws -> Child {
    let child = try Child(
        name: name, executable: wine.wine, arguments: [exe] + arguments, environment: wine.processEnvironment, stdin: stdin,
        stderrPath: "\(scratch)/\(name).err")
    children.append(child)
    return child
}

/// Runs a Windows program to its end and returns its output lines.
func runWindows(_ name: String, _ arguments: [String], timeout: Duration = .seconds(120)) throws -> [String] {
    let child = try startWindows(name, benchExe, arguments)
    child.finish(timeout: timeout)
    _ = child.output.waitForEnd(timeout: .seconds(5))
    children.removeAll { $0 === child }
    let lines = child.output.all
    guard lines.contains("status=ok") else {
        let err = (try? String(contentsOfFile: "\(scratch)/\(name).err", encoding: .utf8)) ?? ""
        throw BenchFailure("\(name) failed: \(lines.suffix(4).joined(separator: " | ")) \(err.suffix(400))")
    }
    return lines
}

/// Reads a samples file written by `sipc-bench calls --out` ("<target> <us>" lines).
func readSamples(_ path: String, targets: Int) throws -> [[Double]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var samples = Array(repeating: [Double](), count: targets)
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: " ")
        guard parts.count == 2, let k = Int(parts[0]), k < targets, let us = Double(parts[1]) else { continue }
        samples[k].append(us)
    }
    return samples
}

func stopAll() {
    for child in children.reversed() { child.stop() }
    children.removeAll()
}

signal(SIGINT) { _ in
    for child in children.reversed() { _ = child.process.signal(SIGTERM) }
    _exit(130)
}

// MARK: - Start the servers

log("scratch folder \(scratch); prefix \(wine.prefix)")
do {
    try wine.ensurePrefix()
    try wine.ensureWineserver()
} catch {
    print("sipc-bench: Wine is not ready: \(error)")
    exit(1)
}

let cServer: Child
let swiftHost: Child
var echoServer: Child? = nil
do {
    cServer = try startWindows(
        "c-server", cServerExe, ["--title", cTitle, "--quiet-calls", "--hello-ms", "0", "--seconds", "1200"])
    if let relayEcho {
        // The C server with one native round trip per call: relay-echo runs wine64 with the server's stdin and
        // stderr on two pipes and echoes every byte back (Benchmarks/experiments/relay-echo.c).
        let child = try Child(
            name: "c-echo-server", executable: relayEcho,
            arguments: [
                wine.wine, cServerExe, "--title", echoTitle, "--quiet-calls", "--hello-ms", "0", "--seconds", "1200",
                "--relay-echo",
            ],
            environment: wine.processEnvironment, stdin: false, stderrPath: "\(scratch)/c-echo-server.err")
        children.append(child)
        echoServer = child
    }
    swiftHost = try Child(
        name: "sipc-host", executable: hostExe,
        arguments: [
            "demo", "--title", swiftTitle, "--log-level", "warning", "--duration", "1200", "--shim", shimExe, "--prefix",
            wine.prefix,
        ],
        environment: wine.processEnvironment, stdin: false, stderrPath: "\(scratch)/sipc-host.err")
    children.append(swiftHost)
    guard cServer.output.wait(timeout: .seconds(60), for: { $0.hasPrefix("listening=1") }) != nil else {
        throw BenchFailure("the C server did not start: \(cServer.output.all)")
    }
    guard swiftHost.output.wait(timeout: .seconds(60), for: { $0.hasPrefix("listening") }) != nil else {
        throw BenchFailure("sipc-host demo did not start: \(swiftHost.output.all)")
    }
    if let echoServer, echoServer.output.wait(timeout: .seconds(60), for: { $0.hasPrefix("listening=1") }) == nil {
        throw BenchFailure("the C server under relay-echo did not start: \(echoServer.output.all)")
    }
} catch {
    print("sipc-bench: \(error)")
    stopAll()
    exit(1)
}
let hostStartRss = residentKiB(pid: swiftHost.pid) ?? 0
log("C server pid \(cServer.pid), sipc-host pid \(swiftHost.pid) (RSS \(hostStartRss) KiB)")

// The driver's own bridge: host → Windows calls and WM_COPYDATA.
let bridge: BridgeConnection
do {
    bridge = try BridgeConnection.launch(shim: shimExe, environment: wine, shimLog: .discard)
} catch {
    print("sipc-bench: cannot start the driver's shim: \(error)")
    stopAll()
    exit(1)
}

func runPhase(_ name: String, _ body: () throws -> Void) {
    if let onlyPhases, !onlyPhases.contains(where: { name.lowercased().hasPrefix($0) }) { return }
    log("== \(name)")
    do { try body() } catch {
        log("!! \(name) failed: \(error)")
        results.problems.append("\(name): \(error)")
    }
}

// MARK: 1. Latency

let latencyCalls = quick ? 1000 : 4000
runPhase("latency: Windows client → C server vs → Swift host") {
    for wait in ["spin", "block"] {
        let file = "lat-\(wait).txt"
        var arguments = ["calls", "--n", "\(latencyCalls)", "--block", "100", "--warmup", "300", "--out", "\(windowsScratch)/\(file)"]
        if wait == "block" { arguments.append("--block-wait") }
        _ = try runWindows("lat-\(wait)", arguments + [cTitle, swiftTitle])
        let samples = try readSamples("\(scratch)/\(file)", targets: 2)
        let (c, s) = (Stats(samples[0]), Stats(samples[1]))
        let label = wait == "spin" ? "SOUI's spinning wait (default)" : "sleeping wait (--block-wait)"
        results.latency.append(
            Comparison(name: "AddInt median, client \(label)", unit: "µs", bridged: s.median, baseline: c.median, better: .lower, target: 1.15))
        results.latency.append(
            Comparison(name: "AddInt p99, client \(label)", unit: "µs", bridged: s.p99, baseline: c.p99, better: .lower, target: 1.15))
        log("\(wait): all-Wine median \(c.median) p99 \(c.p99); bridged median \(s.median) p99 \(s.p99)")
    }
}

runPhase("latency: host → Windows server vs Windows client → Windows server") {
    var profile = try SIPCProfile.ipcDemo(stackSize: 64)
    profile.serverTitle = cTitle
    var router = SIPCRouter<SIPCPeer>()
    router.registerContextual(SIPCDemo.sum) { (n: Int32, peer: SIPCPeer) in n <= 0 ? 0 : n &+ (try peer.call(SIPCDemo.sum, n - 1)) }
    router.registerContextual(SIPCDemo.sayHello) { (_: WideString, _: SIPCPeer) in () }
    let client = try SIPCClient(bridge: bridge, profile: profile, router: router)
    defer { client.disconnect() }
    let rounds = quick ? 2 : 4
    let perRound = quick ? 300 : 1000
    var host: [Double] = []
    var windows: [Double] = []
    for k in 0..<200 { _ = try client.peer.call(SIPCDemo.addInt, (Int32(k), 1)) }
    for round in 0..<rounds {
        let file = "h2w-\(round).txt"
        _ = try runWindows(
            "h2w-win-\(round)",
            ["calls", "--n", "\(perRound)", "--block", "\(perRound)", "--warmup", "100", "--out", "\(windowsScratch)/\(file)", cTitle])
        windows += try readSamples("\(scratch)/\(file)", targets: 1)[0]
        let clock = ContinuousClock()
        for k in 0..<perRound {
            let t0 = clock.now
            let sum = try client.peer.call(SIPCDemo.addInt, (Int32(k), 1))
            let dt = clock.now - t0
            guard sum == Int32(k) + 1 else { throw BenchFailure("host AddInt(\(k), 1) = \(sum)") }
            host.append(dt.microseconds)
        }
    }
    let (w, h) = (Stats(windows), Stats(host))
    results.latency.append(
        Comparison(name: "AddInt median, host → C server", unit: "µs", bridged: h.median, baseline: w.median, better: .lower, target: 1.15))
    results.latency.append(
        Comparison(name: "AddInt p99, host → C server", unit: "µs", bridged: h.p99, baseline: w.p99, better: .lower, target: 1.15))
    log("host→Windows median \(h.median) p99 \(h.p99); Windows→Windows median \(w.median) p99 \(w.p99)")
}

// MARK: 2. Throughput

runPhase("throughput with 1, 2, 4 clients") {
    let seconds = quick ? 1 : 3
    let rounds = quick ? 1 : 3
    func burst(_ clients: Int, _ title: String, _ tag: String) throws -> Double {
        var running: [Child] = []
        defer {
            for child in running where !child.exited { child.stop() }
            children.removeAll { child in running.contains { $0 === child } }
        }
        for i in 0..<clients {
            running.append(
                try startWindows("tp-\(tag)-\(i)", benchExe, ["throughput", "--seconds", "\(seconds)", "--warmup", "100", title], stdin: true))
        }
        for child in running {
            guard child.output.wait(timeout: .seconds(60), for: { $0 == "ready=1" || $0.hasPrefix("error") }) == "ready=1" else {
                throw BenchFailure("\(child.name) not ready: \(child.output.all)")
            }
        }
        for child in running { child.writeLine("go") }
        var total = 0.0
        for child in running {
            child.finish(timeout: .seconds(Int64(seconds) + 60))
            guard let line = child.output.wait(timeout: .seconds(5), for: { $0.hasPrefix("calls=") }),
                let rate = Double(fields(line)["calls_per_s"] ?? ""),
                child.output.wait(timeout: .seconds(5), for: { $0.hasPrefix("status=") }) == "status=ok"
            else { throw BenchFailure("\(child.name): \(child.output.all)") }
            total += rate
        }
        return total
    }
    for clients in [1, 2, 4] {
        var row = ThroughputRow(clients: clients, bridged: [], baseline: [], roundTrip: [])
        for round in 0..<rounds {
            // Rotate which one goes first.
            var order = ["c", "s"]
            if echoServer != nil { order.insert("e", at: 1) }
            order = Array(order[(round % order.count)...] + order[..<(round % order.count)])
            for which in order {
                switch which {
                case "c": row.baseline.append(try burst(clients, cTitle, "c\(clients)-\(round)"))
                case "e": row.roundTrip.append(try burst(clients, echoTitle, "e\(clients)-\(round)"))
                default: row.bridged.append(try burst(clients, swiftTitle, "s\(clients)-\(round)"))
                }
            }
        }
        log(
            "\(clients) clients: all-Wine \(row.baseline.map { Int($0) }) all-Wine + round trip \(row.roundTrip.map { Int($0) }) "
                + "bridged \(row.bridged.map { Int($0) }) calls/s")
        results.throughput.append(row)
    }
}

// MARK: 3. Recursion

runPhase("recursion: Sum(n)") {
    for n in [19, 64, 100] {
        let rounds = quick ? 10 : (n == 19 ? 200 : 60)
        let file = "sum-\(n).txt"
        _ = try runWindows(
            "sum-\(n)",
            [
                "calls", "--fn", "sum", "--arg", "\(n)", "--n", "\(rounds)", "--block", "5", "--warmup", "5", "--out",
                "\(windowsScratch)/\(file)", cTitle, swiftTitle,
            ])
        let samples = try readSamples("\(scratch)/\(file)", targets: 2)
        let (c, s) = (Stats(samples[0]), Stats(samples[1]))
        results.recursion.append(
            Comparison(
                name: "Sum(\(n)): \(n + 1) calls, \((n + 2) / 2) nested levels on each side", unit: "ms", bridged: s.median / 1000,
                baseline: c.median / 1000, better: .lower, target: 1.15,
                note: String(format: "p99 %.2f vs %.2f ms", s.p99 / 1000, c.p99 / 1000)))
        log("Sum(\(n)) all-Wine median \(c.median) µs, bridged \(s.median) µs")
    }
}

// MARK: 4. WM_COPYDATA

let copySizes = [64, 65536, 1 << 20, 2_000_000]
let overSizes = [16 << 20, 64 << 20]
var hostReceived = 0
runPhase("WM_COPYDATA") {
    let receiver = try startWindows("copy-recv", benchExe, ["copy-recv", "bench_w_recv"], stdin: true)
    defer {
        receiver.finish(timeout: .seconds(10))
        children.removeAll { $0 === receiver }
    }
    guard let ready = receiver.output.wait(timeout: .seconds(60), for: { $0.hasPrefix("ready=1") }) else {
        throw BenchFailure("copy receiver did not start")
    }
    _ = ready
    let hostWindow = try bridge.createWindow(kind: .messageOnly, className: "sipb_bench_copy", title: "bench_host_recv", relaying: [wmCopyData])
    defer { try? bridge.destroyWindow(hostWindow.hwnd) }
    bridge.onCopyData(to: hostWindow.hwnd) { _, event in
        let data = event.data
        if !data.isEmpty, data[0] != 0x5a || data[data.count - 1] != 0xa5 { return 0 }
        hostReceived += 1
        return Int64(data.count) + 1
    }

    // Windows sender → (Windows receiver, host) in turn; the bridge is served meanwhile.
    func send(_ sizes: [Int], reps: Int, timeoutMs: Int, tag: String, receiver: String = "bench_w_recv") throws -> [String] {
        let sender = try startWindows(
            "copy-send-\(tag)", benchExe,
            ["copy-send", "--reps", "\(reps)", "--timeout-ms", "\(timeoutMs)", receiver, "bench_host_recv", "--"] + sizes.map { "\($0)" })
        let deadline = ContinuousClock.now + .seconds(300)
        while !sender.exited && ContinuousClock.now < deadline {
            try bridge.serve(for: .milliseconds(20))
        }
        sender.finish(timeout: .seconds(5))
        children.removeAll { $0 === sender }
        _ = sender.output.waitForEnd(timeout: .seconds(5))
        return sender.output.all.filter { $0.hasPrefix("size=") }
    }
    func parse(_ lines: [String], size: Int, target: Int) -> CopyResult {
        guard let line = lines.first(where: { fields($0)["size"] == "\(size)" && fields($0)["target"] == "\(target)" }) else {
            return CopyResult(size: size, rate: nil, medianMicroseconds: nil, samples: 0, failure: "no result")
        }
        let f = fields(line)
        let ok = Int(f["ok"] ?? "") ?? 0
        var failure: String? = nil
        if let error = f["error"] {
            failure = "\(error) (GetLastError \(f["last_error"] ?? "?") after \(f["fail_after_us"].flatMap(Double.init).map { String(format: "%.0f ms", $0 / 1000) } ?? "?"))"
        }
        return CopyResult(
            size: size, rate: ok > 0 ? Double(f["mb_per_s"] ?? "") : nil, medianMicroseconds: ok > 0 ? Double(f["median_us"] ?? "") : nil,
            samples: ok, failure: failure)
    }
    // Host → Windows receiver, timed here.
    let receiverWindow = try bridge.findWindow(title: "bench_w_recv") ?? .null
    func hostSend(size: Int, reps: Int, timeout: Duration, to target: WindowHandle = receiverWindow) -> CopyResult {
        var bytes = [UInt8](repeating: 0x11, count: size)
        if size > 0 {
            bytes[0] = 0x5a
            bytes[size - 1] = 0xa5
        }
        var times: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<reps {
            let t0 = clock.now
            do {
                let outcome = try bridge.sendCopyData(to: target, dwData: 0x42, bytes: bytes, timeout: timeout)
                let dt = clock.now - t0
                guard outcome.delivered, outcome.lresult == Int64(size) + 1 else {
                    return CopyResult(
                        size: size, rate: nil, medianMicroseconds: nil, samples: times.count,
                        failure: String(format: "not delivered (lresult %lld, GetLastError %u) after %.0f ms", outcome.lresult, outcome.lastError, dt.microseconds / 1000))
                }
                times.append(dt.microseconds)
            } catch {
                let dt = clock.now - t0
                return CopyResult(
                    size: size, rate: nil, medianMicroseconds: nil, samples: times.count,
                    failure: "\(error) after \(String(format: "%.0f", dt.microseconds / 1000)) ms")
            }
        }
        let m = median(times)
        return CopyResult(size: size, rate: Double(size) / m, medianMicroseconds: m, samples: times.count, failure: nil)
    }

    // Where a bridged call's time goes: the bare pieces, each alone.
    do {
        let n = quick ? 300 : 2000
        let ping = try runWindows("ping", ["ping", "--n", "\(n)", "bench_w_recv"])
        if let line = ping.first(where: { $0.hasPrefix("n=") }), let m = Double(fields(line)["median_us"] ?? ""),
            let p = Double(fields(line)["p99_us"] ?? "")
        {
            results.breakdown.append(("Windows → Windows `SendMessageW(WM_NULL)` (Wine's cross-process round trip)", m, p))
        }
        let clock = ContinuousClock()
        var pipe: [Double] = []
        var send: [Double] = []
        for i in 0..<(n + 100) {
            let t0 = clock.now
            _ = try bridge.isWindow(receiverWindow)
            let t1 = clock.now
            _ = try bridge.sendMessage(to: receiverWindow, message: 0)
            let t2 = clock.now
            if i >= 100 {
                pipe.append((t1 - t0).microseconds)
                send.append((t2 - t1).microseconds)
            }
        }
        let (a, b) = (Stats(pipe), Stats(send))
        results.breakdown.append(("host → shim → host `IS_WINDOW` (one pipe round trip through the shim)", a.median, a.p99))
        results.breakdown.append(("host → shim `SEND_MESSAGE(WM_NULL)` → Windows window (pipe + Wine round trip)", b.median, b.p99))
        log("breakdown: \(results.breakdown.map { "\($0.0): \(Int($0.1)) µs" })")
    }

    let small = try send([64, 65536], reps: quick ? 50 : 300, timeoutMs: 5000, tag: "small")
    let large = try send([1 << 20, 2_000_000], reps: quick ? 20 : 200, timeoutMs: 5000, tag: "large")
    for size in copySizes {
        let lines = size <= 65536 ? small : large
        let reps = size <= 65536 ? (quick ? 50 : 300) : (quick ? 20 : 200)
        let h2w = hostSend(size: size, reps: reps, timeout: .seconds(5))
        results.copyData.append((size, parse(lines, size: size, target: 0), parse(lines, size: size, target: 1), h2w))
    }
    log("WM_COPYDATA up to 2 MB done (host received \(hostReceived))")
    // Past Wine's limit: each direction once, with a bounded wait. The receivers may be left broken, so this goes last.
    // A receiver that got such a message may be broken afterwards, so every attempt gets a fresh one.
    receiver.writeLine("quit")
    func freshReceiver(_ title: String) throws -> Child {
        let child = try startWindows(title, benchExe, ["copy-recv", title], stdin: true)
        guard child.output.wait(timeout: .seconds(60), for: { $0.hasPrefix("ready=1") }) != nil else {
            throw BenchFailure("\(title) did not start")
        }
        return child
    }
    func retire(_ child: Child) {
        child.finish(timeout: .seconds(5))
        children.removeAll { $0 === child }
    }
    for size in overSizes {
        let r1 = try freshReceiver("bench_w_recv_h\(size)")
        let target = try bridge.findWindow(title: "bench_w_recv_h\(size)") ?? .null
        let h2w = hostSend(size: size, reps: 1, timeout: .seconds(5), to: target)
        retire(r1)
        let r2 = try freshReceiver("bench_w_recv_o\(size)")
        let over = try send([size], reps: 1, timeoutMs: 5000, tag: "over\(size)", receiver: "bench_w_recv_o\(size)")
        retire(r2)
        results.copyData.append((size, parse(over, size: size, target: 0), parse(over, size: size, target: 1), h2w))
        log("\(size) bytes: \(over) host→Win: \(h2w.failure ?? "ok")")
    }
}

// MARK: 6. Host memory

runPhase("host memory over 100 000 calls") {
    let calls = quick ? 10000 : 100_000
    let shim = childPids(of: swiftHost.pid).first
    guard let before = residentKiB(pid: swiftHost.pid) else { throw BenchFailure("no VmRSS for \(swiftHost.pid)") }
    let shimBefore = shim.flatMap { residentKiB(pid: $0) }
    let t0 = Date()
    _ = try runWindows(
        "rss-calls", ["calls", "--n", "\(calls)", "--block", "\(calls)", "--warmup", "0", swiftTitle], timeout: .seconds(600))
    let seconds = Date().timeIntervalSince(t0)
    guard let after = residentKiB(pid: swiftHost.pid) else { throw BenchFailure("sipc-host is gone") }
    results.rss = (hostStartRss, before, after, calls, seconds)
    if let shim, let shimBefore, let shimAfter = residentKiB(pid: shim) { results.shimRss = (shimBefore, shimAfter) }
    log("sipc-host RSS \(before) → \(after) KiB over \(calls) calls (\(String(format: "%.1f", seconds)) s)")
}

// MARK: - Stop and report

_ = bridge.shutdown(timeout: .seconds(5))
stopAll()
if let codecFile, let text = try? String(contentsOfFile: codecFile, encoding: .utf8) { results.codecText = text }
try? FileManager.default.removeItem(atPath: scratch)

let machine = Machine.current(wine: wine)
let report = Report(results: results, machine: machine, quick: quick)
do {
    try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
    try report.markdown().write(toFile: outDir + "/BENCHMARKS.md", atomically: true, encoding: .utf8)
    try report.svg().write(toFile: outDir + "/benchmarks.svg", atomically: true, encoding: .utf8)
} catch {
    print("sipc-bench: cannot write the report: \(error)")
    exit(1)
}
log("wrote \(outDir)/BENCHMARKS.md and \(outDir)/benchmarks.svg")
exit(results.problems.isEmpty ? 0 : 1)
