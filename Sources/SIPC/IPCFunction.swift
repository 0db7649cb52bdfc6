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
    @usableFromInline let decodeInputsBody: @Sendable (inout ParamReader) throws(SIPCError) -> Inputs
    @usableFromInline let encodeInputsBody: @Sendable (Inputs, inout ParamWriter) throws(SIPCError) -> Void
    @usableFromInline let decodeOutputsBody: @Sendable (inout ParamReader) throws(SIPCError) -> Outputs
    @usableFromInline let encodeOutputsBody: @Sendable (Outputs, inout ParamWriter) throws(SIPCError) -> Void

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
        precondition(
            id != SIPCConstants.connectFunctionID && id != SIPCConstants.disconnectFunctionID,
            "function ids 100 and 101 are SIPC's connect and disconnect")
        self.id = id
        self.name = name
        decodeInputsBody = { reader throws(SIPCError) in (repeat try (each I).read(from: &reader)) }
        encodeInputsBody = { values, writer throws(SIPCError) in
            repeat try (each values).write(to: &writer)
        }
        decodeOutputsBody = { reader throws(SIPCError) in (repeat try (each O).read(from: &reader)) }
        encodeOutputsBody = { values, writer throws(SIPCError) in
            repeat try (each values).write(to: &writer)
        }
    }

    /// The designated initialiser behind the public ones.
    @usableFromInline
    init(
        checkedID id: UInt32, name: String,
        decodeInputs: @escaping @Sendable (inout ParamReader) throws(SIPCError) -> Inputs,
        encodeInputs: @escaping @Sendable (Inputs, inout ParamWriter) throws(SIPCError) -> Void,
        decodeOutputs: @escaping @Sendable (inout ParamReader) throws(SIPCError) -> Outputs,
        encodeOutputs: @escaping @Sendable (Outputs, inout ParamWriter) throws(SIPCError) -> Void
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
        try encodeInputsBody(inputs, &writer)
    }

    /// Reads the input values (without the frame's id and marker).
    @inlinable
    public func decodeInputs(from reader: inout ParamReader) throws(SIPCError) -> Inputs {
        try decodeInputsBody(&reader)
    }

    /// Writes the output values (without the section's id and marker).
    @inlinable
    public func encodeOutputs(_ outputs: Outputs, to writer: inout ParamWriter) throws(SIPCError) {
        try encodeOutputsBody(outputs, &writer)
    }

    /// Reads the output values (without the section's id and marker).
    @inlinable
    public func decodeOutputs(from reader: inout ParamReader) throws(SIPCError) -> Outputs {
        try decodeOutputsBody(&reader)
    }
}
