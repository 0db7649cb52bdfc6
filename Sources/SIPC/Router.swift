/// What became of a dispatched call. Its ``lresult`` is what the window procedure returns.
public enum DispatchOutcome: Sendable, Equatable {
    /// A handler ran and its outputs are in the buffer (LRESULT 1).
    case handled
    /// No handler is registered for the id (LRESULT 0, exactly as in SOUI).
    case unknownFunction(UInt32)
    /// The frame or its inputs could not be decoded, or the outputs did not fit (LRESULT 0).
    case malformed(SIPCError)
    /// The handler threw; its description is kept for the log (LRESULT 0).
    case handlerFailed(functionID: UInt32, description: String)

    /// The `LRESULT` SIPC answers with: 1 when handled, else 0.
    @inlinable public var lresult: Int {
        if case .handled = self { return 1 }
        return 0
    }

    /// Whether a handler ran (LRESULT 1).
    @inlinable public var isHandled: Bool {
        if case .handled = self { return true }
        return false
    }
}

/// Maps function ids to handlers and dispatches incoming frames to them.
///
/// `Context` is whatever a handler needs to know about the call it serves — typically the
/// connection, so that it can call back into the peer. Use `Void` when handlers need nothing.
///
/// ```swift
/// var router = SIPCRouter<Void>()
/// router.register(addInt) { a, b in a &+ b }
/// let outcome = router.dispatchV2(slot: 0, layout: layout, buffer: receiveBuffer, context: ())
/// ```
public struct SIPCRouter<Context> {
    /// Decodes inputs, runs the user's handler and writes outputs for one incoming call.
    public typealias Body = (inout IncomingCall, Context) throws -> Void

    /// One registered function. A class so that the table can hold it unretained (``Slot``) and the
    /// hot path calls its body without retaining anything.
    @usableFromInline
    final class Entry {
        @usableFromInline let name: String
        @usableFromInline let body: Body
        @usableFromInline init(name: String, body: @escaping Body) { self.name = name; self.body = body }
    }

    /// An entry of the direct table: the entry unretained, nil when the id is free. ``entries`` owns
    /// every entry and never loses one (there is no unregistering), so a router value's `direct` points
    /// only at entries its own `entries` keeps alive; copies share them.
    @usableFromInline typealias Slot = Unmanaged<Entry>?

    /// Ids below ``directTableSize`` are found by index (no hashing on the hot path); others by hash.
    @usableFromInline static var directTableSize: Int { 1024 }
    @usableFromInline var direct: [Slot] = []
    /// Every entry by id: owns the entries that `direct` points at.
    @usableFromInline var entries: [UInt32: Entry] = [:]

    @inlinable
    func entry(for id: UInt32) -> Entry? { entries[id] }

    /// An empty router.
    public init() {}

    /// Registers the handler for `function`; it receives the inputs and returns every output.
    /// Registering an id twice is a programming error.
    @inlinable
    public mutating func register<Inputs, Outputs>(
        _ function: IPCFunction<Inputs, Outputs>, _ handler: @escaping (Inputs) throws -> Outputs
    ) {
        // Written out rather than forwarded to registerContextual: one closure less on every call.
        add(id: function.id, name: function.name) { call, _ in
            var reader = call.inputs
            let inputs = try function.decodeInputs(from: &reader)
            let outputsAt = try call.finishInputs(reader)
            try call.writeOutputs(function, try handler(inputs), at: outputsAt)
        }
    }

    /// Registers a handler that also receives the call's context.
    @inlinable
    public mutating func registerContextual<Inputs, Outputs>(
        _ function: IPCFunction<Inputs, Outputs>, _ handler: @escaping (Inputs, Context) throws -> Outputs
    ) {
        add(id: function.id, name: function.name) { call, context in
            var reader = call.inputs
            let inputs = try function.decodeInputs(from: &reader)
            let outputsAt = try call.finishInputs(reader)
            try call.writeOutputs(function, try handler(inputs, context), at: outputsAt)
        }
    }

