import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The real transport: frames over the shim's standard input and output.
///
/// **Threads.** There is no reader thread: ``receive(deadline:)`` reads the shim's stdout on the calling thread
/// (the call loop), so a frame goes from the pipe to the caller without a hand-off between threads. It `poll`s
/// two descriptors, the stdout pipe and an *exit doorbell* (a pipe whose only write end is closed by the child's
/// watcher thread once the process has been reaped, see ``ChildProcess/onExit(_:)``), `read`s whatever is
/// there into a ``PipeFrameDecoder`` and returns one event. Only one thread may be inside ``receive(deadline:)``
/// at a time (calls are serialised by a lock; the call loop is the only caller). ``send(_:)``,
/// ``closeOutput()`` and ``terminate()`` may be called from any thread.
///
/// **Order of events.** Every frame the shim wrote before it exited is delivered before `exited`: the doorbell
/// rings only after the process has ended, when all its writes are in the pipe, and `receive` then reads the
/// pipe until it is empty before it reports the exit. The exit is taken from the process status, never from
/// EOF (Wine helpers may keep the write end open); EOF only stops the reading. A malformed stream yields
/// `failed(.protocolViolation)` after the frames before it; then only `exited` follows. After `exited`,
/// `receive` returns `nil` at its deadline (with no deadline it returns the same `exited` again rather than
/// hang).
///
/// **File descriptors.** The transport owns both descriptors passed to it, on success and on failure:
/// `outputFD` (read end of the shim's stdout, made non-blocking) is closed by ``receive(deadline:)`` when it
/// delivers `exited`, or at the latest by `deinit`; `inputFD` (write end of the shim's stdin) is closed by
/// ``closeOutput()`` or, at the latest, by `deinit`. The doorbell's read end is the transport's (closed with
/// `outputFD`); its write end belongs to the exit handler registered on ``process``, which closes it when the
/// process ends (if the transport is dropped first, that end stays open until then).
public final class PipeTransport: BridgeTransport, @unchecked Sendable {
    /// The shim process this transport talks to.
    public let process: ChildProcess
    private let logger: Logger
    // Guarded by `writeLock`.
    private let writeLock = NSLock()
    private var inputFD: Int32
    /// The host → shim ring, until the shim's `HELLO` says whether it reads it (then kept, or closed).
    private var ring: ShimRing?
    /// Whether frames may go into the ring (the shim's `HELLO` had `SIPB_HELLO_RING`).
    private var ringActive = false
    /// Frames written to the pipe so far, doorbells not counted: each ring entry records it.
    private var pipeFramesSent: UInt32 = 0
    // Guarded by `receiveLock`, like `reader`.
    private var helloSeen = false
    /// The shim → host upload area, until the shim's `HELLO` says whether it uses it (then kept, or closed).
    private var upload: ShimUpload?
    /// Whether the shim's `HELLO` had `SIPB_HELLO_UPLOAD` (and we offered an area).
    private var uploadActive = false
    /// The ring's file name under `/dev/shm` (removed once the shim's `HELLO` came), for tests.
    let ringFileName: String?
    /// The upload area's file name under `/dev/shm` (removed once the shim's `HELLO` came), for tests.
    let uploadFileName: String?
    // Guarded by `receiveLock`: the state of the receiving side, touched only by `receive` and `deinit`.
    private let receiveLock = NSLock()
    /// The thread that passes the shim's stderr to the logger (``ShimLogDestination/logger(_:)``), until
    /// `exited` has waited for its last line.
    private var logForwarder: LineForwarder?
    private var reader: PipeReader

