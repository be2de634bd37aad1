import Foundation
import RaftCore

/// State machine snapshots on disk, each a checksummed `.snap` file (§7 of the Raft paper; format in
/// `docs/wal-format.md`, "Snapshot files").
///
/// Writing goes through a `SnapshotWriter` into a `.tmp` file that is renamed into place only when complete and
/// synced, so a crash never leaves a partial `.snap`. The WAL's `compact` and `snapshot` records say which
/// snapshot the log relies on; the shell writes the file here *before* it appends that record, so a new file
/// does not delete the group's older ones: until the record is durable, recovery may still need them. The
/// owner calls `release(group:through:)` once it is, and only that deletes them.
///
/// Opening removes leftover `.tmp` files and lists the `.snap` files without choosing among them (after a crash a
/// group may have several); the owner settles each group with `choose(group:usable:)`, saying which files its
/// log can continue from. Not thread-safe: one owner uses it (readers and writers it hands out have their own
/// file descriptors).
public final class SnapshotStore {
    /// The directory holding the snapshot files.
    public let directory: String
    /// Whether files and the directory are synced (`.always`) or not (`.off`, tests only).
    public let fsync: FsyncPolicy
    /// Where the files are read and written.
    public let fileSystem: any FileSystem
    /// Each group's latest snapshot: chosen after opening, or written since.
    var files: [GroupID: SnapshotFile] = [:]
    /// The `.snap` files `open` found of groups that `choose` has not settled yet, newest first.
    var found: [GroupID: [SnapshotFileName.Parsed]] = [:]
    /// Every `.snap` file of each group believed on disk: found by `open` or installed since, until deleted. The
    /// deletions read it instead of listing the directory, which holds a file or more for every group (listing it
    /// per released group made a compaction of N groups cost N² name parses).
    var onDisk: [GroupID: [SnapshotFileName.Parsed]] = [:]

    private init(directory: String, fsync: FsyncPolicy, fileSystem: any FileSystem) {
        self.directory = directory
        self.fsync = fsync
        self.fileSystem = fileSystem
    }

    /// Opens (creating if needed) the store in `directory`: removes leftover `.tmp` files and lists every `.snap`
    /// file, deleting none and reading none. Until `choose(group:usable:)` settles a group, it has no latest
    /// snapshot (its files are only listed in `groups` and `candidates(group:)`).
    /// - Throws: `.io` if the directory cannot be created, listed or cleaned.
    public static func open(
        directory: String, fsync: FsyncPolicy = .always, fileSystem: any FileSystem = POSIXFileSystem()
    ) throws(SnapshotError) -> SnapshotStore {
        let names = try SnapshotError.io { () throws(WALError) in
            try fileSystem.createDirectory(directory)
            return try fileSystem.contentsOfDirectory(directory)
        }
        let store = SnapshotStore(directory: directory, fsync: fsync, fileSystem: fileSystem)
        var temporary: [String] = []
        for name in names {
            if SnapshotFileName.parse(name, suffix: SnapshotFileName.temporarySuffix) != nil {
                temporary.append(name)
            } else if let (group, index, term) = SnapshotFileName.parse(name) {
                store.found[group, default: []].append(SnapshotFileName.Parsed(name: name, index: index, term: term))
            }
        }
        store.found = store.found.mapValues { $0.sorted { ($0.index, $0.term) > ($1.index, $1.term) } }
        store.onDisk = store.found
        try store.remove(temporary)
        return store
    }

    /// The groups that have snapshot files (a latest snapshot, or files found by `open` and not yet settled), in
    /// ascending order.
    public var groups: [GroupID] { Set(files.keys).union(found.keys).sorted() }

    /// The metadata of `group`'s latest snapshot, without touching the disk.
    public func latestMetadata(group: GroupID) -> SnapshotMetadata? { files[group]?.header.metadata }

