import Foundation
import RaftCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// State machine snapshots on disk: at most one per group, each a checksummed `.snap` file (§7 of the Raft
/// paper; format in `docs/wal-format.md`, "Snapshot files").
///
/// Writing goes through a `SnapshotWriter` into a `.tmp` file that is renamed into place only when complete and
/// synced, so a crash leaves the previous snapshot as the latest. Opening removes leftover `.tmp` files and
/// verifies each group's latest `.snap` against its checksum; a damaged one is an error naming the file, never
/// skipped. The WAL's `compact` and `snapshot` records say which snapshot the log relies on; the shell writes
/// the snapshot here *before* it appends that record. Not thread-safe: one owner uses it (readers and writers
/// it hands out have their own file descriptors).
public final class SnapshotStore {
    /// The directory holding the snapshot files.
    public let directory: String
    /// Whether files and the directory are synced (`.always`) or not (`.off`, tests only).
    public let fsync: FsyncPolicy
    private var files: [GroupID: SnapshotFile]

    private init(directory: String, fsync: FsyncPolicy, files: [GroupID: SnapshotFile]) {
        self.directory = directory
        self.fsync = fsync
        self.files = files
    }

    /// Opens (creating if needed) the store in `directory`: removes leftover `.tmp` files, verifies every group's
    /// latest snapshot and deletes the older ones a crash may have left.
    /// - Throws: `.corrupt` naming the file if a group's latest snapshot fails its checks; `.io` on I/O failure.
    public static func open(directory: String, fsync: FsyncPolicy = .always) throws(SnapshotError) -> SnapshotStore {
        let names: [String]
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw SnapshotError(.io, "cannot create or list the snapshot directory: \(error)", file: directory)
        }
        var candidates: [GroupID: [(name: String, index: LogIndex, term: Term)]] = [:]
        var obsolete: [String] = []
        for name in names {
            if SnapshotFileName.parse(name, suffix: SnapshotFileName.temporarySuffix) != nil {
                obsolete.append(name)
            } else if let (group, index, term) = SnapshotFileName.parse(name) {
                candidates[group, default: []].append((name, index, term))
            }
        }
        var files: [GroupID: SnapshotFile] = [:]
        for (group, list) in candidates {
            let sorted = list.sorted { ($0.index, $0.term) > ($1.index, $1.term) }
            let path = directory + "/" + sorted[0].name
            let file = try verifiedFile(path)
            let header = file.header
            guard header.group == group, header.metadata.index == sorted[0].index,
                header.metadata.term == sorted[0].term
            else {
                throw SnapshotFile.corrupt(
                    "the header names group \(header.group), index \(header.metadata.index), term "
                        + "\(header.metadata.term), which disagrees with the file name", path)
            }
            files[group] = file
            obsolete += sorted.dropFirst().map(\.name)
        }
        let store = SnapshotStore(directory: directory, fsync: fsync, files: files)
        try store.remove(obsolete)
        return store
    }

    /// The groups that have a snapshot, in ascending order.
    public var groups: [GroupID] { files.keys.sorted() }

    /// The metadata of `group`'s latest snapshot, without touching the disk.
    public func latestMetadata(group: GroupID) -> SnapshotMetadata? { files[group]?.header.metadata }

    /// `group`'s latest snapshot: its metadata and a reader that returns the data `chunkSize` bytes at a time.
    /// - Returns: `nil` if the group has no snapshot.
    public func latest(
        group: GroupID, chunkSize: Int = 1 << 20
    ) throws(SnapshotError) -> (metadata: SnapshotMetadata, reader: SnapshotReader)? {
        guard let known = files[group] else { return nil }
        let path = known.path
        let fd = try SnapshotError.io { () throws(WALError) in try POSIXFile.openForReading(path) }
        do throws(SnapshotError) {
            let file = try SnapshotFile.inspect(fd, path: path)
            guard file.header == known.header, file.checksum == known.checksum else {
                throw SnapshotFile.corrupt("the file changed on disk since it was verified", path)
            }
            return (file.header.metadata, SnapshotReader(file, fd: fd, chunkSize: chunkSize))
        } catch {
            close(fd)
            throw error
        }
    }

    /// Starts writing a snapshot of `group` covering the log through `metadata.index`.
    /// - Parameter expecting: for a snapshot received from a leader, the length and checksum it declared
    ///   (`SnapshotReader.checksum` on its side); `finish()` then refuses data that differs.
    /// - Throws: `.stale` if the group already has a snapshot at a higher index; `.busy` if the same snapshot is
    ///   being written; `.io` if the temporary file cannot be created.
    public func beginWrite(
        group: GroupID, metadata: SnapshotMetadata, expecting: SnapshotChecksum? = nil
    ) throws(SnapshotError) -> SnapshotWriter {
        if let current = files[group]?.header.metadata, metadata.index < current.index {
            throw SnapshotError(
                .stale,
                "group \(group) already has a snapshot through index \(current.index), newer than \(metadata.index); "
                    + "drop the older snapshot instead of storing it", file: files[group]?.path)
        }
        return try SnapshotWriter(store: self, group: group, metadata: metadata, expected: expecting)
    }

    /// Called by a writer once its file has been renamed into place: syncs the directory, records the file as
    /// the group's latest and deletes the group's other snapshots.
    func install(_ file: SnapshotFile) throws(SnapshotError) {
        if fsync == .always {
            let directory = directory
            try SnapshotError.io { () throws(WALError) in try POSIXFile.syncDirectory(directory) }
        }
        let group = file.header.group
        files[group] = file
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let current = (file.path as NSString).lastPathComponent
        try remove(names.filter { $0 != current && SnapshotFileName.parse($0)?.group == group })
    }

    /// Stops offering `group`'s snapshot (the group was destroyed; its files are deleted later by `removeAll`).
    public func forget(group: GroupID) { files[group] = nil }

    /// Deletes every snapshot of `group` (the group was destroyed on this node), then syncs the directory.
    public func removeAll(group: GroupID) throws(SnapshotError) {
        files[group] = nil
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        try remove(names.filter { SnapshotFileName.parse($0)?.group == group })
    }

    /// Deletes files of this directory by name, then syncs the directory.
    private func remove(_ names: [String]) throws(SnapshotError) {
        guard !names.isEmpty else { return }
        let (directory, sync) = (directory, fsync == .always)
        try SnapshotError.io { () throws(WALError) in
            for name in names { try POSIXFile.removeFile(directory + "/" + name) }
            if sync { try POSIXFile.syncDirectory(directory) }
        }
    }

    /// Opens, inspects and verifies the file at `path`.
    private static func verifiedFile(_ path: String) throws(SnapshotError) -> SnapshotFile {
        let fd = try SnapshotError.io { () throws(WALError) in try POSIXFile.openForReading(path) }
        defer { close(fd) }
        let file = try SnapshotFile.inspect(fd, path: path)
        try file.verify(fd)
        return file
    }
}
