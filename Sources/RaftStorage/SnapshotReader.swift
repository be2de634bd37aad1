import RaftCore

/// Reads one stored snapshot's data in chunks, for restoring a state machine or sending to a follower (§7).
///
/// The reader keeps its own file descriptor, so it stays valid even if a newer snapshot replaces (and deletes)
/// its file meanwhile. `next()` checks the checksum when it reaches the end: the last chunk is only returned if
/// the whole file matches its trailer. Call `verify()` first when nothing may be changed before the snapshot is
/// known to be good (restoring a state machine). Not thread-safe: one owner reads it.
public final class SnapshotReader {
    /// The group the snapshot belongs to.
    public let group: GroupID
    /// The last entry the snapshot covers and the membership at it.
    public let metadata: SnapshotMetadata
    /// The data length and stored checksum; send them along so that the receiver's `finish()` can check.
    public let checksum: SnapshotChecksum
    /// The file being read.
    public let file: String
    /// The most data bytes one `next()` returns.
    public let chunkSize: Int

    private let snapshot: SnapshotFile
    private let fileSystem: any FileSystem
    private var fd: Int32
    /// Data bytes returned so far.
    private var position: UInt64 = 0
    /// CRC-32C of the header and the data returned so far.
    private var runningCRC: UInt32

    init(_ snapshot: SnapshotFile, fd: Int32, fileSystem: any FileSystem, chunkSize: Int) {
        precondition(chunkSize > 0, "chunk size must be positive")
        self.snapshot = snapshot
        self.fd = fd
        self.fileSystem = fileSystem
        self.chunkSize = chunkSize
        group = snapshot.header.group
        metadata = snapshot.header.metadata
        checksum = snapshot.checksum
        file = snapshot.path
        runningCRC = CRC32C.checksum(snapshot.headerBytes)
    }

    deinit { fileSystem.close(fd) }

    /// The number of data bytes not yet returned by `next()`.
    public var remaining: UInt64 { checksum.dataLength - position }

    /// The next chunk of at most `chunkSize` data bytes, or `nil` after the last one.
    /// - Throws: `.corrupt` naming the file when the data read does not match the stored checksum (in place of
    ///   the last chunk), `.io` if the file cannot be read.
    public func next() throws(SnapshotError) -> [UInt8]? {
        guard remaining > 0 else {
            if checksum.dataLength == 0 { try snapshot.checkTrailer(computed: runningCRC) }
            return nil
        }
        let count = Int(min(UInt64(chunkSize), remaining))
        let offset = snapshot.headerBytes.count + Int(position)
        let chunk = try SnapshotError.io { () throws(WALError) in
            try fileSystem.read(fd, at: offset, count: count, path: file)
        }
        guard chunk.count == count else {
            throw SnapshotFile.corrupt("the file is shorter than its header says", file)
        }
        runningCRC = CRC32C.checksum(chunk, continuing: runningCRC)
        position += UInt64(count)
        if remaining == 0 { try snapshot.checkTrailer(computed: runningCRC) }
        return chunk
    }

    /// Reads the whole file and checks it against its trailer, independently of `next()`'s position.
    /// - Throws: `.corrupt` naming the file on a mismatch.
    public func verify() throws(SnapshotError) {
        try snapshot.verify(fd, in: fileSystem)
    }
}