    /// `group`'s latest snapshot: its metadata and a reader that returns the data `chunkSize` bytes at a time.
    /// - Returns: `nil` if the group has no snapshot.
    public func latest(
        group: GroupID, chunkSize: Int = 1 << 20
    ) throws(SnapshotError) -> (metadata: SnapshotMetadata, reader: SnapshotReader)? {
        guard let known = files[group] else { return nil }
        let (path, fileSystem) = (known.path, fileSystem)
        let fd = try SnapshotError.io { () throws(WALError) in try fileSystem.open(path, .read) }
        do throws(SnapshotError) {
            let file = try SnapshotFile.inspect(fd, path: path, in: fileSystem)
            guard file.header == known.header, file.checksum == known.checksum else {
                throw SnapshotFile.corrupt("the file changed on disk since it was verified", path)
            }
            return (file.header.metadata, SnapshotReader(file, fd: fd, fileSystem: fileSystem, chunkSize: chunkSize))
        } catch {
            fileSystem.close(fd)
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

    /// Called by a writer once its file has been renamed into place: syncs the directory and records the file as
    /// the group's latest. The group's older files stay on disk until `release(group:through:)`.
    func install(_ file: SnapshotFile) throws(SnapshotError) {
        let metadata = file.header.metadata
        let name = SnapshotFileName.stem(group: file.header.group, index: metadata.index, term: metadata.term)
            + SnapshotFileName.finalSuffix
        if onDisk[file.header.group]?.contains(where: { $0.name == name }) != true {
            onDisk[file.header.group, default: []].append(
                SnapshotFileName.Parsed(name: name, index: metadata.index, term: metadata.term))
        }
        if fsync == .always {
            let (directory, fileSystem) = (directory, fileSystem)
            try SnapshotError.io { () throws(WALError) in try fileSystem.syncDirectory(directory) }
        }
        files[file.header.group] = file
    }

    /// Call once the WAL record that makes `metadata` the group's snapshot (`snapshot` or `compact`) is durable:
    /// deletes the group's files that it supersedes (a lower index, or the same index under another term), then
    /// syncs the directory. Newer files stay: the records naming them may still be on their way.
    /// - Returns: the names deleted.
    /// - Throws: `.io` if a deletion or the sync fails (the files left are deleted by a later call).
    @discardableResult
    public func release(group: GroupID, through metadata: SnapshotMetadata) throws(SnapshotError) -> [String] {
        let stem = SnapshotFileName.stem(group: group, index: metadata.index, term: metadata.term)
        let keep = stem + SnapshotFileName.finalSuffix
        let latest = files[group].map { ($0.path as NSString).lastPathComponent }
        let superseded = (onDisk[group] ?? []).filter { file in
            file.name != keep && file.name != latest && file.index <= metadata.index
        }
        .map(\.name)
        found[group]?.removeAll { superseded.contains($0.name) }
        if found[group]?.isEmpty == true { found[group] = nil }
        try remove(superseded, of: group)
        return superseded.sorted()
    }

    /// Stops offering `group`'s snapshot (the group was destroyed; its files are deleted later by `removeAll`).
    public func forget(group: GroupID) {
        files[group] = nil
        found[group] = nil
    }

    /// Deletes every snapshot of `group` (the group was destroyed on this node), then syncs the directory.
    public func removeAll(group: GroupID) throws(SnapshotError) {
        files[group] = nil
        found[group] = nil
        try remove((onDisk[group] ?? []).map(\.name), of: group)
    }

    /// Deletes every file of `group` through `index`, its latest included if it is that old (a state machine
    /// that keeps its own files holds their state: they were only written to be sent, or received to be
    /// installed), then syncs the directory. Newer files stay.
    public func remove(group: GroupID, through index: LogIndex) throws(SnapshotError) {
        if let latest = files[group], latest.header.metadata.index <= index { files[group] = nil }
        found[group]?.removeAll { $0.index <= index }
        if found[group]?.isEmpty == true { found[group] = nil }
        try remove((onDisk[group] ?? []).filter { $0.index <= index }.map(\.name), of: group)
    }

    /// Deletes `group`'s files `names`, then syncs the directory; they leave `onDisk` only once that succeeded
    /// (deleting a missing file is no error, so a later call retries what a failure left).
    func remove(_ names: [String], of group: GroupID) throws(SnapshotError) {
        guard !names.isEmpty else { return }
        try remove(names)
        onDisk[group]?.removeAll { names.contains($0.name) }
        if onDisk[group]?.isEmpty == true { onDisk[group] = nil }
    }

    /// Deletes files of this directory by name, then syncs the directory.
    func remove(_ names: [String]) throws(SnapshotError) {
        guard !names.isEmpty else { return }
        let (directory, sync, fileSystem) = (directory, fsync == .always, fileSystem)
        try SnapshotError.io { () throws(WALError) in
            for name in names { try fileSystem.removeFile(directory + "/" + name) }
            if sync { try fileSystem.syncDirectory(directory) }
        }
    }

    /// Opens, inspects and verifies the found file `candidate` of `group`, and checks its header against its name.
    func verifiedFile(_ candidate: SnapshotFileName.Parsed, of group: GroupID) throws(SnapshotError) -> SnapshotFile {
        let (path, index, term) = (directory + "/" + candidate.name, candidate.index, candidate.term)
        let fileSystem = fileSystem
        let fd = try SnapshotError.io { () throws(WALError) in try fileSystem.open(path, .read) }
        defer { fileSystem.close(fd) }
        let file = try SnapshotFile.inspect(fd, path: path, in: fileSystem)
        let header = file.header
        guard header.group == group, header.metadata.index == index, header.metadata.term == term else {
            throw SnapshotFile.corrupt(
                "the header names group \(header.group), index \(header.metadata.index), term "
                    + "\(header.metadata.term), which disagrees with the file name", path)
        }
        try file.verify(fd, in: fileSystem)
        return file
    }
}
