/// The fuzzer's input read front to back as parameters, the way a test reads a script: every read past the end
/// yields zeros, so any input, however short, describes one complete run.
public struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    /// Wraps libFuzzer's input (valid only during the call).
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
    }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - position }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// The next little-endian integer of `T`'s width (zero-filled past the end).
    public mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        var value: T = 0
        for index in 0..<MemoryLayout<T>.size { value |= T(truncatingIfNeeded: byte()) << (8 * index) }
        return value
    }

    /// A value in `0..<bound` taken from one byte (bound at most 256).
    public mutating func pick(_ bound: Int) -> Int { Int(byte()) % bound }

    /// The next `count` bytes (fewer at the end).
    public mutating func take(_ count: Int) -> [UInt8] {
        let count = max(0, min(count, remaining))
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] { take(remaining) }
}

/// Ends the process the way libFuzzer records a crash when a property the target checks does not hold, with the
/// reason on stderr (a `precondition` message can be lost in optimised builds).
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("fuzz property violated: \(message())") }
}
