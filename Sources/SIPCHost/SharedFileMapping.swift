#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A file under `/dev/shm` mapped into the host with `mmap(MAP_SHARED)`: the same memory a Wine process sees
/// through a file mapping created over `Z:\dev\shm\<file>`.
///
/// The host owns the file: ``close(unlink:)`` (or `deinit`) unmaps it and unlinks it. The pointer is valid until
/// then. The type is not `Sendable`; synchronising access with the Windows side is the caller's business.
public final class SharedFileMapping {
    /// The file name under `/dev/shm`.
    public let fileName: String
    /// The mapped bytes' address.
    public let pointer: UnsafeMutableRawPointer
    /// The mapped size in bytes.
    public let size: Int
    private var isOpen = true

    /// The full path, `/dev/shm/<fileName>`.
    public var path: String { "/dev/shm/" + fileName }

    /// The mapped bytes.
    public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: pointer, count: size) }

    /// Whether `name` is a file name the host accepts: 1–200 characters of `A–Z a–z 0–9 . _ -`, not `.` or `..`.
    /// - Parameter name: The candidate.
    public static func isValidFileName(_ name: String) -> Bool {
        guard (1...200).contains(name.utf8.count), name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }

    /// Maps an existing `/dev/shm/<file>` (normally just created by the shim's `CREATE_MAPPING`).
    /// - Parameters:
    ///   - file: The file name (safe characters only).
    ///   - size: How many bytes to map; `nil` maps the file's current size. The file is not grown.
    /// - Throws: ``BridgeError/invalidArgument(_:)`` for a bad name or size; ``BridgeError/io(operation:errno:)``
    ///   when `open`, `fstat` or `mmap` fails. The descriptor is closed in every case (the mapping outlives it).
    public init(file: String, size: Int? = nil) throws(BridgeError) {
        guard Self.isValidFileName(file) else { throw .invalidArgument("'\(file)' is not a safe /dev/shm file name") }
        let fd = open("/dev/shm/" + file, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .io(operation: "open /dev/shm/\(file)", errno: errno) }
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(operation: "fstat /dev/shm/\(file)", errno: errno) }
        let length = size ?? Int(info.st_size)
        guard length > 0, length <= Int(info.st_size) else {
            throw .invalidArgument("cannot map \(length) bytes of /dev/shm/\(file), which has \(info.st_size)")
        }
        guard let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), address != MAP_FAILED else {
            throw .io(operation: "mmap /dev/shm/\(file)", errno: errno)
        }
        self.fileName = file
        self.pointer = address
        self.size = length
    }

    /// Creates `/dev/shm/<file>`, which must not exist yet (mode 0600), sizes it to `size` zero bytes and maps it.
    /// - Throws: ``BridgeError/invalidArgument(_:)`` for a bad name; ``BridgeError/io(operation:errno:)`` when the
    ///   file cannot be created, sized or mapped. Nothing is left behind on failure.
    static func create(file: String, size: Int) throws(BridgeError) -> SharedFileMapping {
        guard isValidFileName(file) else { throw .invalidArgument("'\(file)' is not a safe file name") }
        let path = "/dev/shm/" + file
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(operation: "create \(path)", errno: errno) }
        let sized = ftruncate(fd, off_t(size)) == 0
        let sizeErrno = errno
        _ = Glibc.close(fd)
        guard sized else {
            Glibc.unlink(path)
            throw .io(operation: "size \(path)", errno: sizeErrno)
        }
        do { return try SharedFileMapping(file: file) } catch {
            Glibc.unlink(path)
            throw error
        }
    }

    /// A fresh file name of this host process for `kind` (`ring`, `upload`): ``serverFilePrefix(pid:)``, the
    /// kind and 64 random bits.
    static func freshServerFileName(_ kind: String) -> String {
        serverFilePrefix(pid: getpid()) + "\(kind)-\(UInt32.random(in: 0...UInt32.max))-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Unmaps the memory and, by default, unlinks the file. Idempotent.
    /// - Parameter unlink: Whether to remove `/dev/shm/<file>` too.
    public func close(unlink: Bool = true) {
        guard isOpen else { return }
        isOpen = false
        munmap(pointer, size)
        if unlink { _ = Glibc.unlink(path) }
    }

    deinit { close() }

    /// How the files of a SIPC server's buffers begin: `sipb-<pid>-` (the host process), so that a later server
    /// can tell whose they are.
    public static func serverFilePrefix(pid: pid_t) -> String { "sipb-\(pid)-" }

    /// Removes the `/dev/shm/sipb-<pid>-…` files of SIPC servers whose process is gone (a host killed with
    /// SIGKILL cannot remove its own). A file whose pid is alive, or names no pid, is left alone; a Windows
    /// program that still has such a buffer mapped keeps its memory (unlinking only removes the name).
    /// - Returns: The names removed.
    @discardableResult
    public static func removeStaleServerFiles(in directory: String = "/dev/shm") -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var removed: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            let parts = name.split(separator: "-", maxSplits: 2)
            guard parts.count == 3, let pid = pid_t(parts[1]), pid > 0, pid != getpid(),
                name.hasPrefix(serverFilePrefix(pid: pid))
            else { continue }
            // ESRCH: no such process. EPERM means it exists (someone else's): keep.
            if kill(pid, 0) != 0, errno == ESRCH, Glibc.unlink(directory + "/" + name) == 0 {
                removed.append(name)
            }
        }
        return removed
    }
}
