import Foundation
import Testing

@testable import SIPCHost

/// ``ShimRing`` without Wine: what it writes is read back here the way `ring.c` reads it.
@Suite("Host → shim ring")
struct ShimRingTests {
    /// A fresh `/dev/shm` name of this test process.
    static func name() -> String {
        SharedFileMapping.serverFilePrefix(pid: getpid()) + "ringtest-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Reads the ring as the shim does: entries from `head` to the tail, each header checked.
    struct Reader {
        let file: SharedFileMapping
        var head: UInt32 = 0
        var capacity: Int { Int(u32(at: 4)) }
        func u32(at offset: Int) -> UInt32 { file.pointer.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        func byte(_ at: UInt32) -> UInt8 { file.bytes[256 + Int(at) & (capacity - 1)] }
        func u32(data at: UInt32) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(byte(at &+ UInt32($1))) << (8 * $1) } }

        /// The next entry's pipe count and frame, or nil when nothing is published; advances the head field.
        mutating func next() throws -> (pipeBefore: UInt32, frame: PipeFrame)? {
            let tail = u32(at: 64)
            guard tail != head else { return nil }
            let size = u32(data: head)
            let pipeBefore = u32(data: head &+ 4)
            #expect(size % 8 == 0 && size >= 20 && tail &- head >= size)
            let bytes = (0..<Int(size) - 8).map { byte(head &+ 8 &+ UInt32($0)) }
            var decoder = PipeFrameDecoder()
            let frameSize = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
            decoder.append(bytes[0..<(4 + frameSize)])
            let frame = try #require(try decoder.nextFrame())
            #expect(bytes[(4 + frameSize)...].allSatisfy { $0 == 0 }, "padding is zeros")
            head &+= size
            file.pointer.storeBytes(of: head, toByteOffset: 128, as: UInt32.self)
            return (pipeBefore, frame)
        }
    }

    @Test("a fresh ring: magic, capacity, empty; the file goes with closeAndRemove")
    func layout() throws {
        let name = Self.name()
        let ring = try ShimRing(file: name, capacity: 4096)
        let file = try SharedFileMapping(file: name)
        defer { file.close(unlink: false) }
        #expect(file.size == 256 + 4096)
        #expect(Array(file.bytes[0..<4]) == Array("SPRG".utf8))
        #expect(file.pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self) == 4096)
        #expect(file.pointer.loadUnaligned(fromByteOffset: 64, as: UInt32.self) == 0)
        ring.closeAndRemove()
        #expect(access("/dev/shm/" + name, F_OK) != 0)
        #expect(throws: BridgeError.self) { _ = try ShimRing(file: Self.name(), capacity: 5000) }
        #expect(throws: BridgeError.self) { _ = try ShimRing(file: "../etc", capacity: 4096) }
    }

    @Test("entries wrap around the end byte-exact, with the pipe count, until the ring is full; too large goes to the pipe")
    func wrapAndFull() throws {
        let name = Self.name()
        let ring = try ShimRing(file: name, capacity: 4096)
        defer { ring.closeAndRemove() }
        var reader = Reader(file: try SharedFileMapping(file: name))
        defer { reader.file.close(unlink: false) }
        #expect(ring.maxEntry == 1024)
        var sent: [PipeFrame] = []
        for round in 0..<200 {
            let count = (round * 37) % 900
            let frame = PipeFrame(
                type: .reply, tag: UInt32(round + 1), payload: (0..<count).map { UInt8(truncatingIfNeeded: $0 &+ round) })
            let sleeping = ring.publish(
                header: try frame.encodedHeader(), payload: frame.payload, pipeFramesBefore: UInt32(round))
            #expect(sleeping == false)
            sent.append(frame)
            if round % 3 == 2 {  // the shim reads every third round: the ring fills and wraps
                while let (before, got) = try reader.next() {
                    let expected = sent.removeFirst()
                    #expect(got == expected)
                    #expect(before == expected.tag - 1)
                }
            }
        }
        // Full: publish refuses (nil) until the reader makes room.
        var refused = false
        for k in 0..<10 {
            let frame = PipeFrame(type: .reply, tag: 9000 + UInt32(k), payload: [UInt8](repeating: 7, count: 1000))
            if ring.publish(header: try frame.encodedHeader(), payload: frame.payload, pipeFramesBefore: 0) == nil {
                refused = true
                break
            }
        }
        #expect(refused, "a 4 KiB ring takes at most four 1 KiB entries")
        let big = PipeFrame(type: .reply, tag: 1, payload: [UInt8](repeating: 1, count: 1100))
        while try reader.next() != nil {}
        #expect(ring.publish(header: try big.encodedHeader(), payload: big.payload, pipeFramesBefore: 0) == nil)
    }

    @Test("publish says when the shim may sleep (it must then be woken through the pipe), once per sleep")
    func sleeping() throws {
        let name = Self.name()
        let ring = try ShimRing(file: name, capacity: 4096)
        defer { ring.closeAndRemove() }
        let file = try SharedFileMapping(file: name)
        defer { file.close(unlink: false) }
        let frame = PipeFrame(type: .reply, tag: 1, payload: [1, 2, 3])
        file.pointer.storeBytes(of: UInt32(1), toByteOffset: 192, as: UInt32.self)
        #expect(ring.publish(header: try frame.encodedHeader(), payload: frame.payload, pipeFramesBefore: 0) == true)
        // One doorbell per sleep: the host took the flag.
        #expect(file.pointer.loadUnaligned(fromByteOffset: 192, as: UInt32.self) == 0)
        #expect(ring.publish(header: try frame.encodedHeader(), payload: frame.payload, pipeFramesBefore: 0) == false)
        // A head beyond the tail (a broken shim) reads as "full": frames then go through the pipe.
        file.pointer.storeBytes(of: UInt32(999_999), toByteOffset: 128, as: UInt32.self)
        #expect(ring.publish(header: try frame.encodedHeader(), payload: frame.payload, pipeFramesBefore: 0) == nil)
    }
}