    /// Prepares to talk to the shim.
    /// - Parameters:
    ///   - process: The running shim.
    ///   - inputFD: The write end of the shim's stdin; owned by the transport from now on.
    ///   - outputFD: The read end of the shim's stdout; owned by the transport from now on.
    ///   - logger: Where to log; by default nowhere.
    public convenience init(
        process: ChildProcess, inputFD: Int32, outputFD: Int32,
        logger: Logger = Logger(label: "sipb.transport", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.init(
            process: process, inputFD: inputFD, outputFD: outputFD, ring: nil, upload: nil, logForwarder: nil,
            logger: logger)
    }

    /// Prepares to talk to the shim, with the ring (`SIPB_SHIM_RING`) and the upload area (`SIPB_SHIM_UPLOAD`)
    /// the shim was told about; the transport owns them and removes their files.
    init(
        process: ChildProcess, inputFD: Int32, outputFD: Int32, ring: ShimRing?, upload: ShimUpload?,
        logForwarder: LineForwarder? = nil, logger: Logger
    ) {
        self.process = process
        self.logForwarder = logForwarder
        self.inputFD = inputFD
        self.logger = logger
        self.ring = ring
        ringFileName = ring?.fileName
        self.upload = upload
        uploadFileName = upload?.fileName
        reader = PipeReader(fd: outputFD, process: process, logger: logger)
    }

    deinit {
        closeOutput()
        reader.release()
        ring?.closeAndRemove()
        upload?.closeAndRemove()
    }

    /// Whether launches give the shim a ring by default: unless the environment variable `SIPB_RING` is `0`.
    public static var ringWantedByEnvironment: Bool { ProcessInfo.processInfo.environment["SIPB_RING"] != "0" }

    /// Whether launches give the shim an upload area by default: unless the environment variable `SIPB_UPLOAD`
    /// is `0`.
    public static var uploadWantedByEnvironment: Bool { ProcessInfo.processInfo.environment["SIPB_UPLOAD"] != "0" }

    /// Whether the shim puts large `WM_COPYDATA` bytes in the upload area rather than in the pipe.
    public var usesUploadArea: Bool {
        receiveLock.lock()
        defer { receiveLock.unlock() }
        return uploadActive
    }

    /// Copies the bytes of an `EV_COPYDATA_UPLOADED` out of the upload area and gives the area back to the shim.
    /// - Throws: ``PipeProtocolError`` when the shim has no upload area, the length is over its capacity or the
    ///   shim had not claimed it.
    public func takeUpload(length: UInt32, into bytes: inout [UInt8]) throws(PipeProtocolError) {
        receiveLock.lock()
        defer { receiveLock.unlock() }
        guard uploadActive, let upload else {
            throw .unexpectedFrame(type: .eventCopyDataUploaded, tag: 0, why: "the shim has no upload area")
        }
        try upload.take(length: length, into: &bytes)
    }

    /// Whether frames to the shim go through the ring (when they fit) rather than all through the pipe.
    public var usesRing: Bool {
        writeLock.lock()
        defer { writeLock.unlock() }
        return ringActive
    }

    public func send(_ frame: PipeFrame) throws(BridgeError) {
        let header: [UInt8]
        do { header = try frame.encodedHeader() } catch { throw .invalidArgument(error.description) }
        writeLock.lock()
        defer { writeLock.unlock() }
        guard inputFD >= 0 else { throw .io(operation: "write to shim (pipe closed)", errno: EBADF) }
        if ringActive, let ring,
            let sleeping = ring.publish(header: header, payload: frame.payload, pipeFramesBefore: pipeFramesSent)
        {
            if sleeping { try writeAll(Self.doorbell, []) }
            return
        }
        try writeAll(header, frame.payload)
        pipeFramesSent &+= 1
    }

    /// A `DOORBELL` frame: type 6, flags 0, tag 0, no payload.
    private static let doorbell: [UInt8] = [8, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]

    private func writeAll(_ header: [UInt8], _ payload: [UInt8]) throws(BridgeError) {
        var headerDone = 0
        var payloadDone = 0
        while headerDone < header.count || payloadDone < payload.count {
            let written = header.withUnsafeBytes { h in
                payload.withUnsafeBytes { p in
                    var vectors = [
                        iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: h.baseAddress.map { $0 + headerDone }),
                            iov_len: h.count - headerDone),
                        iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: p.baseAddress.map { $0 + payloadDone }),
                            iov_len: p.count - payloadDone),
                    ]
                    return writev(inputFD, &vectors, 2)
                }
            }
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                // No reader is left: the shim has exited, or its exit is under way (its descriptors close before
                // it is reaped). Say so, rather than leave the caller with an errno.
                if code == EPIPE, let status = process.waitForExit(timeout: .seconds(1)) { throw .shimExited(status) }
                throw .io(operation: "write to shim", errno: code)
            }
            let fromHeader = min(written, header.count - headerDone)
            headerDone += fromHeader
            payloadDone += written - fromHeader
        }
    }

    /// Reads the shim's stdout on the calling thread until an event is ready or `deadline` passes.
    ///
    /// A frame that is already in the pipe is returned even when the deadline has passed.
    public func receive(deadline: ContinuousClock.Instant?) -> TransportEvent? {
        receiveLock.lock()
        defer { receiveLock.unlock() }
        let event = reader.receive(deadline: deadline)
        if !helloSeen, case .frame(let frame)? = event, frame.type == .hello {
            helloSeen = true
            // A HELLO that does not decode fails the handshake anyway; its flags then count as 0.
            let flags = (try? Pipe.Hello(decoding: frame.payload, frame: .hello))?.flags ?? 0
            settleRing(helloFlags: flags)
            settleUpload(helloFlags: flags)
        }
        if case .exited? = event, let forwarder = logForwarder {
            // What the shim logged before it exited reaches the logger before its exit is reported. Its stderr
            // is drained once the pipe has been quiet for 50 ms (Wine helpers may hold it open): a bound, not a
            // hang, if one of them keeps writing.
            logForwarder = nil
            if !forwarder.waitUntilDone(timeout: .seconds(2)) {
                logger.warning("the shim's last log lines were not all forwarded before its exit was reported")
            }
        }
        return event
    }

    /// After the shim's `HELLO`: use the ring if the shim reads it, else drop it; its file goes either way (the
    /// shim has mapped it by now, or never will).
    private func settleRing(helloFlags flags: UInt32) {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard let ring else { return }
        if flags & ShimRing.Layout.helloFlag != 0 {
            ringActive = true
            ring.unlinkFile()
            logger.debug("the shim reads the ring", metadata: ["bytes": "\(ring.capacity)"])
        } else {
            ring.closeAndRemove()
            self.ring = nil
            logger.debug("the shim does not read the ring; every frame goes through the pipe")
        }
    }

    /// After the shim's `HELLO`: keep the upload area if the shim uses it, else drop it; its file goes either way.
    /// Called under `receiveLock`.
    private func settleUpload(helloFlags flags: UInt32) {
        guard let upload else { return }
        if flags & ShimUpload.Layout.helloFlag != 0 {
            uploadActive = true
            upload.unlinkFile()
            logger.debug("the shim uses the upload area", metadata: ["bytes": "\(upload.capacity)"])
        } else {
            upload.closeAndRemove()
            self.upload = nil
            logger.debug("the shim does not use the upload area; WM_COPYDATA bytes come through the pipe")
        }
    }

    public func closeOutput() {
        writeLock.lock()
        defer { writeLock.unlock() }
        if inputFD >= 0 {
            close(inputFD)
            inputFD = -1
        }
    }

    public func terminate() {
        process.signal(SIGKILL)
    }
}

