import SIPC
import Testing

/// Bytes from a hex string; spaces and line breaks are ignored.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd hex string")
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

extension SharedBuffer {
    /// A copy of `range` of the data area.
    func bytes(_ range: Range<Int>) -> [UInt8] {
        (range).map { data.load(fromByteOffset: $0, as: UInt8.self) }
    }

    /// Puts `bytes` at `offset` of the data area and raises the tail past them, as a peer would.
    func place(_ bytes: [UInt8], at offset: Int) throws {
        try seek(.set, offset)
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// Writes one value and reads it back, returning the value and the bytes it took.
func roundTrip<T: IPCParam>(_ value: T, capacity: Int = 1 << 16) throws -> (T, [UInt8]) {
    let memory = try OwnedSharedMemory(capacity: capacity)
    let buffer = memory.buffer
    var writer = try buffer.writer(from: 0, limit: capacity)
    try value.write(to: &writer)
    try buffer.commit(writer)
    var reader = try buffer.reader(from: 0, limit: capacity)
    let back = try T.read(from: &reader)
    #expect(reader.position == writer.position, "read \(reader.position) bytes, wrote \(writer.position)")
    return (back, buffer.bytes(0..<writer.position))
}

/// The SOUI4 ipcdemo protocol (spec §9 and the demo's protocol.h).
enum Demo {
    static let addInt = IPCFunction(id: 102, name: "AddInt", inputs: (Int32.self, Int32.self), outputs: Int32.self)
    static let addString = IPCFunction(
        id: 103, name: "AddString", inputs: (WideString.self, WideString.self), outputs: WideString.self)
    static let sayHello = IPCFunction(id: 104, name: "SayHello", inputs: WideString.self, outputs: ())
    static let sum = IPCFunction(id: 105, name: "Sum", inputs: Int32.self, outputs: Int32.self)
}
