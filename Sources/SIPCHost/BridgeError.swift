/// How a child process ended.
public enum ProcessExitStatus: Equatable, Sendable, CustomStringConvertible {
    /// It called `exit` with this code.
    case exited(Int32)
    /// A signal ended it.
    case signaled(Int32)

    /// Decodes a `waitpid` status word.
    init(waitStatus status: Int32) {
        if status & 0x7F == 0 { self = .exited((status >> 8) & 0xFF) } else { self = .signaled(status & 0x7F) }
    }

    /// `exit code N` or `signal N`.
    public var description: String {
        switch self {
        case .exited(let code): "exit code \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}

/// Everything that can go wrong between the host and the shim, as seen by host code.
public enum BridgeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The shim process ended; every call that was waiting fails with this.
    case shimExited(ProcessExitStatus)
    /// The shim said `GOODBYE` (it is leaving); calls still waiting fail with this.
    case shimLeft(reason: ReasonCode, message: String)
    /// The host received bytes that break the protocol; it sent `PROTOCOL_ERROR` and closed the pipe.
    case protocolViolation(PipeProtocolError)
    /// The shim reported a `PROTOCOL_ERROR` about what the host sent.
    case peerProtocolError(reason: ReasonCode, message: String)
    /// A system call on the pipes or processes failed.
    case io(operation: String, errno: Int32)
    /// The shim answered a request with a status other than OK.
    case requestFailed(request: FrameType, status: ReplyStatus, lastError: UInt32?, message: String)
    /// A request was made while `limit` calls were already nested on the call-loop thread.
    case nestingLimitExceeded(limit: Int)
    /// Nothing arrived in time.
    case timedOut(String)
    /// The host already shut this connection down.
    case closed
    /// An argument cannot be sent (a string too long, a file name with forbidden characters, …).
    case invalidArgument(String)
    /// Wine, the prefix or the shim could not be found or started.
    case launchFailed(String)

    /// One sentence saying what went wrong.
    public var description: String {
        switch self {
        case .shimExited(let status): "the shim process ended (\(status))"
        case .shimLeft(let reason, let message): "the shim said goodbye (\(reason)): \(message)"
        case .protocolViolation(let error): "protocol violation by the shim: \(error)"
        case .peerProtocolError(let reason, let message): "the shim reported a protocol error (\(reason)): \(message)"
        case .io(let operation, let errno): "\(operation) failed: errno \(errno)"
        case .requestFailed(let request, let status, let lastError, let message):
            "\(request) failed with status \(status)"
                + (lastError.map { " (GetLastError \($0))" } ?? "") + (message.isEmpty ? "" : ": \(message)")
        case .nestingLimitExceeded(let limit): "nested call limit of \(limit) exceeded"
        case .timedOut(let what): "timed out: \(what)"
        case .closed: "the bridge connection is closed"
        case .invalidArgument(let what): "invalid argument: \(what)"
        case .launchFailed(let what): "launch failed: \(what)"
        }
    }
}
