import LineProtocol
import RaftStorage

/// A vnode's storage engine: a size-bounded memtable over immutable column files, listed by a manifest.
///
/// Writes apply into the memtable. Past `Options.memtableValues` values it is frozen and flushed — off the
/// caller's thread, by whoever runs the `FlushTask` — into a column file that covers the Raft index of the last
/// write it holds; installing the file rewrites the manifest, after which the log up to that index is no longer
/// needed to rebuild the vnode. Files are merged in size tiers (`CompactionTask`). Reads merge every layer,
/// oldest first, so the last write of a field in log order wins, whichever layer holds it.
///
/// Guarantees: after a crash at any point, `open` finds the files of the last manifest written, all of them
/// complete and verified by checksum, and `coveredIndex` says from which log entry on the writes must be applied
/// again (the ones at or below it are ignored, so replaying a longer log is harmless).
///
/// Not thread-safe: one owner (the vnode's Raft group on the host's loop thread) calls it; the tasks it hands out
/// are values that run anywhere.
public final class VnodeEngine {
    /// When the engine flushes and compacts.
    public struct Options: Sendable {
        /// Field values the memtable holds before it is flushed (about 16 bytes each in memory).
        public var memtableValues = 4_000_000
        /// Rows per block in the files.
        public var blockRows = ColumnFileFormat.blockRows
        /// A compaction merges this many consecutive files of one size tier.
        public var compactionFanIn = 4
        public init() {}
    }

    public let directory: String
    public let options: Options
    let fileSystem: any FileSystem
    private(set) var manifest: EngineManifest
    /// The files, in the manifest's order (oldest data first).
    private(set) var files: [ColumnFile]
    var memtable = Memtable()
    /// The memtable being flushed, if a flush is running: nothing writes to it any more, and reads still use
    /// it (rows and indexes) until its file is installed.
    var flushing: FrozenMemtable?
    /// The columns of the memtable being flushed, by measurement (its schema, kept for reads until it is a file).
    var flushingSchemas: [String: MeasurementColumns] { flushing?.table.schemas ?? [:] }
    /// The next file number handed to a task (the manifest persists it with the next change).
    private var nextFileNumber: UInt64
    /// The inputs of the compaction running, if one is.
    var compacting: [UInt64]?
    /// The deletions that still hide rows of a file or of the memtable being flushed (`Tombstone`).
    public internal(set) var tombstones: [Tombstone]
    /// The index of the last write applied.
    public private(set) var appliedIndex: UInt64
    /// Bytes of column files written by flushes and by compactions since the engine opened (write
    /// amplification: their sum over the files' size).
    public internal(set) var bytesFlushed = 0
    public internal(set) var bytesCompacted = 0

    /// The last Raft log entry whose effects the files hold: writes at or below it are already durable here.
    public var coveredIndex: UInt64 { manifest.coveredIndex }
    /// The state handed to the flush that covers `coveredIndex` (`beginFlush(state:)`).
    public var coveredState: [UInt8] { manifest.state }

    private init(
        directory: String, options: Options, fileSystem: any FileSystem, manifest: EngineManifest, files: [ColumnFile]
    ) {
        self.directory = directory
        self.options = options
        self.fileSystem = fileSystem
        self.manifest = manifest
        self.files = files
        nextFileNumber = manifest.nextFileNumber
        appliedIndex = manifest.coveredIndex
        tombstones = manifest.tombstones
    }

    /// Opens (creating if needed) the engine in `directory`: reads the manifest, opens and checks its files,
    /// deletes files it does not list (left by a flush or compaction cut short).
    /// - Throws: `ColumnFileError` naming the file (and offset) that is damaged or unreadable.
    public static func open(
        directory: String, fileSystem: any FileSystem, options: Options = Options()
    ) throws(ColumnFileError) -> VnodeEngine {
        let names: [String]
        var manifest = EngineManifest()
        do {
            try fileSystem.createDirectory(directory)
            names = try fileSystem.contentsOfDirectory(directory)
            if names.contains(EngineManifest.fileName) {
                let path = directory + "/" + EngineManifest.fileName
                manifest = try EngineManifest.decode(try fileSystem.readAll(path), path: path)
            }
        } catch let error as ColumnFileError {
            throw error
        } catch {
            throw ColumnFileError.io("cannot open the vnode directory \(directory)", cause: error)
        }
        let listed = Set(manifest.files.map(EngineManifest.fileName(of:)))
        for name in names where name != EngineManifest.fileName && !listed.contains(name) {
            do {
                try fileSystem.removeFile(directory + "/" + name)
            } catch {
                throw ColumnFileError.io("cannot remove the leftover \(directory)/\(name)", cause: error)
            }
        }
        var files: [ColumnFile] = []
        for number in manifest.files {
            files.append(
                try ColumnFile.open(directory + "/" + EngineManifest.fileName(of: number), fileSystem: fileSystem))
        }
        return VnodeEngine(
            directory: directory, options: options, fileSystem: fileSystem, manifest: manifest, files: files)
    }

