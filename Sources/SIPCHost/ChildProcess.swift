import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where a child's standard stream goes.
public enum ChildStdio: Sendable {
    /// The host's own stream.
    case inherit
    /// `/dev/null`.
    case null
    /// This file descriptor, `dup2`ed into place in the child. The caller keeps ownership of it and closes it.
    case fileDescriptor(Int32)
}

/// A child process started with `posix_spawn`, reaped by a dedicated watcher thread.
///
/// Exit is detected from the process status (`waitid`/`waitpid`), never from pipe EOF. The watcher waits with
/// `WNOWAIT` and reaps under a lock, so ``signal(_:)`` never hits a recycled pid.
///
/// The child gets: the given stdio, no other file descriptor of the host (every descriptor from 3 up is
/// closed in the child), default signal dispositions and an empty signal mask.
///
/// A process started with `endsWithMainThread` is killed once its main thread has ended while other threads
/// linger (Linux keeps such a process, its main thread a zombie, until the last thread ends; `waitid` reports
/// nothing meanwhile). That is how a Wine process dies when its wineserver goes away: each thread ends on its next
/// server call, and a thread blocked in `read` on a pipe (the shim's stdin reader) never makes one.
public final class ChildProcess: @unchecked Sendable {
    /// The Unix process id.
    public let pid: pid_t
    /// The program path, for messages.
    public let executable: String

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var status: ProcessExitStatus?
    private var exitHandlers: [@Sendable (ProcessExitStatus) -> Void] = []
    private var killedWithoutMainThread = false

    private init(pid: pid_t, executable: String) {
        self.pid = pid
        self.executable = executable
    }

