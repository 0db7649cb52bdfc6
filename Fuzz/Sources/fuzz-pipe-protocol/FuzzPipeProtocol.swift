// libFuzzer target: the pipe protocol as the host receives it. The shim's stdout is a hostile byte stream;
// the host must cut it into frames the same way however it arrives, decode every payload with a typed error
// or a value that survives a round trip, and its call loop must end every exchange in a defined state: no
// trap, no hang (the transport ends after the input), no memory error (AddressSanitizer).
//
// Input layout:
//   u8 mode    bits 0-2: the read size the stream arrives in (1, 2, 3, 7, 12, 64, 4096, all at once);
//              bit 3: put a valid HELLO in front, so that the call loop gets past the handshake;
//              bits 4-7: which host script runs against the frames
//   rest       the bytes the shim wrote
import FuzzSupport
import SIPC
import SIPCHost

/// Cuts `stream` into frames, fed `chunk` bytes at a time. Returns the frames and the error that stopped the
/// decoder, if any, after checking that the decoder stays failed.
func frames(of stream: [UInt8], chunk: Int) -> ([PipeFrame], PipeProtocolError?) {
    var decoder = PipeFrameDecoder()
    var frames: [PipeFrame] = []
    var offset = 0
    repeat {
        let end = min(stream.count, offset + chunk)
        decoder.append(stream[offset..<end])
        offset = end
        do {
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        } catch {
            do {
                _ = try decoder.nextFrame()
                fuzzCheck(false, "the decoder recovered after \(error)")
            } catch let again {
                fuzzCheck(again == error, "the decoder's second error \(again) differs from \(error)")
            }
            return (frames, error)
        }
    } while offset < stream.count
    return (frames, nil)
}

/// Decodes `payload` as `P`; a decoded value must encode and decode to itself.
func check<P: PipePayload>(_: P.Type, _ payload: [UInt8], _ frame: FrameType) {
    guard let value = try? P(decoding: payload, frame: frame) else { return }
    do {
        let again = try P(decoding: try value.encoded(), frame: frame)
        fuzzCheck(again == value, "\(P.self) does not round-trip: \(value) -> \(again)")
    } catch {
        fuzzCheck(false, "\(P.self) decoded \(value) but its encoding fails: \(error)")
    }
}

/// Every payload decoder of the protocol, requests and results alike, on one payload.
func decodeEverything(_ frame: PipeFrame) {
    let payload = frame.payload
    let type = frame.type
    check(Pipe.Hello.self, payload, type)
    check(Pipe.HelloAck.self, payload, type)
    check(Pipe.ReasonText.self, payload, type)
    check(Pipe.Reply.self, payload, type)
    check(Pipe.Empty.self, payload, type)
    check(Pipe.LResult.self, payload, type)
    check(Pipe.SendResult.self, payload, type)
    check(Pipe.CreatedHandle.self, payload, type)
    check(Pipe.Window.self, payload, type)
    check(Pipe.Flag.self, payload, type)
    check(Pipe.CreateWindow.self, payload, type)
    check(Pipe.CreateWindow.Result.self, payload, type)
    check(Pipe.DestroyWindow.self, payload, type)
    check(Pipe.SendMessage.self, payload, type)
    check(Pipe.PostMessage.self, payload, type)
    check(Pipe.PostMessage.Result.self, payload, type)
    check(Pipe.SendCopyData.self, payload, type)
    check(Pipe.FindWindow.self, payload, type)
    check(Pipe.IsWindow.self, payload, type)
    check(Pipe.GetWindowThreadProcessId.self, payload, type)
    check(Pipe.GetWindowThreadProcessId.Result.self, payload, type)
    check(Pipe.CreateMapping.self, payload, type)
    check(Pipe.OpenMapping.self, payload, type)
    check(Pipe.OpenMapping.Result.self, payload, type)
    check(Pipe.ReadMapping.self, payload, type)
    check(Pipe.Data.self, payload, type)
    check(Pipe.WriteMapping.self, payload, type)
    check(Pipe.CreateEvent.self, payload, type)
    check(Pipe.OpenEvent.self, payload, type)
    check(Pipe.Handle.self, payload, type)
    check(Pipe.CloseHandle.self, payload, type)
    check(Pipe.GetProcessImage.self, payload, type)
    check(Pipe.CallMapped.self, payload, type)
    check(Pipe.CallMapped.Result.self, payload, type)
    check(Pipe.Text.self, payload, type)
    check(Pipe.MessageEvent.self, payload, type)
    check(Pipe.CopyDataEvent.self, payload, type)
    // The host's no-copy decoding of EV_COPYDATA accepts and refuses exactly what the plain one does.
    let decoded = try? Pipe.CopyDataEvent(decoding: payload, frame: .eventCopyData)
    let taken = try? Pipe.CopyDataEvent(taking: payload)
    fuzzCheck(decoded == taken, "CopyDataEvent(taking:) disagrees with init(decoding:) on \(payload.count) bytes")
    // A REPLY's result is decoded by the request's own Result type, reached through the reply's bytes.
    if case .ok(let result)? = try? Pipe.Reply(decoding: payload, frame: type) {
        check(Pipe.CreateWindow.Result.self, result, .reply)
        check(Pipe.CallMapped.Result.self, result, .reply)
        check(Pipe.SendResult.self, result, .reply)
    }
    // The frame itself re-encodes to bytes that decode to the same frame.
    do {
        var decoder = PipeFrameDecoder()
        decoder.append(try frame.encoded())
        let again = try decoder.nextFrame()
        fuzzCheck(again == frame, "\(frame) does not round-trip")
        fuzzCheck(decoder.bufferedByteCount == 0, "\(frame) left bytes behind")
    } catch {
        fuzzCheck(false, "\(frame) was decoded but does not re-encode: \(error)")
    }
}

