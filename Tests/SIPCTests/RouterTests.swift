import SIPC
import Testing

/// The router finds every registered id, whichever table holds it, and stays a value: copies share
/// nothing they could invalidate in each other.
@Suite struct RouterTests {
    let layout = try! SlotLayout(bufSize: 64, stackSize: 2)

    /// Calls `function` with `inputs` through `router` in slot 0 and returns the outcome and the outputs.
    func call<Inputs, Outputs>(
        _ router: SIPCRouter<Void>, _ function: IPCFunction<Inputs, Outputs>, _ inputs: Inputs
    ) throws -> (DispatchOutcome, Outputs?) {
        let memory = try OwnedSharedMemory(capacity: layout.capacity)
        let pending = try FrameV2.writeCall(
            function, inputs, sequence: 0, slot: 0, layout: layout, buffer: memory.buffer)
        let outcome = router.dispatchV2(slot: 0, layout: layout, buffer: memory.buffer, context: ())
        guard outcome.isHandled else { return (outcome, nil) }
        return (outcome, try FrameV2.readOutputs(function, of: pending, buffer: memory.buffer))
    }

    @Test func idsOnBothSidesOfTheDirectTableAreServed() throws {
        // The direct table covers ids below 1024; the others are hashed.
        let ids: [UInt32] = [102, 1023, 1024, 70_000, UInt32.max]
        var router = SIPCRouter<Void>()
        for (index, id) in ids.enumerated() {
            let function = IPCFunction(id: id, name: "F\(id)", inputs: Int32.self, outputs: Int32.self)
            router.register(function) { $0 &+ Int32(index) }
        }
        for (index, id) in ids.enumerated() {
            let function = IPCFunction(id: id, name: "F\(id)", inputs: Int32.self, outputs: Int32.self)
            let (outcome, output) = try call(router, function, 1000)
            #expect(outcome == .handled, "id \(id)")
            #expect(output == 1000 + Int32(index), "id \(id)")
            #expect(router.name(of: id) == "F\(id)")
        }
        #expect(router.functionIDs == ids)
        // Unregistered: inside the direct table, past its end but below 1024, and hashed.
        for id: UInt32 in [103, 500, 1025, 69_999] {
            let function = IPCFunction(id: id, name: "Nope", inputs: Int32.self, outputs: Int32.self)
            #expect(try call(router, function, 1).0 == .unknownFunction(id))
            #expect(router.name(of: id) == nil)
        }
    }

    @Test func copiesOutliveTheOriginalAndRegisterIndependently() throws {
        func make() -> SIPCRouter<Void> {
            var router = SIPCRouter<Void>()
            router.register(Demo.sum) { n in n * (n + 1) / 2 }
            return router
        }
        // The router that registered the handlers is gone: its copy still calls them.
        let copy = make()
        let far = IPCFunction(id: 5000, name: "Far", inputs: (), outputs: Int32.self)
        var extended = copy
        extended.register(Demo.addInt) { a, b in a &+ b }
        extended.register(far) { 7 }

        #expect(try call(copy, Demo.sum, 4) == (.handled, 10))
        #expect(try call(copy, Demo.addInt, (1, 2)).0 == .unknownFunction(102))
        #expect(copy.functionIDs == [105])
        #expect(try call(extended, Demo.sum, 4) == (.handled, 10))
        #expect(try call(extended, Demo.addInt, (1, 2)) == (.handled, 3))
        #expect(try call(extended, far, ()) == (.handled, 7))
        #expect(extended.functionIDs == [102, 105, 5000])
    }
}
