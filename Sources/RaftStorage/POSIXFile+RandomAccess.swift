#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Positioned reads and writes, exclusive creation and removal: what snapshot files need beyond appends.
extension POSIXFile {
    /// Opens `path` read-only.
    static func openForReading(_ path: String) throws(WALError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open file for reading", path) }
        return fd
    }

    /// Creates `path` for writing; fails (with `EEXIST`) if it already exists.
    static func createExclusive(_ path: String) throws(WALError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create file", path) }
        return fd
    }

    /// The size of the open file in bytes.
    static func size(_ fd: Int32, path: String) throws(WALError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot stat file", path) }
        return Int(info.st_size)
    }

    /// Reads up to `count` bytes at `offset` (fewer only at the end of the file).
    static func readBytes(_ fd: Int32, at offset: Int, count: Int, path: String) throws(WALError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done))
            }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure("cannot read file", path) }
            if n == 0 { break }
            done += n
        }
        if done < count { bytes.removeSubrange(done...) }
        return bytes
    }

    /// Writes all of `bytes` at `offset`, retrying short writes and interrupted calls.
    static func writeBytes(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(WALError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes {
                pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write file", path)
            }
            done += n
        }
    }

    /// Removes `path`; a file that is already gone is not an error.
    static func removeFile(_ path: String) throws(WALError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("cannot remove file", path) }
    }

    /// Renames `from` to `to`, replacing `to` atomically if it exists.
    static func move(_ from: String, to: String) throws(WALError) {
        guard rename(from, to) == 0 else { throw failure("cannot rename \(from)", to) }
    }
}