/// The shim's side of the pipe, played from a list: each `receive` returns the next decoded frame, then the
/// decoder's error (if the stream broke), then the shim's exit; after that the deadline passes at once.
final class ReplayTransport: BridgeTransport {
    private var events: [TransportEvent]
    private var next = 0
    private(set) var sent: [PipeFrame] = []
    private var outputClosed = false

    init(_ frames: [PipeFrame], failure: PipeProtocolError?) {
        events = frames.map { .frame($0) }
        if let failure { events.append(.failed(.protocolViolation(failure))) }
        events.append(.exited(.exited(0)))
    }

    var drained: Bool { next == events.count }

    func send(_ frame: PipeFrame) throws(BridgeError) {
        guard !outputClosed else { throw .io(operation: "write to the replayed shim (closed)", errno: 32) }
        // What the host writes must itself be a valid frame.
        do {
            var decoder = PipeFrameDecoder()
            decoder.append(try frame.encoded())
            let decoded = try decoder.nextFrame()
            fuzzCheck(decoded == frame, "the host sent a frame that does not decode: \(frame)")
        } catch {
            fuzzCheck(false, "the host sent a frame that breaks the framing rules: \(error)")
        }
        sent.append(frame)
    }

    func receive(deadline: ContinuousClock.Instant?) -> TransportEvent? {
        guard next < events.count else {
            return deadline == nil ? .failed(.timedOut("the replayed shim has nothing more")) : nil
        }
        defer { next += 1 }
        return events[next]
    }

    func closeOutput() { outputClosed = true }

    func terminate() {}
}

let window = WindowHandle(rawValue: 0x10010)
let mapping = ShimHandle(rawValue: 0x44)

/// The host's side: handlers for the windows the seeds use and a few requests, some nested inside handlers,
/// some started together and finished out of order, one abandoned.
func playHost(_ transport: ReplayTransport, script: Int) {
    var configuration = BridgeConnection.Configuration()
    configuration.maxNestingDepth = 4
    guard let connection = try? BridgeConnection(transport: transport, configuration: configuration) else { return }
    connection.onMessage(0x8001, to: window) { _, message in Int64(bitPattern: message.wParam) }
    connection.onMessage(0x8002, to: window) { bridge, message in
        // A nested call from inside a handler.
        try bridge.isWindow(WindowHandle(rawValue: message.lParam)) ? 1 : 0
    }
    connection.onMessage(0x8003, to: window) { _, _ in throw BridgeError.closed }
    connection.onCopyData(to: window) { _, copy in Int64(copy.data.count) }
    connection.onPostedMessage(to: window) { bridge, _ in _ = try? bridge.isWindow(window) }

    for step in 0..<6 {
        guard connection.failure == nil, !transport.drained else { break }
        do {
            switch (script + step) % 8 {
            case 0: _ = try connection.isWindow(window)
            case 1:
                _ = try connection.createWindow(
                    kind: .messageOnly, className: "Fuzz", title: "", relaying: [0x8001, 0x8002, 0x004A])
            case 2: _ = try connection.sendMessage(to: window, message: 0x8001, wParam: 1, lParam: 2)
            case 3:
                let first = try connection.start(Pipe.IsWindow(hwnd: window))
                let second = try connection.start(Pipe.ReadMapping(handle: mapping, offset: 0, length: 16))
                _ = try connection.finish(second)
                _ = try connection.finish(first)
            case 4:
                let abandoned = try connection.start(Pipe.GetProcessImage(processId: 32))
                connection.abandon(abandoned)
                _ = try connection.openMapping(name: "Local\\fuzz")
            case 5:
                _ = try connection.callMapped(
                    mapping, writing: [.init(offset: 0, data: [1, 2])], to: window, message: 0x8001,
                    reading: [.init(offset: 0, length: 4)])
            case 6: try connection.serve(until: { transport.drained })
            default: _ = try connection.sendCopyData(to: window, dwData: 7, bytes: [1, 2, 3])
            }
        } catch {}
    }
    try? connection.serve(until: { transport.drained })
    connection.shutdown(timeout: .zero)
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPipeProtocol(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    var stream = input.rest()
    if mode & 8 != 0 {
        stream = (try! PipeFrame(type: .hello, payload: Pipe.Hello(processId: 4242).bytes).encoded()) + stream
    }

    // Framing does not depend on how the bytes arrive.
    let chunk = [1, 2, 3, 7, 12, 64, 4096, max(1, stream.count)][Int(mode & 7)]
    let (received, failure) = frames(of: stream, chunk: chunk)
    let (whole, wholeFailure) = frames(of: stream, chunk: max(1, stream.count))
    fuzzCheck(received == whole, "reads of \(chunk) bytes gave other frames than one read")
    fuzzCheck(failure == wholeFailure, "reads of \(chunk) bytes failed differently: \(String(describing: failure))")

    for frame in received { decodeEverything(frame) }
    playHost(ReplayTransport(received, failure: failure), script: Int(mode >> 4))
    return 0
}
