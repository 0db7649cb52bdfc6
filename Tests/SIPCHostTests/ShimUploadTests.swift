import Foundation
import Testing

@testable import SIPCHost

/// ``ShimUpload`` and the call loop's `EV_COPYDATA_UPLOADED` without Wine: the test writes the area the way
/// `window.c` does (claim `busy`, fill, announce), through a second mapping of the same file.
@Suite("Shim → host upload area")
struct ShimUploadTests {
    static func name() -> String {
        SharedFileMapping.serverFilePrefix(pid: getpid()) + "uploadtest-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The shim's side of the area.
    struct ShimSide {
        let file: SharedFileMapping
        var busy: UInt32 {
            get { file.pointer.loadUnaligned(fromByteOffset: 64, as: UInt32.self) }
            nonmutating set { file.pointer.storeBytes(of: newValue, toByteOffset: 64, as: UInt32.self) }
        }
        /// Claims the area and copies `bytes` into it, as the shim does.
        func put(_ bytes: [UInt8]) {
            #expect(busy == 0, "the area is free before the shim claims it")
            busy = 1
            bytes.withUnsafeBytes { (file.pointer + 128).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
    }

    @Test("a fresh area: magic, capacity, free; the file goes with closeAndRemove; bad capacities and names refused")
    func layout() throws {
        let name = Self.name()
        let upload = try ShimUpload(file: name, capacity: 8192)
        let file = try SharedFileMapping(file: name)
        defer { file.close(unlink: false) }
        #expect(file.size == 128 + 8192)
        #expect(Array(file.bytes[0..<4]) == Array("SPUP".utf8))
        #expect(file.pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self) == 8192)
        #expect(ShimSide(file: file).busy == 0)
        upload.closeAndRemove()
        #expect(access("/dev/shm/" + name, F_OK) != 0)
        #expect(throws: BridgeError.self) { _ = try ShimUpload(file: Self.name(), capacity: 4095) }
        #expect(throws: BridgeError.self) { _ = try ShimUpload(file: Self.name(), capacity: (64 << 20) + 1) }
        #expect(throws: BridgeError.self) { _ = try ShimUpload(file: "../etc", capacity: 4096) }
    }

    @Test("take copies byte-exact, frees the area and reuses the buffer; a length over the capacity or an unclaimed area is refused")
    func take() throws {
        let name = Self.name()
        let upload = try ShimUpload(file: name, capacity: 64 << 10)
        defer { upload.closeAndRemove() }
        let file = try SharedFileMapping(file: name)
        defer { file.close(unlink: false) }
        let shim = ShimSide(file: file)
        var buffer: [UInt8] = []
        var storage: UnsafeRawPointer? = nil
        for (round, size) in [65536, 5000, 0, 65536].enumerated() {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ round) }
            shim.put(bytes)
            try upload.take(length: UInt32(size), into: &buffer)
            #expect(buffer == bytes, "round \(round)")
            #expect(shim.busy == 0, "the host frees the area once it has the bytes")
            let now = buffer.withUnsafeBytes { $0.baseAddress.map(UnsafeRawPointer.init) }
            if size > 0, let storage { #expect(now == storage, "round \(round): the same storage, no fresh memory") }
            if size > 0 { storage = now }
        }
        // A handler that kept the bytes keeps them: the next take does not write into its copy.
        let kept = buffer
        shim.put([UInt8](repeating: 7, count: 4096))
        try upload.take(length: 4096, into: &buffer)
        #expect(kept.count == 65536 && kept.first == UInt8(truncatingIfNeeded: 3))
        #expect(buffer == [UInt8](repeating: 7, count: 4096))
        // Over the capacity: refused, the area stays the shim's.
        shim.put([1])
        #expect(throws: PipeProtocolError.invalidValue(frame: .eventCopyDataUploaded, field: "length", value: 65537)) {
            try upload.take(length: 65537, into: &buffer)
        }
        #expect(shim.busy == 1)
        // Not claimed: refused.
        shim.busy = 0
        #expect(throws: PipeProtocolError.self) { try upload.take(length: 1, into: &buffer) }
        shim.busy = 2
        #expect(throws: PipeProtocolError.self) { try upload.take(length: 1, into: &buffer) }
    }

    /// A fake shim with an upload area, for the call loop.
    final class UploadingShim: BridgeTransport {
        let fake = FakeShim()
        let upload: ShimUpload
        let side: ShimSide
        init() throws {
            let name = ShimUploadTests.name()
            upload = try ShimUpload(file: name, capacity: 1 << 20)
            side = ShimSide(file: try SharedFileMapping(file: name))
        }
        deinit {
            side.file.close(unlink: false)
            upload.closeAndRemove()
        }
        func send(_ frame: PipeFrame) throws(BridgeError) { try fake.send(frame) }
        func receive(deadline: ContinuousClock.Instant?) -> TransportEvent? { fake.receive(deadline: deadline) }
        func closeOutput() { fake.closeOutput() }
        func terminate() { fake.terminate() }
        func takeUpload(length: UInt32, into bytes: inout [UInt8]) throws(PipeProtocolError) {
            try upload.take(length: length, into: &bytes)
        }
        /// Puts `data` in the area and queues `EV_COPYDATA_UPLOADED` for it; returns its tag.
        func uploaded(hwnd: WindowHandle, dwData: UInt64, data: [UInt8], tag: UInt32) -> UInt32 {
            side.put(data)
            let event = Pipe.CopyDataUploadedEvent(hwnd: hwnd, sender: .null, dwData: dwData, length: UInt32(data.count))
            fake.push(PipeFrame(type: .eventCopyDataUploaded, tag: tag, payload: event.bytes))
            return tag
        }
    }

    @Test("EV_COPYDATA_UPLOADED reaches the WM_COPYDATA handler with the area's bytes, one after another, kept data intact")
    func callLoop() throws {
        let shim = try UploadingShim()
        let connection = try BridgeConnection(transport: shim)
        let window = WindowHandle(rawValue: 0x1_0042)
        var seen: [(UInt64, [UInt8])] = []
        connection.onCopyData(to: window) { _, copy in
            seen.append((copy.dwData, copy.data))  // keeps every data: the next ones must not overwrite it
            return Int64(copy.data.count) + 1
        }
        let first = (0..<300_000).map { UInt8(truncatingIfNeeded: $0) }
        let second = [UInt8](repeating: 0xA5, count: 4096)
        let a = shim.uploaded(hwnd: window, dwData: 1, data: first, tag: 501)
        try connection.serve(until: { seen.count == 1 })
        #expect(shim.side.busy == 0)
        let b = shim.uploaded(hwnd: window, dwData: 2, data: second, tag: 502)
        try connection.serve(until: { seen.count == 2 })
        let replies = shim.fake.hostReplies
        #expect(replies[a] == .ok(Pipe.LResult(300_001).bytes))
        #expect(replies[b] == .ok(Pipe.LResult(4097).bytes))
        #expect(seen.map(\.0) == [1, 2])
        #expect(seen.first?.1 == first && seen.last?.1 == second)
    }
}
