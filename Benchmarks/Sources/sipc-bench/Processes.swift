import Foundation
import SIPCHost

#if canImport(Glibc)
    import Glibc
#endif

/// Collects a child's standard output, line by line, on its own thread.
final class LineCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var lines: [String] = []
    private var ended = false

    init(fd: Int32) {
        let thread = Thread { [self] in
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                if n <= 0 { break }
                pending.append(contentsOf: chunk[0..<n])
                while let newline = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    condition.lock()
                    lines.append(line)
                    condition.broadcast()
                    condition.unlock()
                }
            }
            close(fd)
            condition.lock()
            if !pending.isEmpty { lines.append(String(decoding: pending, as: UTF8.self)) }
            ended = true
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    var all: [String] {
        condition.lock()
        defer { condition.unlock() }
        return lines
    }

    /// The first line that satisfies `predicate`, waiting up to `timeout`; nil on timeout or EOF.
    func wait(timeout: Duration, for predicate: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let line = lines.first(where: predicate) { return line }
            if ended || Date() >= deadline { return nil }
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
    }

    /// Waits for EOF (the child and everything that inherited its stdout closed it).
    func waitForEnd(timeout: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        condition.lock()
        defer { condition.unlock() }
        while !ended {
            if Date() >= deadline { return false }
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
        return true
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var microseconds: Double { Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12 }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}

private func cloexecPipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw BenchFailure("pipe: errno \(errno)") }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return (fds[0], fds[1])
}

/// A child (a Windows program under wine64, or a native one) with piped stdout and, optionally, stdin;
/// stderr goes to a file in the run's scratch folder.
final class Child {
    let name: String
    let process: ChildProcess
    let output: LineCollector
    private var stdinFD: Int32

    var pid: pid_t { process.pid }

    init(name: String, executable: String, arguments: [String], environment: [String: String], stdin: Bool, stderrPath: String)
        throws
    {
        self.name = name
        let out = try cloexecPipe()
        var input: (read: Int32, write: Int32)? = nil
        if stdin { input = try cloexecPipe() }
        let errFD = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer {
            close(out.write)
            if let input { close(input.read) }
            if errFD >= 0 { close(errFD) }
        }
        process = try ChildProcess.spawn(
            executable: executable, arguments: arguments, environment: environment,
            stdin: input.map { .fileDescriptor($0.read) } ?? .null, stdout: .fileDescriptor(out.write),
            stderr: errFD >= 0 ? .fileDescriptor(errFD) : .null)
        stdinFD = input?.write ?? -1
        output = LineCollector(fd: out.read)
    }

    func writeLine(_ text: String) {
        guard stdinFD >= 0 else { return }
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
    }

    func closeStdin() {
        if stdinFD >= 0 { close(stdinFD) }
        stdinFD = -1
    }

    /// Waits for the exit; past `timeout` the child is terminated (SIGTERM, then SIGKILL) by its pid.
    @discardableResult
    func finish(timeout: Duration) -> ProcessExitStatus? {
        closeStdin()
        if let status = process.waitForExit(timeout: timeout) { return status }
        FileHandle.standardError.write(Data("sipc-bench: \(name) (pid \(pid)) did not finish in \(timeout); stopping it\n".utf8))
        return process.terminate()
    }

    func stop() {
        closeStdin()
        process.terminate(grace: .seconds(2))
    }

    var exited: Bool { process.exitStatus != nil }
}

/// `key=value` pairs of one output line.
func fields(_ line: String) -> [String: String] {
    var result: [String: String] = [:]
    for token in line.split(separator: " ") {
        guard let eq = token.firstIndex(of: "=") else { continue }
        result[String(token[..<eq])] = String(token[token.index(after: eq)...])
    }
    return result
}

/// Resident set size of a process in KiB (VmRSS), or nil.
func residentKiB(pid: pid_t) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
    return nil
}

/// The direct children of a process (from /proc/PID/task/*/children).
func childPids(of pid: pid_t) -> [pid_t] {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [] }
    var result: [pid_t] = []
    for task in tasks {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else { continue }
        result += text.split(separator: " ").compactMap { pid_t($0) }
    }
    return result
}

/// The output of a short command, or "unknown".
func commandOutput(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return "unknown" }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return text.isEmpty ? "unknown" : text
}
