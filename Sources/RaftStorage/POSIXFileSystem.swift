import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real file system: thin wrappers over the POSIX calls, retrying short and interrupted reads and writes,
/// each failure a `WALError` that names the path and carries `errno` and its text.
public struct POSIXFileSystem: FileSystem {
    public init() {}

    public func createDirectory(_ path: String) throws(WALError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw WALError(.io, "cannot create the directory: \(error)", file: path)
        }
    }

    public func contentsOfDirectory(_ path: String) throws(WALError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw WALError(.io, "cannot list the directory: \(error)", file: path)
        }
    }

    public func open(_ path: String, _ mode: FileOpenMode) throws(WALError) -> Int32 {
        let fd: Int32
        switch mode {
        case .append: fd = systemOpen(path, O_RDWR | O_APPEND | O_CLOEXEC)
        case .read: fd = systemOpen(path, O_RDONLY | O_CLOEXEC)
        case .createExclusive: fd = systemOpen(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        case .createTruncating: fd = systemOpen(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw Self.failure("cannot open file", path) }
        return fd
    }

    public func close(_ fd: Int32) { systemClose(fd) }

    public func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(WALError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("cannot write file", path)
            }
            done += n
        }
    }

    public func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(WALError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes {
                pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("cannot write file", path)
            }
            done += n
        }
    }

    public func read(_ fd: Int32, at offset: Int, count: Int, path: String) throws(WALError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done))
            }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Self.failure("cannot read file", path) }
            if n == 0 { break }
            done += n
        }
        if done < count { bytes.removeSubrange(done...) }
        return bytes
    }

    public func size(_ fd: Int32, path: String) throws(WALError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.failure("cannot stat file", path) }
        return Int(info.st_size)
    }

    public func syncData(_ fd: Int32, path: String) throws(WALError) {
        #if canImport(Darwin)
            let result = fcntl(fd, F_FULLFSYNC)
        #else
            let result = fdatasync(fd)
        #endif
        guard result == 0 else { throw Self.failure("cannot sync file", path) }
    }

    public func truncate(_ fd: Int32, to length: Int, path: String) throws(WALError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw Self.failure("cannot truncate file", path) }
        guard fsync(fd) == 0 else { throw Self.failure("cannot sync truncated file", path) }
    }

    public func syncDirectory(_ path: String) throws(WALError) {
        let fd = systemOpen(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure("cannot open directory", path) }
        defer { systemClose(fd) }
        guard fsync(fd) == 0 else { throw Self.failure("cannot sync directory", path) }
    }

    public func removeFile(_ path: String) throws(WALError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw Self.failure("cannot remove file", path) }
    }

    public func removeDirectory(_ path: String) throws(WALError) {
        guard rmdir(path) == 0 || errno == ENOENT else { throw Self.failure("cannot remove directory", path) }
    }

    public func rename(_ from: String, to: String) throws(WALError) {
        guard systemRename(from, to) == 0 else { throw Self.failure("cannot rename \(from)", to) }
    }

    /// A `WALError` for the system call that just failed, with `errno` and its text.
    static func failure(_ what: String, _ path: String) -> WALError {
        let code = errno
        let reason = String(cString: strerror(code))
        return WALError(
            .io, "\(what): \(reason); check the disk and the directory's permissions", file: path, errno: code)
    }
}

// File-scope names for the C calls that `POSIXFileSystem`'s own methods shadow.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 { open(path, flags, mode) }
private func systemClose(_ fd: Int32) { _ = close(fd) }
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
