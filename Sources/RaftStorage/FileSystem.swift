/// How a file is opened through a `FileSystem`.
public enum FileOpenMode: Sendable {
    /// Reading and writing an existing file; writes go to its end.
    case append
    /// Reading an existing file.
    case read
    /// Writing a new file; fails with `EEXIST` if the path exists.
    case createExclusive
    /// Writing a file, created if absent and emptied if present.
    case createTruncating
}

/// The file system calls the WAL and the snapshot store make, and nothing else: the seam between the storage
/// layer's logic and the disk. `POSIXFileSystem` is the real one; a simulator supplies one that loses what was
/// not synced at a crash, tears writes, fills up, fails with EIO or stalls, so that the same code is tested
/// against a bad disk in virtual time.
///
/// Every failure is a `WALError` with code `.io`, naming the path and carrying the `errno`. Descriptors are
/// the implementation's own numbers; a descriptor is used by one owner at a time.
public protocol FileSystem: Sendable {
    /// Creates `path` and any missing parents; an existing directory is not an error.
    func createDirectory(_ path: String) throws(WALError)
    /// The names (not paths) of the entries of directory `path`, in no particular order.
    func contentsOfDirectory(_ path: String) throws(WALError) -> [String]
    /// Opens `path` as `mode` says, returning a descriptor.
    func open(_ path: String, _ mode: FileOpenMode) throws(WALError) -> Int32
    /// Closes a descriptor `open` returned.
    func close(_ fd: Int32)
    /// Writes all of `bytes` at the descriptor's position (its end, for `.append`), advancing it.
    func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(WALError)
    /// Writes all of `bytes` at `offset`, leaving the descriptor's position alone.
    func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(WALError)
    /// Reads up to `count` bytes at `offset` (fewer only at the end of the file).
    func read(_ fd: Int32, at offset: Int, count: Int, path: String) throws(WALError) -> [UInt8]
    /// The size of the open file in bytes.
    func size(_ fd: Int32, path: String) throws(WALError) -> Int
    /// Forces the file's data (and the metadata needed to read it back) to stable storage.
    func syncData(_ fd: Int32, path: String) throws(WALError)
    /// Cuts the file to `length` bytes and syncs it.
    func truncate(_ fd: Int32, to length: Int, path: String) throws(WALError)
    /// Syncs a directory, so that files created, renamed or removed in it stay so after a crash.
    func syncDirectory(_ path: String) throws(WALError)
    /// Removes `path`; a file that is already gone is not an error.
    func removeFile(_ path: String) throws(WALError)
    /// Renames `from` to `to`, replacing `to` atomically if it exists.
    func rename(_ from: String, to: String) throws(WALError)
    /// Removes the empty directory `path`; one that is already gone is not an error.
    func removeDirectory(_ path: String) throws(WALError)
}

extension FileSystem {
    /// The whole content of the file at `path`.
    public func readAll(_ path: String) throws(WALError) -> [UInt8] {
        let fd = try open(path, .read)
        defer { close(fd) }
        return try read(fd, at: 0, count: size(fd, path: path), path: path)
    }

    /// Creates `path` atomically with `content`: written to `path.tmp`, synced, renamed into place, and the
    /// directory synced (the syncs only with `sync`).
    public func createAtomically(
        _ path: String, content: [UInt8], directory: String, sync: Bool
    ) throws(WALError) {
        let temporary = path + ".tmp"
        let fd = try open(temporary, .createTruncating)
        do {
            try write(fd, content, path: temporary)
            if sync { try syncData(fd, path: temporary) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        try rename(temporary, to: path)
        if sync { try syncDirectory(directory) }
    }

    /// True if `directory` takes a write of `bytes` bytes and a sync (the probe file is removed after): how a
    /// node whose disk failed learns that it works again.
    public func probe(_ directory: String, bytes: Int = 4 << 20) -> Bool {
        let path = directory + "/.storage-probe"
        guard let fd = try? open(path, .createTruncating) else { return false }
        defer {
            close(fd)
            try? removeFile(path)
        }
        let block = [UInt8](repeating: 0x5A, count: 1 << 16)
        var written = 0
        while written < bytes {
            let count = min(block.count, bytes - written)
            guard (try? write(fd, count == block.count ? block : Array(block.prefix(count)), path: path)) != nil
            else { return false }
            written += count
        }
        return (try? syncData(fd, path: path)) != nil
    }
}
