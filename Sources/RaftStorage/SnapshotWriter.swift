import RaftCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes one snapshot, chunk by chunk, into `snap-<group>-<index>-<term>.tmp`; `finish()` makes it the group's
/// latest snapshot atomically, `abort()` (or dropping the writer) removes the temporary file.
///
/// `finish()` fills in the header, appends the CRC-32C trailer, syncs the file, renames it to `.snap` and syncs
/// the directory. It is `seal()` (the file's own work, which may run on a background thread) followed by
/// `commit()` (the store's bookkeeping, on the store's owner). The group's older snapshots stay on disk: the
/// owner deletes them with `SnapshotStore.release(group:through:)` once the WAL record naming the new one is
/// durable. A crash at any point leaves the previous files and perhaps the new one, never a partial `.snap`
/// (`.tmp` files are removed when the store opens). Not thread-safe: one owner writes it.
public final class SnapshotWriter {
    /// The group the snapshot belongs to.
    public let group: GroupID
    /// The last entry the snapshot covers and the membership at it.
    public let metadata: SnapshotMetadata
    /// What the sender declared (for a received snapshot); `finish()` refuses data that differs.
    public let expected: SnapshotChecksum?
    /// The temporary file being written.
    public let temporaryPath: String

    private let store: SnapshotStore
    private let finalPath: String
    private let headerSize: Int
    private var fd: Int32
    private var dataLength: UInt64 = 0
    /// CRC-32C of the data alone; combined with the header's at the end.
    private var dataCRC: UInt32 = 0
    private var isOpen = true
    /// The finished file, once `seal()` succeeded and until `commit()` or `abort()`.
    private var sealed: SnapshotFile?

    init(
        store: SnapshotStore, group: GroupID, metadata: SnapshotMetadata, expected: SnapshotChecksum?
    ) throws(SnapshotError) {
        self.store = store
        self.group = group
        self.metadata = metadata
        self.expected = expected
        let stem = SnapshotFileName.stem(group: group, index: metadata.index, term: metadata.term)
        temporaryPath = store.directory + "/" + stem + SnapshotFileName.temporarySuffix
        finalPath = store.directory + "/" + stem + SnapshotFileName.finalSuffix
        // The header's size does not depend on the data length: reserve it now, fill it in at `finish()`.
        let placeholder = SnapshotHeader(group: group, metadata: metadata, dataLength: 0).encode()
        headerSize = placeholder.count
        let path = temporaryPath
        do {
            fd = try store.fileSystem.open(path, .createExclusive)
        } catch {
            if error.errno == EEXIST {
                throw SnapshotError(
                    .busy, "another writer is writing this snapshot; finish or abort it first", file: path)
            }
            throw SnapshotError(io: error)
        }
        do {
            try store.fileSystem.write(fd, placeholder, path: path)
        } catch {
            discard()
            throw SnapshotError(io: error)
        }
    }

    deinit { abort() }

    /// Appends `chunk` to the snapshot's data.
    /// - Throws: `.verificationFailed` (and removes the file) if the data grows past the expected length; `.io`
    ///   (and removes the file) if the write fails; `.closed` after `finish`, `abort` or an earlier failure.
    public func write(_ chunk: [UInt8]) throws(SnapshotError) {
        try checkOpen()
        if let expected, dataLength + UInt64(chunk.count) > expected.dataLength {
            discard()
            throw SnapshotError(
                .verificationFailed,
                "received more than the declared \(expected.dataLength) data bytes; the snapshot was discarded, "
                    + "ask the leader to send it again", file: temporaryPath)
        }
        let path = temporaryPath
        do {
            try store.fileSystem.write(fd, chunk, path: path)
        } catch {
            discard()
            throw SnapshotError(io: error)
        }
        dataCRC = CRC32C.checksum(chunk, continuing: dataCRC)
        dataLength += UInt64(chunk.count)
    }

    /// Completes the file, checks it against `expected` if given, and makes it the group's latest snapshot:
    /// `seal()` then `commit()`.
    /// - Returns: the data length and the checksum stored in the trailer.
    /// - Throws: `.verificationFailed` if the data does not match `expected` (nothing is left behind); `.io` if
    ///   a write, sync or rename fails (the previous snapshot stays the latest).
    @discardableResult
    public func finish() throws(SnapshotError) -> SnapshotChecksum {
        let result = try seal()
        try commit()
        return result
    }

    /// The slow half of `finish()`: fills in the header, appends the trailer, syncs and closes the temporary
    /// file. Touches nothing but this writer's file, so it may run on another thread than the store's owner
    /// (while the owner does not use this writer).
    /// - Throws: as `finish()`; the temporary file is removed on failure.
    @discardableResult
    public func seal() throws(SnapshotError) -> SnapshotChecksum {
        try checkOpen()
        let header = SnapshotHeader(group: group, metadata: metadata, dataLength: dataLength).encode()
        precondition(header.count == headerSize, "the header's size depends only on the metadata")
        let result = SnapshotChecksum(group: group, metadata: metadata, dataLength: dataLength, dataCRC: dataCRC)
        let crc = result.crc
        if let expected, expected != result {
            discard()
            throw SnapshotError(
                .verificationFailed,
                "received \(result.dataLength) data bytes with checksum \(result.crc), but the sender declared "
                    + "\(expected.dataLength) bytes with checksum \(expected.crc); the snapshot was discarded, ask "
                    + "the leader to send it again", file: temporaryPath)
        }
        var trailer: [UInt8] = []
        trailer.appendLE(crc)
        let (fd, path, sync, fileSystem) = (fd, temporaryPath, store.fsync == .always, store.fileSystem)
        do {
            try fileSystem.write(fd, header, at: 0, path: path)
            try fileSystem.write(fd, trailer, path: path)
            if sync { try fileSystem.syncData(fd, path: path) }
        } catch {
            discard()
            throw SnapshotError(io: error)
        }
        fileSystem.close(fd)
        isOpen = false
        sealed = SnapshotFile(
            path: finalPath, header: SnapshotHeader(group: group, metadata: metadata, dataLength: dataLength),
            headerBytes: header, checksum: result)
        return result
    }

    /// The quick half of `finish()`, on the store's owner: renames the sealed file into place, syncs the
    /// directory and makes it the group's latest snapshot. Older files stay until `SnapshotStore.release`.
    /// - Throws: `.closed` if the writer was not sealed; `.io` if the rename or the sync fails (the previous
    ///   snapshot stays the latest).
    public func commit() throws(SnapshotError) {
        guard let file = sealed else {
            throw SnapshotError(.closed, "commit() needs a sealed writer; call seal() first", file: temporaryPath)
        }
        sealed = nil
        do {
            try store.fileSystem.rename(temporaryPath, to: finalPath)
        } catch {
            try? store.fileSystem.removeFile(temporaryPath)
            throw SnapshotError(io: error)
        }
        try store.install(file)
    }

    /// Gives up: closes and removes the temporary file. The group's latest snapshot is unchanged.
    public func abort() {
        if isOpen { discard() }
        if sealed != nil {
            sealed = nil
            try? store.fileSystem.removeFile(temporaryPath)
        }
    }

    private func checkOpen() throws(SnapshotError) {
        guard isOpen else {
            throw SnapshotError(
                .closed, "the writer was finished, aborted or failed; begin a new write", file: temporaryPath)
        }
    }

    private func discard() {
        store.fileSystem.close(fd)
        isOpen = false
        try? store.fileSystem.removeFile(temporaryPath)
    }
}
