import LineProtocol
import MultiRaft
import RaftCore
import RaftStorage
import Synchronization

/// The state machine of one vnode (a replica of one replica set): the points of the series hashed to it, kept
/// by a `VnodeEngine` in a directory of its own, so that the vnode's data is bounded by disk, not memory.
///
/// Commands: `0x01` + `PointCodec` batch (upserts), the same as ever; `0x02` + `Tombstone.bytes` (a deletion,
/// applied at its entry's index). The machine is persistent: the host
/// compacts the group's log at the engine's covered index instead of writing snapshots, and a snapshot is the
/// engine's files at that index (`EngineSnapshotSource`).
///
/// Layout: `directory/<generation>/` holds one engine (its manifest and column files). A new replica starts a
/// generation above every one found, and so does a snapshot installed; the newest generation with a manifest is
/// the vnode, the others are what a crash left of older ones and are deleted. A replica destroyed and created
/// anew in the same directory therefore never reads a file of its predecessor, even one that a flush of the
/// old replica, still running, writes late.
///
/// Not thread-safe: the host's loop thread owns it; jobs and read views run anywhere.
public final class VnodeMachine: PersistentStateMachine {
    /// The vnode's directory (its generations live under it).
    public let directory: String
    let fileSystem: any FileSystem
    let options: VnodeEngine.Options
    private var opened: VnodeEngine?
    /// The checksum and the applied index it was computed at.
    private var checksumAt: (index: UInt64, value: UInt64)?
    /// Set by whoever first finds a damaged file (a read on any thread, or a job).
    let damageFound = DamageFlag()

