import Foundation

/// What a transport delivers to the call loop.
public enum TransportEvent: Equatable, Sendable {
    /// A complete frame from the shim.
    case frame(PipeFrame)
    /// The shim process ended; every frame it wrote before was delivered first. Nothing follows.
    case exited(ProcessExitStatus)
    /// Receiving failed (bad framing, a read error). Only `exited` may follow.
    case failed(BridgeError)
}

/// The seam between the call loop and the shim: write a frame, receive the next event.
///
/// ``PipeTransport`` is the real one (pipes to `sipc-shim.exe` under Wine); tests use an in-memory fake.
/// The call loop uses a transport from one thread at a time: ``receive(deadline:)`` is called only by the call
/// loop's thread (``PipeTransport`` reads the pipe on that thread), and never by two threads at once.
/// ``terminate()`` may be called from any thread.
public protocol BridgeTransport: AnyObject {
    /// Writes one frame to the shim, blocking until it is all written.
    /// - Parameter frame: The frame.
    /// - Throws: ``BridgeError/io(operation:errno:)`` when the pipe is broken or closed.
    func send(_ frame: PipeFrame) throws(BridgeError)

    /// Waits for the next event. Called by the call loop's thread only.
    /// - Parameter deadline: When to give up; `nil` waits for as long as it takes. An event that is already
    ///   there is returned even when the deadline has passed.
    /// - Returns: The event, or `nil` when the deadline passed first.
    func receive(deadline: ContinuousClock.Instant?) -> TransportEvent?

    /// Closes the host → shim direction; later ``send(_:)`` calls throw. Idempotent.
    func closeOutput()

    /// Ends the shim by force (SIGKILL for a process). An `exited` event follows. Idempotent.
    func terminate()

    /// Copies the bytes of an `EV_COPYDATA_UPLOADED` frame out of the shim → host upload area into `bytes`
    /// (replacing its contents) and gives the area back to the shim. Called by the call loop's thread only.
    /// The default has no upload area and throws.
    /// - Throws: ``PipeProtocolError`` when there is no upload area, `length` is over its capacity, or the shim
    ///   had not claimed it.
    func takeUpload(length: UInt32, into bytes: inout [UInt8]) throws(PipeProtocolError)
}

extension BridgeTransport {
    public func takeUpload(length: UInt32, into bytes: inout [UInt8]) throws(PipeProtocolError) {
        throw .unexpectedFrame(type: .eventCopyDataUploaded, tag: 0, why: "the shim has no upload area")
    }
}

/// A thread-safe queue of transport events with a blocking, deadline-bounded take.
///
/// For transports whose events are produced on other threads: producers call ``post(_:)``; the call-loop
/// thread calls ``next(deadline:)``. ``PipeTransport`` does not use it (it reads the pipe on the call loop's
/// thread, which saves two thread wake-ups per frame).
public final class TransportInbox: @unchecked Sendable {
    // All state is guarded by `condition`.
    private let condition = NSCondition()
    private var events: [TransportEvent] = []
    private var head = 0

    /// Creates an empty inbox.
    public init() {}

    /// Appends an event and wakes a waiting receiver.
    public func post(_ event: TransportEvent) {
        condition.lock()
        events.append(event)
        condition.signal()
        condition.unlock()
    }

    /// Takes the oldest event, waiting until one arrives or `deadline` passes.
    /// - Parameter deadline: When to give up; `nil` waits indefinitely.
    /// - Returns: The event, or `nil` at the deadline.
    public func next(deadline: ContinuousClock.Instant?) -> TransportEvent? {
        condition.lock()
        defer { condition.unlock() }
        while head == events.count {
            if let deadline {
                if !condition.waitUnlessPast(deadline) { return nil }
            } else {
                condition.wait()
            }
        }
        let event = events[head]
        head += 1
        if head == events.count {
            events.removeAll(keepingCapacity: true)
            head = 0
        }
        return event
    }
}
