/// Everything that can go wrong while encoding or decoding SIPC data.
///
/// Offsets are byte offsets into the shared buffer's data area (the bytes after the 12-byte header),
/// so an error points at the exact byte that was wrong. Nothing in this module traps on bad input:
/// every value that came from another process is checked and reported with one of these cases.
public enum SIPCError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Reading `needed` bytes at `offset` would pass the readable end (`available` bytes were left).
    case truncated(offset: Int, needed: Int, available: Int)
    /// Writing `needed` bytes at `offset` would pass the writable end (the slot or the capacity).
    case overflow(offset: Int, needed: Int, available: Int)
    /// A count or length prefix at `offset` was negative.
    case negativeCount(offset: Int, count: Int32)
    /// A count at `offset` asks for more elements than the remaining bytes could hold.
    case countTooLarge(offset: Int, count: Int, available: Int)
    /// A section marker (0xF0 / 0xF1) was not where the frame says it is.
    case badMarker(offset: Int, expected: UInt8, found: UInt8)
    /// A function id in the frame does not match the id it must repeat.
    case idMismatch(offset: Int, expected: UInt32, found: UInt32)
    /// A slot index (a v2 call's `wParam`) is not below the stack size.
    case slotOutOfRange(slot: Int, stackSize: Int)
    /// An outgoing call would need a slot past the stack (too many nested calls on this handle).
    case stackExhausted(depth: Int, stackSize: Int)
    /// A shared-buffer header field is inconsistent with the mapping (a tampered or foreign header).
    case badHeader(field: String, value: UInt32, limit: Int)
    /// A seek target lies outside the data area.
    case seekOutOfRange(target: Int, capacity: Int)
    /// A v1 frame's trailing length field does not describe a frame inside the buffer.
    case badFrameLength(offset: Int, length: Int32)
    /// The inputs of a v1 frame did not end exactly where its length field says.
    case frameLengthMismatch(offset: Int, expectedEnd: Int, actualEnd: Int)
    /// A configuration value (buffer size, stack size, mapping size) is unusable.
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case let .truncated(offset, needed, available):
            "truncated: need \(needed) bytes at offset \(offset), only \(available) readable"
        case let .overflow(offset, needed, available):
            "overflow: \(needed) bytes at offset \(offset) do not fit, only \(available) writable"
        case let .negativeCount(offset, count):
            "negative count \(count) at offset \(offset)"
        case let .countTooLarge(offset, count, available):
            "count \(count) at offset \(offset) exceeds the \(available) bytes left"
        case let .badMarker(offset, expected, found):
            "bad section marker at offset \(offset): expected 0x\(String(expected, radix: 16, uppercase: true)), found 0x\(String(found, radix: 16, uppercase: true))"
        case let .idMismatch(offset, expected, found):
            "function id mismatch at offset \(offset): expected \(expected), found \(found)"
        case let .slotOutOfRange(slot, stackSize):
            "slot \(slot) is outside the stack of \(stackSize) slots"
        case let .stackExhausted(depth, stackSize):
            "call stack exhausted: depth \(depth) with \(stackSize) slots"
        case let .badHeader(field, value, limit):
            "shared header field \(field) = \(value) exceeds its limit \(limit)"
        case let .seekOutOfRange(target, capacity):
            "seek to \(target) outside the data area of \(capacity) bytes"
        case let .badFrameLength(offset, length):
            "v1 frame length \(length) before offset \(offset) does not describe a frame in the buffer"
        case let .frameLengthMismatch(offset, expectedEnd, actualEnd):
            "v1 frame at offset \(offset): inputs end at \(actualEnd), the length field says \(expectedEnd)"
        case let .invalidConfiguration(reason):
            "invalid configuration: \(reason)"
        }
    }
}