/// The receiving side of a ``PipeTransport``: the stdout pipe, the exit doorbell, the decoder and where the
/// stream stands. Not thread-safe: the transport serialises access.
private struct PipeReader {
    /// The read end of the shim's stdout (non-blocking); -1 once closed.
    private var fd: Int32
    /// The read end of the exit doorbell; -1 once the exit is known, or when no doorbell could be made (then the
    /// exit status is checked at least every 20 ms instead).
    private var bell: Int32
    private let process: ChildProcess
    private let logger: Logger
    private var decoder = PipeFrameDecoder()
    private let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 1)
    /// Whether the pipe is still read (false after EOF, a read error, a framing error, or the final drain).
    private var reading = true
    /// A read error to report once the frames decoded before it are out.
    private var pendingFailure: BridgeError?
    /// Whether `failed` was delivered: no frame follows it.
    private var failed = false
    /// The process status, once the doorbell rang.
    private var exit: ProcessExitStatus?
    /// Whether `exited` was delivered.
    private var finished = false

    init(fd: Int32, process: ChildProcess, logger: Logger) {
        (self.fd, self.process, self.logger) = (fd, process, logger)
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        if let doorbell = try? makePipe() {
            bell = doorbell.read
            let ringer = doorbell.write
            // Runs on the watcher thread after the status is recorded (or here, if the process already ended).
            process.onExit { _ in close(ringer) }
        } else {
            bell = -1
            logger.warning("no exit doorbell (pipe failed); checking the shim's status every 20 ms")
        }
    }

    /// Closes the descriptors and frees the buffer; called once, by the transport's `deinit`.
    mutating func release() {
        closeDescriptors()
        chunk.deallocate()
    }

    private mutating func closeDescriptors() {
        if fd >= 0 { _ = close(fd) }
        if bell >= 0 { _ = close(bell) }
        (fd, bell) = (-1, -1)
    }

    mutating func receive(deadline: ContinuousClock.Instant?) -> TransportEvent? {
        while true {
            if finished { return afterEnd(deadline: deadline) }
            if !failed {
                do {
                    if let frame = try decoder.nextFrame() { return .frame(frame) }
                } catch {
                    logger.error("bad frame from the shim", metadata: ["error": "\(error)"])
                    (failed, reading) = (true, false)
                    return .failed(.protocolViolation(error))
                }
                if let pendingFailure {
                    failed = true
                    return .failed(pendingFailure)
                }
            }
            if let exit {
                if reading {
                    drain()
                    continue
                }
                if decoder.bufferedByteCount > 0 && !failed {
                    logger.debug(
                        "shim output ended inside a frame", metadata: ["bytes": "\(decoder.bufferedByteCount)"])
                }
                finished = true
                closeDescriptors()
                return .exited(exit)
            }
            if !waitAndRead(deadline: deadline) { return nil }
        }
    }

    /// Waits (`poll`) until the pipe has bytes, the doorbell rings or `deadline` passes, and reads what came.
    /// - Returns: False when the deadline passed with nothing new.
    private mutating func waitAndRead(deadline: ContinuousClock.Instant?) -> Bool {
        var timeout = Self.pollTimeout(until: deadline)
        if bell < 0 && (timeout < 0 || timeout > 20) { timeout = 20 }
        let (ready, outputEvents, bellEvents) = withUnsafeTemporaryAllocation(of: pollfd.self, capacity: 2) {
            fds -> (Int32, Int16, Int16) in
            var count = 0
            var outputIndex = -1
            var bellIndex = -1
            if reading {
                fds[count] = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                (outputIndex, count) = (count, count + 1)
            }
            if bell >= 0 {
                fds[count] = pollfd(fd: bell, events: Int16(POLLIN), revents: 0)
                (bellIndex, count) = (count, count + 1)
            }
            let ready = poll(fds.baseAddress, nfds_t(count), timeout)
            return (
                ready, outputIndex >= 0 ? fds[outputIndex].revents : 0, bellIndex >= 0 ? fds[bellIndex].revents : 0
            )
        }
        if ready < 0 {
            if errno == EINTR { return true }
            let error = BridgeError.io(operation: "poll shim stdout", errno: errno)
            // Stop reading; the exit is still learnt from the status (20 ms checks without the doorbell).
            if reading { (reading, pendingFailure) = (false, pendingFailure ?? error) }
            if bell >= 0 { _ = close(bell) }
            bell = -1
            return true
        }
        if bellEvents != 0 || bell < 0, let status = bell < 0 ? process.exitStatus : process.waitForExit(timeout: nil) {
            exit = status
            if bell >= 0 { _ = close(bell) }
            bell = -1
        }
        if outputEvents != 0 { readOnce() }
        if ready == 0, exit == nil, let deadline, ContinuousClock.now >= deadline { return false }
        return true
    }

    /// One `read` of what the pipe holds into the decoder.
    /// - Returns: The byte count, 0 at EOF or on an error (both stop the reading), -1 when nothing was there.
    @discardableResult
    private mutating func readOnce() -> Int {
        while true {
            let count = read(fd, chunk.baseAddress, chunk.count)
            if count > 0 {
                decoder.append(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
                return count
            }
            if count == 0 {
                reading = false  // EOF: the shim closed stdout (or died); the exit status decides the rest
                return 0
            }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return -1 }
            (reading, pendingFailure) = (false, .io(operation: "read shim stdout", errno: errno))
            return 0
        }
    }

    /// After the exit: reads everything the pipe holds now (all the shim wrote is there), then stops reading.
    /// Stops at the first short read, so a grandchild that keeps writing cannot hold the exit back.
    private mutating func drain() {
        while reading, readOnce() == chunk.count {}
        reading = false
    }

    /// After `exited`: nothing more comes.
    private func afterEnd(deadline: ContinuousClock.Instant?) -> TransportEvent? {
        guard let deadline else { return exit.map { .exited($0) } }
        while true {
            let timeout = Self.pollTimeout(until: deadline)
            if timeout <= 0 { return nil }
            _ = poll(nil, 0, timeout)
        }
    }

    /// Milliseconds from now to `deadline`, rounded up (so a wake-up is never early); -1 for no deadline.
    private static func pollTimeout(until deadline: ContinuousClock.Instant?) -> Int32 {
        guard let deadline else { return -1 }
        let left = ContinuousClock.now.duration(to: deadline)
        if left <= .zero { return 0 }
        let (seconds, attoseconds) = left.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let milliseconds = seconds * 1000 + (attoseconds + perMillisecond - 1) / perMillisecond
        return Int32(clamping: milliseconds)
    }
}
