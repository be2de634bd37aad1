#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin wrappers over the file system calls the log needs, each failing with a `WALError` that names the path.
enum POSIXFile {
    /// Opens `path` for reading and writing (appends go to the end).
    static func openForAppend(_ path: String) throws(WALError) -> Int32 {
        let fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open segment", path) }
        return fd
    }

    /// Writes all of `bytes` at the end of `fd`, retrying short writes and interrupted calls.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(WALError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write segment", path)
            }
            done += n
        }
    }

    /// Forces the file's data (and the metadata needed to read it back) to stable storage.
    static func syncData(_ fd: Int32, path: String) throws(WALError) {
        #if canImport(Darwin)
            let result = fcntl(fd, F_FULLFSYNC)
        #else
            let result = fdatasync(fd)
        #endif
        guard result == 0 else { throw failure("cannot sync segment", path) }
    }

    /// Cuts the file to `length` bytes and syncs it.
    static func truncate(_ fd: Int32, to length: Int, path: String) throws(WALError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw failure("cannot truncate segment", path) }
        guard fsync(fd) == 0 else { throw failure("cannot sync truncated segment", path) }
    }

    /// Syncs a directory so that files created or renamed in it survive a crash.
    static func syncDirectory(_ path: String) throws(WALError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open WAL directory", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot sync WAL directory", path) }
    }

    /// The whole content of a file.
    static func readAll(_ path: String) throws(WALError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open segment for reading", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot stat segment", path) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure("cannot read segment", path) }
            if n == 0 { break }
            done += n
        }
        if done < bytes.count { bytes.removeSubrange(done...) }
        return bytes
    }

    /// Creates `path` atomically with `content`: written to a temporary file, synced, then renamed.
    static func createAtomically(_ path: String, content: [UInt8], directory: String, sync: Bool) throws(WALError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create segment", temporary) }
        do {
            try writeAll(fd, content, path: temporary)
            if sync { try syncData(fd, path: temporary) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw failure("cannot rename new segment into place", path) }
        if sync { try syncDirectory(directory) }
    }

    /// A `WALError` for the system call that just failed, with `errno` and its text.
    static func failure(_ what: String, _ path: String) -> WALError {
        let code = errno
        let reason = String(cString: strerror(code))
        return WALError(
            .io, "\(what): \(reason); check the disk and the directory's permissions", file: path, errno: code)
    }
}