    public init(directory: String, fileSystem: any FileSystem, options: VnodeEngine.Options = VnodeEngine.Options()) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.options = options
    }

    /// The engine; the machine must have been opened, created or restored.
    public var engine: VnodeEngine {
        guard let opened else { preconditionFailure("the vnode in \(directory) is used before it was opened") }
        return opened
    }

    // MARK: - Generations

    private func path(of generation: UInt64) -> String { directory + "/" + String(generation) }

    /// The generations on disk, and which of them hold a manifest.
    private func generations() -> (all: [UInt64], complete: [UInt64]) {
        guard let names = try? fileSystem.contentsOfDirectory(directory) else { return ([], []) }
        let all = names.compactMap { UInt64($0) }.sorted()
        let complete = all.filter {
            (try? fileSystem.contentsOfDirectory(path(of: $0)))?.contains(EngineManifest.fileName) ?? false
        }
        return (all, complete)
    }

    /// Deletes generations (best effort: what is left is deleted by the next open).
    private func remove(_ generations: [UInt64]) {
        for generation in generations {
            let path = path(of: generation)
            for name in (try? fileSystem.contentsOfDirectory(path)) ?? [] {
                try? fileSystem.removeFile(path + "/" + name)
            }
            try? fileSystem.removeDirectory(path)
        }
        if !generations.isEmpty { try? fileSystem.syncDirectory(directory) }
    }

    /// Makes a new generation's directory durable in the vnode's.
    private func prepare(_ generation: UInt64) throws {
        try fileSystem.createDirectory(path(of: generation))
        try fileSystem.syncDirectory(directory)
        if let parent = directory.lastIndex(of: "/") { try? fileSystem.syncDirectory(String(directory[..<parent])) }
    }

    // MARK: - PersistentStateMachine

    public func openDurable() throws -> LogIndex {
        let (all, complete) = generations()
        guard let newest = complete.last else {
            try createDurable()
            return durableIndex
        }
        opened = try VnodeEngine.open(directory: path(of: newest), fileSystem: fileSystem, options: options)
        remove(all.filter { $0 != newest })
        return durableIndex
    }

    public func createDurable() throws {
        let (all, _) = generations()
        remove(all)
        let next = (all.last ?? 0) + 1
        try prepare(next)
        opened = try VnodeEngine.create(directory: path(of: next), fileSystem: fileSystem, options: options)
    }

    public func removeDurable() {
        remove(generations().all)
        try? fileSystem.removeDirectory(directory)
        opened = nil
    }

    public var durableIndex: LogIndex { LogIndex(engine.coveredIndex) }

    public var durableState: [UInt8] { engine.coveredState }

    public func nextJob(flush: Bool, state: () -> [UInt8]) -> PersistenceJob? {
        guard damage == nil else { return nil }
        let engine = engine
        if engine.wantsFlush || (flush && !engine.memoryIsEmpty), let task = engine.beginFlush(state: state()) {
            return PersistenceJob(kind: .flush) { try task.run() }
        }
        if let task = engine.beginCompaction() { return PersistenceJob(kind: .compaction) { try task.run() } }
        return nil
    }

    public func finishJob(_ job: PersistenceJob, output: any Sendable) throws {
        switch output {
        case let flushed as FlushedFile: try engine.finishFlush(flushed)
        case let compacted as CompactedFile: try engine.finishCompaction(compacted)
        default: preconditionFailure("not the output of a vnode job: \(type(of: output))")
        }
    }

    public var damage: String? { damageFound.value.map { ColumnFileError(.corrupt, $0).description } }

    public func abandonJob(_ job: PersistenceJob, error: (any Error)?) {
        if let error = error as? ColumnFileError, error.code == .corrupt { damageFound.record(error.message) }
        switch job.kind {
        case .flush: engine.abandonFlush()
        case .compaction: engine.abandonCompaction()
        }
    }

    public func durableSnapshot() -> any StreamingSnapshotSource { engine.snapshotSource() }

    // MARK: - StateMachine

    /// The command that writes `points`.
    public static func writeCommand(_ points: [Point]) -> [UInt8] { [1] + PointCodec.encode(points) }

    /// The command that applies `tombstone` (its index is the entry's, whatever the value says).
    public static func deleteCommand(_ tombstone: Tombstone) -> [UInt8] { [2] + tombstone.bytes }

    public func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        switch command.first {
        case 1:
            // A batch that does not decode is not applied at all, on every replica alike (checked first: the
            // merge from bytes applies the points before a bad one).
            guard (try? PointCodec.validate(command.dropFirst())) != nil else { return [] }
            try? engine.apply(encoded: command.dropFirst(), at: index.rawValue)
        case 2:
            guard let tombstone = try? Tombstone(bytes: command.dropFirst()) else { return [] }
            engine.delete(tombstone, at: index.rawValue)
        default:
            break
        }
        return []
    }

    public func snapshot() -> [UInt8] {
        var bytes: [UInt8] = []
        try? engine.snapshotSource().write { bytes += $0 }
        return bytes
    }

    public func snapshotSource() -> any SnapshotSource { engine.snapshotSource() }

    public func restore(_ data: [UInt8]) throws { try restoreAsOneChunk(data) }

    /// Installs a snapshot stream into a new generation (each file synced as it completes, the manifest last),
    /// then deletes the older generations.
    public func restore(chunks next: () throws -> [UInt8]?) throws {
        let (all, _) = generations()
        let target = (all.last ?? 0) + 1
        try prepare(target)
        var receiver = EngineSnapshotReceiver(directory: path(of: target), fileSystem: fileSystem, options: options)
        while let chunk = try next() { try receiver.take(chunk) }
        opened = try receiver.finish()
        remove(all)
    }

    /// Computed by reading every row (`VnodeEngine.checksum`) once per applied index: apply is deterministic, so
    /// the index names the state, and asking again (a status page polled) costs nothing until the next write.
    public var checksum: UInt64 {
        let index = engine.appliedIndex
        if let cached = checksumAt, cached.index == index { return cached.value }
        guard let value = try? engine.checksum().checksum else { return 0 }
        checksumAt = (index, value)
        return value
    }

    /// Only as computed at the applied index already: reading every row on the loop thread, for a status page,
    /// would stall every group's heartbeats (seconds for a vnode of millions of points).
    public var checksumIfCheap: UInt64? {
        guard let cached = checksumAt, cached.index == engine.appliedIndex else { return nil }
        return cached.value
    }

    public var snapshotsInBackground: Bool { true }

    /// Apply touches only this vnode's memtable.
    public var appliesConcurrently: Bool { true }
}

/// The engine's snapshot stream is what the host sends for a vnode, read from its files as it goes out.
extension EngineSnapshotSource: StreamingSnapshotSource {
    public func reader() -> any SnapshotStreamReader { EngineSnapshotReader(self) }
}

extension EngineSnapshotReader: SnapshotStreamReader {}

/// The first damage found in a vnode's files, shared between the machine and the reads running off its thread.
final class DamageFlag: Sendable {
    private let found = Mutex<String?>(nil)

    var value: String? { found.withLock { $0 } }

    func record(_ why: String) { found.withLock { $0 = $0 ?? why } }

    /// Runs `read`; a damaged file it meets is recorded before the error goes on.
    func watch<T>(_ read: () throws -> T) throws -> T {
        if let why = value { throw ColumnFileError(.corrupt, why) }
        do {
            return try read()
        } catch let error as ColumnFileError where error.code == .corrupt {
            record(error.message)
            throw error
        }
    }
}