    @usableFromInline
    mutating func add(id: UInt32, name: String, body: @escaping Body) {
        precondition(entries[id] == nil, "function id \(id) is registered twice")
        let entry = Entry(name: name, body: body)
        entries[id] = entry
        let index = Int(id)
        if index < Self.directTableSize {
            if direct.count <= index { direct.append(contentsOf: repeatElement(nil, count: index + 1 - direct.count)) }
            direct[index] = Unmanaged.passUnretained(entry)
        }
    }

    /// The registered function ids.
    public var functionIDs: [UInt32] { entries.keys.sorted() }

    /// The name registered for `id`, if any.
    public func name(of id: UInt32) -> String? { entry(for: id)?.name }

    /// Runs the handler for an already-parsed call.
    @inlinable
    public func dispatch(_ call: IncomingCall, context: Context) -> DispatchOutcome {
        let id = Int(call.functionID)
        var call = call
        do {
            if id < direct.count, let slot = direct[id] {
                // `entries` keeps the entry alive while `self` exists: call it without a retain.
                try slot._withUnsafeGuaranteedRef { entry in try entry.body(&call, context) }
            } else if id >= Self.directTableSize, let entry = entries[call.functionID] {
                try entry.body(&call, context)
            } else {
                return .unknownFunction(call.functionID)
            }
            return .handled
        } catch let error as SIPCError {
            return .malformed(error)
        } catch {
            return .handlerFailed(functionID: call.functionID, description: String(describing: error))
        }
    }

    /// Serves a v2 call: `slot` is the message's `wParam`, `buffer` this side's receive buffer.
    @inlinable
    public func dispatchV2(slot: Int, layout: SlotLayout, buffer: SharedBuffer, context: Context) -> DispatchOutcome {
        do {
            return dispatch(try FrameV2.readIncoming(slot: slot, layout: layout, buffer: buffer), context: context)
        } catch {
            return .malformed(error)
        }
    }

    /// Serves a v1 call: `functionID` is the message's `wParam`, `buffer` this side's receive buffer.
    @inlinable
    public func dispatchV1(functionID: UInt32, buffer: SharedBuffer, context: Context) -> DispatchOutcome {
        do {
            return dispatch(try FrameV1.readIncoming(functionID: functionID, buffer: buffer), context: context)
        } catch {
            return .malformed(error)
        }
    }
}

/// The caller-side state of one SIPC handle: how many of its own calls are in progress (which
/// picks the v2 slot) and the next sequence number.
public struct CallStackState: Sendable, Equatable {
    /// The frame format.
    public let version: WireVersion
    /// Slots available (v2). v1 has no slots; `stackSize` then only bounds the nesting depth.
    public let stackSize: Int
    @usableFromInline var currentDepth = 0
    @usableFromInline var sequenceCounter: Int32 = 0
    /// Calls of this handle currently in progress.
    @inlinable public var depth: Int { currentDepth }
    /// The sequence number the next call will carry.
    @inlinable public var nextSequence: Int32 { sequenceCounter }

    /// Starts with no call in progress and sequence 0.
    public init(version: WireVersion, stackSize: Int) {
        self.version = version
        self.stackSize = stackSize
    }

    /// Claims the next slot and sequence number for an outgoing call.
    /// - Throws: ``SIPCError/stackExhausted(depth:stackSize:)`` when every slot is taken (SOUI returns
    ///   false without sending anything).
    @inlinable
    public mutating func enter() throws(SIPCError) -> (slot: Int, sequence: Int32) {
        guard currentDepth < stackSize else { throw .stackExhausted(depth: currentDepth, stackSize: stackSize) }
        let slot = currentDepth
        currentDepth += 1
        let sequence = sequenceCounter
        switch version {
        case .v2: sequenceCounter = sequence + 1 >= SIPCConstants.sequenceWrapV2 ? 0 : sequence + 1
        case .v1: sequenceCounter = sequence + 1 > SIPCConstants.sequenceLimitV1 ? 0 : sequence + 1
        }
        return (slot, sequence)
    }

    /// Releases the slot of the innermost call.
    @inlinable
    public mutating func leave() {
        precondition(currentDepth > 0, "CallStackState.leave() without enter()")
        currentDepth -= 1
    }
}
