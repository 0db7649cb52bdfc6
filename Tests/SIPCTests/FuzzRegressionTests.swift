import SIPC
import Testing

/// Inputs the fuzzers (Fuzz/, `make fuzz`) found to trap, each reduced to the call that trapped. The fuzzer's
/// own input is kept in Fuzz/Corpus as `regress-*` and replayed by every fuzz run.
@Suite struct FuzzRegressionTests {
    /// `reader(from:limit:)` computed `end - start` for its error before checking `start`: a very negative start
    /// (or limit) overflowed and trapped instead of throwing.
    @Test(arguments: [Int.min, Int.min + 1, -1 << 62, -1])
    func readerFromANegativePositionThrows(position: Int) throws {
        let memory = try OwnedSharedMemory(capacity: 64)
        try memory.buffer.place([1, 2, 3, 4], at: 0)
        #expect(throws: SIPCError.seekOutOfRange(target: position, capacity: 4)) {
            _ = try memory.buffer.reader(from: position, limit: 64)
        }
    }

    @Test(arguments: [Int.min, -1, 0])
    func readerWithALimitBeforeThePositionThrows(limit: Int) throws {
        let memory = try OwnedSharedMemory(capacity: 64)
        try memory.buffer.place([1, 2, 3, 4], at: 0)
        #expect(throws: SIPCError.truncated(offset: 2, needed: 1, available: 0)) {
            _ = try memory.buffer.reader(from: 2, limit: limit)
        }
    }
}