    /// Creates the engine, empty, in `directory` (made if needed; emptied of column files), with its manifest
    /// written and synced: from then on `open` finds this engine and not whatever the directory held.
    public static func create(
        directory: String, fileSystem: any FileSystem, options: Options = Options()
    ) throws(ColumnFileError) -> VnodeEngine {
        let engine = VnodeEngine(
            directory: directory, options: options, fileSystem: fileSystem, manifest: EngineManifest(), files: [])
        do {
            try fileSystem.createDirectory(directory)
            for name in try fileSystem.contentsOfDirectory(directory) {
                try fileSystem.removeFile(directory + "/" + name)
            }
        } catch {
            throw ColumnFileError.io("cannot prepare the vnode directory \(directory)", cause: error)
        }
        try engine.install(EngineManifest(), files: [])
        return engine
    }

    /// True when nothing is in memory (everything applied is in the files).
    public var memoryIsEmpty: Bool { memtable.isEmpty && flushing == nil }

    /// Applies the writes of the log entry at `index`; an entry at or below `coveredIndex` is already in the
    /// files and is ignored.
    public func apply(_ points: [Point], at index: UInt64) {
        guard index > manifest.coveredIndex else { return }
        for point in points { memtable.upsert(point) }
        appliedIndex = max(appliedIndex, index)
    }

    /// Applies the deletion of the log entry at `index` (ignored at or below `coveredIndex`, as a write is): the
    /// memtable's rows go at once; the tombstone is kept while some file or the memtable being flushed holds
    /// nothing newer than the entry before it, and hides their rows from then on.
    public func delete(_ tombstone: Tombstone, at index: UInt64) {
        guard index > manifest.coveredIndex else { return }
        var tombstone = tombstone
        tombstone.index = index
        memtable.remove(tombstone)
        appliedIndex = max(appliedIndex, index)
        // A snapshot may have brought this entry's tombstone already (it carries those above its index).
        if isNeeded(tombstone, files: files) && !tombstones.contains(where: { $0.index == index }) {
            tombstones.append(tombstone)
        }
    }

    /// True while a layer that cannot change holds rows `tombstone` hides: a file among `files`, or the memtable
    /// being flushed.
    func isNeeded(_ tombstone: Tombstone, files: [ColumnFile]) -> Bool {
        files.contains { tombstone.applies(toLayerCovering: $0.footer.coveredIndex) }
            || (flushing.map { tombstone.applies(toLayerCovering: $0.coveredIndex) } ?? false)
    }

    /// `apply(_:at:)` of a `PointCodec` batch, merged into the memtable from its bytes (`Memtable.upsert(encoded:)`).
    /// - Throws: `CodecError` if the bytes do not decode (the points before the bad one are applied).
    public func apply(encoded points: ArraySlice<UInt8>, at index: UInt64) throws(CodecError) {
        guard index > manifest.coveredIndex else { return }
        appliedIndex = max(appliedIndex, index)
        try memtable.upsert(encoded: points)
    }

    /// Values whose type differed from their column's in the memtable, skipped.
    public var typeConflicts: Int { memtable.typeConflicts }

    /// How many column files the vnode has.
    public var fileCount: Int { files.count }

    /// The files' total size in bytes.
    public var fileBytes: Int { files.reduce(0) { $0 + $1.size } }

    /// A number for a new file.
    func takeFileNumber() -> UInt64 {
        defer { nextFileNumber += 1 }
        return nextFileNumber
    }

    /// Replaces the manifest with `next` (durably), then the in-memory list of files with `files`; the
    /// tombstones no layer needs any more are dropped, the others written with it.
    func install(_ next: EngineManifest, files: [ColumnFile]) throws(ColumnFileError) {
        var next = next
        next.nextFileNumber = max(next.nextFileNumber, nextFileNumber)
        next.tombstones = tombstones.filter { isNeeded($0, files: files) }
        let path = directory + "/" + EngineManifest.fileName
        do {
            try fileSystem.createAtomically(path, content: next.encoded(), directory: directory, sync: true)
        } catch {
            throw ColumnFileError.io("cannot write \(path)", cause: error)
        }
        manifest = next
        self.files = files
        tombstones = next.tombstones
    }
}
