/// Describes one remote function: its id, its name, and the types of its inputs and outputs in
/// wire order.
///
/// ```swift
/// let addInt = IPCFunction(id: 102, name: "AddInt",
///                          inputs: (Int32.self, Int32.self), outputs: Int32.self)
/// let destroy = IPCFunction(id: 104, name: "Destroy", inputs: (), outputs: ())
/// ```
///
/// `Inputs` and `Outputs` are the tuples of those types (a single type stands for itself, no types
/// for `Void`). Any number of inputs and outputs works; SOUI's macros stop at five. Up to eight of
/// each, a fixed-arity overload (IPCFunction+Arity.swift) is chosen instead of the variadic
/// initialiser, because Swift specialises it and does not specialise parameter packs.
public struct IPCFunction<Inputs, Outputs>: Sendable {
    /// The function id carried in the frame (102 and up for applications).
    public let id: UInt32
    /// A name for logs and traces.
    public let name: String
    // The codecs take and give values through pointers rather than as `Inputs` / `Outputs`: a closure
    // whose type mentions a generic parameter is stored in its most general form (values passed
    // indirectly), and every call of a specialised one then goes through a re-abstraction thunk.
    @usableFromInline let decodeInputsBody: Decoder<Inputs>
    @usableFromInline let encodeInputsBody: Encoder<Inputs>
    @usableFromInline let decodeOutputsBody: Decoder<Outputs>
    @usableFromInline let encodeOutputsBody: Encoder<Outputs>

    /// Reads values and initialises the memory it is given with them.
    @usableFromInline typealias Decoder<Values> =
        @Sendable (inout ParamReader, UnsafeMutablePointer<Values>) throws(SIPCError) -> Void
    /// Writes the values it is given a pointer to.
    @usableFromInline typealias Encoder<Values> =
        @Sendable (UnsafePointer<Values>, inout ParamWriter) throws(SIPCError) -> Void

    /// Describes a function.
    /// - Parameters:
    ///   - id: the function id. 100 and 101 are SIPC's connect and disconnect and are refused.
    ///   - name: a name for logs.
    ///   - inputs: the input types in wire order, e.g. `(Int32.self, WideString.self)`, or `()`.
    ///   - outputs: the output types in wire order, or `()`.
    @inlinable @_disfavoredOverload
    public init<each I: IPCParam, each O: IPCParam>(
        id: UInt32, name: String,
        inputs: (repeat (each I).Type), outputs: (repeat (each O).Type)
    ) where Inputs == (repeat each I), Outputs == (repeat each O) {
        self.init(
            checkedID: id, name: name,
            decodeInputs: { reader, result throws(SIPCError) in
                result.initialize(to: (repeat try (each I).read(from: &reader)))
            },
            encodeInputs: { values, writer throws(SIPCError) in
                repeat try (each values.pointee).write(to: &writer)
            },
            decodeOutputs: { reader, result throws(SIPCError) in
                result.initialize(to: (repeat try (each O).read(from: &reader)))
            },
            encodeOutputs: { values, writer throws(SIPCError) in
                repeat try (each values.pointee).write(to: &writer)
            })
    }

    /// The designated initialiser behind the public ones.
    @usableFromInline
    init(
        checkedID id: UInt32, name: String,
        decodeInputs: @escaping Decoder<Inputs>, encodeInputs: @escaping Encoder<Inputs>,
        decodeOutputs: @escaping Decoder<Outputs>, encodeOutputs: @escaping Encoder<Outputs>
    ) {
        precondition(
            id != SIPCConstants.connectFunctionID && id != SIPCConstants.disconnectFunctionID,
            "function ids 100 and 101 are SIPC's connect and disconnect")
        self.id = id
        self.name = name
        decodeInputsBody = decodeInputs
        encodeInputsBody = encodeInputs
        decodeOutputsBody = decodeOutputs
        encodeOutputsBody = encodeOutputs
    }

    /// Writes the input values (without the frame's id and marker).
    @inlinable
    public func encodeInputs(_ inputs: Inputs, to writer: inout ParamWriter) throws(SIPCError) {
        try Self.encode(inputs, with: encodeInputsBody, to: &writer)
    }

    /// Reads the input values (without the frame's id and marker).
    @inlinable
    public func decodeInputs(from reader: inout ParamReader) throws(SIPCError) -> Inputs {
        try Self.decode(with: decodeInputsBody, from: &reader)
    }

    /// Writes the output values (without the section's id and marker).
    @inlinable
    public func encodeOutputs(_ outputs: Outputs, to writer: inout ParamWriter) throws(SIPCError) {
        try Self.encode(outputs, with: encodeOutputsBody, to: &writer)
    }

    /// Reads the output values (without the section's id and marker).
    @inlinable
    public func decodeOutputs(from reader: inout ParamReader) throws(SIPCError) -> Outputs {
        try Self.decode(with: decodeOutputsBody, from: &reader)
    }

    @inlinable
    static func encode<Values>(
        _ values: Values, with body: Encoder<Values>, to writer: inout ParamWriter
    ) throws(SIPCError) {
        try withUnsafePointer(to: values) { pointer throws(SIPCError) in try body(pointer, &writer) }
    }

    @inlinable
    static func decode<Values>(with body: Decoder<Values>, from reader: inout ParamReader) throws(SIPCError) -> Values {
        try withUnsafeTemporaryAllocation(of: Values.self, capacity: 1) { buffer throws(SIPCError) in
            let result = buffer.baseAddress.unsafelyUnwrapped
            try body(&reader, result)
            return result.move()
        }
    }
}
