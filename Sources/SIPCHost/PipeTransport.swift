import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The real transport: frames over the shim's standard input and output.
///
/// **Threads.** A dedicated reader thread reads the shim's stdout (`poll` + `read`, any chunk size), feeds a
/// ``PipeFrameDecoder`` and posts each frame to a ``TransportInbox``. The child's watcher thread reports the
/// exit; the `exited` event is posted only once the reader has drained everything the shim wrote (the reader
/// notices a dead process whose pipe has gone quiet), so a final `REPLY` or `GOODBYE` is never lost. EOF is not
/// needed and not trusted: Wine helpers may hold the write end open.
///
/// **File descriptors.** The transport owns both descriptors passed to it, on success and on failure:
/// `outputFD` (read end of the shim's stdout) is closed by the reader thread when it stops; `inputFD` (write end
/// of the shim's stdin) is closed by ``closeOutput()`` or, at the latest, by `deinit`.
public final class PipeTransport: BridgeTransport, @unchecked Sendable {
    /// The shim process this transport talks to.
    public let process: ChildProcess
    private let inbox = TransportInbox()
    private let logger: Logger
    // Guarded by `writeLock`.
    private let writeLock = NSLock()
    private var inputFD: Int32

    /// Starts reading from the shim.
    /// - Parameters:
    ///   - process: The running shim.
    ///   - inputFD: The write end of the shim's stdin; owned by the transport from now on.
    ///   - outputFD: The read end of the shim's stdout; owned by the transport from now on.
    ///   - logger: Where to log; by default nowhere.
    public init(
        process: ChildProcess, inputFD: Int32, outputFD: Int32,
        logger: Logger = Logger(label: "sipb.transport", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.process = process
        self.inputFD = inputFD
        self.logger = logger
        let reader = PipeReader(fd: outputFD, process: process, inbox: inbox, logger: logger)
        let thread = Thread { reader.run() }
        thread.name = "sipb-read-\(process.pid)"
        thread.start()
    }

    deinit { closeOutput() }

    public func send(_ frame: PipeFrame) throws(BridgeError) {
        let header: [UInt8]
        do { header = try frame.encodedHeader() } catch { throw .invalidArgument(error.description) }
        writeLock.lock()
        defer { writeLock.unlock() }
        guard inputFD >= 0 else { throw .io(operation: "write to shim (pipe closed)", errno: EBADF) }
        try writeAll(header, frame.payload)
    }

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
                if errno == EINTR { continue }
                throw .io(operation: "write to shim", errno: errno)
            }
            let fromHeader = min(written, header.count - headerDone)
            headerDone += fromHeader
            payloadDone += written - fromHeader
        }
    }

    public func receive(deadline: ContinuousClock.Instant?) -> TransportEvent? {
        inbox.next(deadline: deadline)
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

/// The reader thread's state: the fd it owns and the decoder.
private final class PipeReader: @unchecked Sendable {
    let fd: Int32
    let process: ChildProcess
    let inbox: TransportInbox
    let logger: Logger
    // Touched only by the reader thread.
    var decoder = PipeFrameDecoder()

    init(fd: Int32, process: ChildProcess, inbox: TransportInbox, logger: Logger) {
        (self.fd, self.process, self.inbox, self.logger) = (fd, process, inbox, logger)
    }

    /// Reads until the shim has exited and its output is drained, EOF, or a framing error; then waits for the
    /// exit and posts `exited` last.
    func run() {
        defer { close(fd) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 1)
        defer { chunk.deallocate() }
        reading: while true {
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollFD, 1, 20)
            if ready < 0 {
                if errno == EINTR { continue }
                inbox.post(.failed(.io(operation: "poll shim stdout", errno: errno)))
                break
            }
            if ready == 0 {
                if process.exitStatus != nil { break }  // dead and quiet: everything it wrote was read
                continue
            }
            let count = read(fd, chunk.baseAddress, chunk.count)
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                inbox.post(.failed(.io(operation: "read shim stdout", errno: errno)))
                break
            }
            if count == 0 { break }  // EOF: the shim closed stdout (or died); the exit status decides the rest
            decoder.append(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
            do {
                while let frame = try decoder.nextFrame() { inbox.post(.frame(frame)) }
            } catch {
                logger.error("bad frame from the shim", metadata: ["error": "\(error)"])
                inbox.post(.failed(.protocolViolation(error)))
                break reading
            }
        }
        if decoder.bufferedByteCount > 0 {
            logger.debug("shim output ended inside a frame", metadata: ["bytes": "\(decoder.bufferedByteCount)"])
        }
        let status = process.waitForExit(timeout: nil) ?? .signaled(0)
        inbox.post(.exited(status))
    }
}
