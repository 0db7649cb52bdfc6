// The codec benchmark's POD call in a plain loop, for instruction counts that do not depend on the
// machine's mood: Benchmarks/codec-instructions.sh runs it under callgrind with two loop lengths and
// prints the difference per call (setup and process start cancel out).
//
//   codec-instructions CALLS
//
// The loop body is the one of the "POD call" benchmark in Benchmarks/SIPCCodec: the caller writes the
// frame into its slot, the callee's router decodes the inputs, runs the handler and writes the output,
// and the caller decodes it.
import SIPC

let podCall = IPCFunction(
    id: 200, name: "PodCall",
    inputs: (Int32.self, UInt64.self, Double.self, Win32BOOL.self, Win32Point.self),
    outputs: Int64.self)

@inline(never)
func run(calls: Int) throws(SIPCError) -> Int64 {
    let layout = try SlotLayout(bufSize: 2048, stackSize: 10)
    let memory = try OwnedSharedMemory(capacity: layout.capacity)
    var router = SIPCRouter<Void>()
    router.register(podCall) { a, b, c, d, p in
        Int64(a) &+ Int64(bitPattern: b) &+ Int64(c) &+ Int64(d.rawValue) &+ Int64(p.x)
    }
    var state = CallStackState(version: .v2, stackSize: layout.stackSize)
    var total: Int64 = 0
    for i in 0..<calls {
        let (slot, sequence) = try state.enter()
        let call = try FrameV2.writeCall(
            podCall, (Int32(truncatingIfNeeded: i), 7, 1.5, true, Win32Point(x: 3, y: 4)),
            sequence: sequence, slot: slot, layout: layout, buffer: memory.buffer)
        guard router.dispatchV2(slot: slot, layout: layout, buffer: memory.buffer, context: ()).isHandled else {
            fatalError("call not handled")
        }
        total &+= try FrameV2.readOutputs(podCall, of: call, buffer: memory.buffer)
        state.leave()
    }
    return total
}

let calls = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 0 : 1_000_000
print(try run(calls: calls))
