import Benchmark
import SIPC

// One full SIPC v2 call, both sides in one process: the caller writes the frame into its slot,
// the callee's router decodes the inputs, runs the handler and writes the outputs, and the caller
// decodes them. No window message, no second process: this is the codec's share of a call.

/// Five mixed POD inputs, one output.
let podCall = IPCFunction(
    id: 200, name: "PodCall",
    inputs: (Int32.self, UInt64.self, Double.self, Win32BOOL.self, Win32Point.self),
    outputs: Int64.self)

/// Two wide strings in, their concatenation out.
let stringCall = IPCFunction(id: 103, name: "AddString", inputs: (WideString.self, WideString.self), outputs: WideString.self)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,  // 1000 calls per sample: the figures are per call, without the timer's cost
        maxDuration: .seconds(3),
        maxIterations: 5_000)

    Benchmark("POD call: 5 inputs, 1 output (encode + decode, both sides)") { benchmark in
        let layout = try SlotLayout(bufSize: 2048, stackSize: 10)
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        var router = SIPCRouter<Void>()
        router.register(podCall) { a, b, c, d, p in Int64(a) &+ Int64(bitPattern: b) &+ Int64(c) &+ Int64(d.rawValue) &+ Int64(p.x) }
        var state = CallStackState(version: .v2, stackSize: layout.stackSize)
        var total: Int64 = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let (slot, sequence) = try state.enter()
            let call = try FrameV2.writeCall(
                podCall, (Int32(truncatingIfNeeded: i), 7, 1.5, true, Win32Point(x: 3, y: 4)),
                sequence: sequence, slot: slot, layout: layout, buffer: memory.buffer)
            guard router.dispatchV2(slot: slot, layout: layout, buffer: memory.buffer, context: ()).isHandled else {
                fatalError("benchmark call not handled")
            }
            total &+= try FrameV2.readOutputs(podCall, of: call, buffer: memory.buffer)
            state.leave()
        }
        benchmark.stopMeasurement()
        blackHole(total)
    }

    Benchmark("String call: two 100-character wide strings (encode + decode, both sides)") { benchmark in
        let layout = try SlotLayout(bufSize: 2048, stackSize: 10)
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        var router = SIPCRouter<Void>()
        router.register(stringCall) { a, b in WideString(units: a.units + b.units) }
        var state = CallStackState(version: .v2, stackSize: layout.stackSize)
        let a = WideString(units: Array(String(repeating: "héllo wörld ✓ 日本 ", count: 8).utf16.prefix(100)))
        let b = WideString(String(repeating: "0123456789", count: 10))
        precondition(a.units.count == 100 && b.units.count == 100)
        var total = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let (slot, sequence) = try state.enter()
            let call = try FrameV2.writeCall(stringCall, (a, b), sequence: sequence, slot: slot, layout: layout, buffer: memory.buffer)
            guard router.dispatchV2(slot: slot, layout: layout, buffer: memory.buffer, context: ()).isHandled else {
                fatalError("benchmark call not handled")
            }
            total &+= try FrameV2.readOutputs(stringCall, of: call, buffer: memory.buffer).units.count
            state.leave()
        }
        benchmark.stopMeasurement()
        blackHole(total)
    }
}