    /// Starts a program.
    /// - Parameters:
    ///   - executable: The program's path (not searched in `PATH`).
    ///   - arguments: The arguments after `argv[0]` (which is `executable`).
    ///   - environment: The whole environment of the child.
    ///   - stdin: Where standard input comes from.
    ///   - stdout: Where standard output goes.
    ///   - stderr: Where standard error goes.
    ///   - endsWithMainThread: Kill the process when its main thread has ended but other threads linger (checked
    ///     every 100 ms; see the type's description). For a program whose main thread is its life, like the shim.
    /// - Returns: The running child, already watched.
    /// - Throws: ``BridgeError/launchFailed(_:)`` when `posix_spawn` fails.
    public static func spawn(
        executable: String, arguments: [String], environment: [String: String],
        stdin: ChildStdio = .null, stdout: ChildStdio = .inherit, stderr: ChildStdio = .inherit,
        endsWithMainThread: Bool = false
    ) throws(BridgeError) -> ChildProcess {
        ignoreSIGPIPE()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, spec) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch spec {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_RDWR, 0)
            case .fileDescriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            }
        }
        if let addCloseFrom = glibcAddCloseFrom { _ = addCloseFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw .launchFailed("posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        let child = ChildProcess(pid: pid, executable: executable)
        let thread = Thread { child.watch() }
        thread.name = "sipb-wait-\(pid)"
        thread.start()
        if endsWithMainThread {
            let mainWatch = Thread { child.watchMainThread() }
            mainWatch.name = "sipb-main-\(pid)"
            mainWatch.start()
        }
        return child
    }

    /// Until the process is reaped: every 100 ms, reads its main thread's state and the number of its threads;
    /// a zombie main thread with other threads alive, seen twice in a row, gets the process `SIGKILL`ed.
    private func watchMainThread() {
        let path = "/proc/\(pid)/status"
        var seen = 0
        while exitStatus == nil {
            usleep(100_000)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            var state = "", threads = 0
            for line in text.split(separator: "\n") {
                if line.hasPrefix("State:") { state = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("Threads:") {
                    threads = Int(line.dropFirst(8).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            seen = state.hasPrefix("Z") && threads > 1 ? seen + 1 : 0
            guard seen >= 2 else { continue }
            // Under the lock, as in ``signal(_:)``: the pid cannot have been reaped and reused.
            condition.lock()
            if status == nil, kill(pid, SIGKILL) == 0 { killedWithoutMainThread = true }
            condition.unlock()
            return
        }
    }

    /// True when the process was killed because its main thread had ended while other threads lingered
    /// (only with `endsWithMainThread`).
    public var wasKilledWithoutMainThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        return killedWithoutMainThread
    }

    private func watch() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        condition.lock()
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let exit = ProcessExitStatus(waitStatus: raw)
        status = exit
        let handlers = exitHandlers
        exitHandlers = []
        condition.broadcast()
        condition.unlock()
        handlers.forEach { $0(exit) }
    }

    /// How the process ended, or `nil` while it runs.
    public var exitStatus: ProcessExitStatus? {
        condition.lock()
        defer { condition.unlock() }
        return status
    }

    /// Calls `handler` once, on the watcher thread, when the process has ended (at once if it already has).
    ///
    /// The handler runs after the process was reaped and its status recorded: ``exitStatus`` is already set
    /// when it runs (``PipeTransport`` relies on this: its exit doorbell is closed from such a handler).
    public func onExit(_ handler: @escaping @Sendable (ProcessExitStatus) -> Void) {
        condition.lock()
        if let status {
            condition.unlock()
            handler(status)
            return
        }
        exitHandlers.append(handler)
        condition.unlock()
    }

    /// Waits for the process to end.
    /// - Parameter timeout: How long at most; `nil` waits indefinitely.
    /// - Returns: The exit status, or `nil` if it still runs at the timeout.
    @discardableResult
    public func waitForExit(timeout: Duration?) -> ProcessExitStatus? {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        condition.lock()
        defer { condition.unlock() }
        while status == nil {
            if let deadline {
                if !condition.waitUnlessPast(deadline) { break }
            } else {
                condition.wait()
            }
        }
        return status
    }

    /// Sends a signal unless the process was already reaped.
    /// - Parameter signal: The signal, e.g. `SIGTERM`.
    /// - Returns: False when the process had already ended.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard status == nil else { return false }
        return kill(pid, signal) == 0
    }

    /// Ends the process: `SIGTERM`, then `SIGKILL` if it still runs after `grace`; waits for it to be reaped.
    /// - Parameter grace: How long `SIGTERM` has to work.
    /// - Returns: The exit status (`nil` only if even `SIGKILL` did not end it within 5 s).
    @discardableResult
    public func terminate(grace: Duration = .milliseconds(500)) -> ProcessExitStatus? {
        if let status = exitStatus { return status }
        signal(SIGTERM)
        if let status = waitForExit(timeout: grace) { return status }
        signal(SIGKILL)
        return waitForExit(timeout: .seconds(5))
    }
}

/// Creates a pipe whose both ends are close-on-exec (only the `dup2`ed copy in a child survives `exec`).
/// - Returns: The read and write ends; the caller owns and closes both.
/// - Throws: ``BridgeError/io(operation:errno:)``.
func makePipe() throws(BridgeError) -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    if let pipe2 = glibcPipe2 {
        guard pipe2(&fds, O_CLOEXEC) == 0 else { throw .io(operation: "pipe2", errno: errno) }
    } else {
        // No pipe2: a child spawned by another thread in between may inherit these ends until its exec;
        // posix_spawn's close-from action (when present) closes them there.
        guard pipe(&fds) == 0 else { throw .io(operation: "pipe", errno: errno) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    }
    return (fds[0], fds[1])
}

// glibc declares these only under _GNU_SOURCE, which Swift's Glibc module does not set: look them up at run
// time (both exist in the glibc 2.34+ this project targets; the fallbacks above cover older ones).
private typealias Pipe2Function = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
private typealias AddCloseFromFunction =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
private let glibcPipe2: Pipe2Function? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2Function.self) }
private let glibcAddCloseFrom: AddCloseFromFunction? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
    unsafeBitCast($0, to: AddCloseFromFunction.self)
}

/// Sets `SIGPIPE` to be ignored in this process, once, so a write to a dead shim returns `EPIPE` instead of
/// killing the host. Children get the default disposition back (see ``ChildProcess/spawn``).
func ignoreSIGPIPE() {
    _ = sigpipeIgnored
}

private let sigpipeIgnored: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return true
}()
