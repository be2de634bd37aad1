import RaftStorage

/// A frozen memtable and where its file goes: runs on any thread, touching nothing but its own values and the
/// file it writes. Its series are put in key order here, off the engine owner's thread (sorting a memtable of
/// 100 k series there held up every group of the node).
public struct FlushTask: Sendable {
    let number: UInt64
    let coveredIndex: UInt64
    let state: [UInt8]
    let memtable: FrozenMemtable
    let directory: String
    let fileSystem: any FileSystem
    let blockRows: Int

    /// Writes the column file (temporary name, fsync, rename, directory fsync) and opens it.
    public func run() throws(ColumnFileError) -> FlushedFile {
        let path = directory + "/" + EngineManifest.fileName(of: number)
        var writer = try ColumnFileWriter(
            path: path, directory: directory, fileSystem: fileSystem, blockRows: blockRows)
        for (_, data) in memtable.table.frozen() {
            try writer.append(
                measurement: data.measurement, tags: data.tags, timestamps: data.timestamps, columns: data.columns)
        }
        try writer.finish(coveredIndex: coveredIndex)
        return FlushedFile(
            number: number, coveredIndex: coveredIndex, state: state,
            file: try ColumnFile.open(path, fileSystem: fileSystem))
    }
}

/// A memtable that nothing writes to any more (it is being flushed): its series may be read on any thread at
/// once. Only `VnodeEngine.beginFlush` and the import make one, from a memtable they stop writing to.
struct FrozenMemtable: @unchecked Sendable {
    let table: Memtable
    /// The last log entry whose writes it holds (what a tombstone compares with).
    let coveredIndex: UInt64

    init(_ table: Memtable, coveredIndex: UInt64) {
        self.table = table
        self.coveredIndex = coveredIndex
    }
}

/// A flush's result, to be installed by the engine's owner (`VnodeEngine.finishFlush`).
public struct FlushedFile: Sendable {
    let number: UInt64
    let coveredIndex: UInt64
    let state: [UInt8]
    let file: ColumnFile
}

extension VnodeEngine {
    /// True when the memtable has grown past its bound and no flush is running.
    public var wantsFlush: Bool { flushing == nil && memtable.valueCount >= options.memtableValues }

    /// Freezes the memtable (a fresh one takes the writes that follow) and hands out the task that writes it;
    /// `nil` if it is empty or a flush is already running. Until `finishFlush`, reads still see the frozen rows.
    /// `state`: what the state machine keeps beside the points as of the last write applied (its session table);
    /// the manifest records it with the covered index.
    public func beginFlush(state: [UInt8] = []) -> FlushTask? {
        guard flushing == nil, !memtable.isEmpty else { return nil }
        let frozen = FrozenMemtable(memtable, coveredIndex: appliedIndex)
        flushing = frozen
        memtable = Memtable()
        return FlushTask(
            number: takeFileNumber(), coveredIndex: appliedIndex, state: state, memtable: frozen,
            directory: directory, fileSystem: fileSystem, blockRows: options.blockRows)
    }

    /// Installs a flushed file: the manifest lists it and covers its index from now on.
    public func finishFlush(_ flushed: FlushedFile) throws(ColumnFileError) {
        var next = manifest
        next.files.append(flushed.number)
        if flushed.coveredIndex >= next.coveredIndex {
            next.coveredIndex = flushed.coveredIndex
            next.state = flushed.state
        }
        try install(next, files: files + [flushed.file])
        bytesFlushed += flushed.file.size
        flushing = nil
    }

    /// A flush that failed: its rows go back under the memtable's (which are newer), to be flushed again —
    /// without those that a tombstone applied since the freeze has deleted.
    public func abandonFlush() {
        guard let frozen = flushing else { return }
        let newer = memtable
        memtable = Memtable()
        for data in frozen.table.series.values {
            let deleted = DeletedRanges(
                tombstones, measurement: data.measurement, tags: data.tags, layerIndex: frozen.coveredIndex)
            for row in 0..<data.rowCount where !deleted.contains(data.timestamps[row]) {
                memtable.upsert(data.point(at: row))
            }
        }
        for data in newer.series.values {
            for row in 0..<data.rowCount { memtable.upsert(data.point(at: row)) }
        }
        flushing = nil
    }

    /// Flushes on the caller's thread (shutdown, tests, a snapshot that needs everything in files).
    public func flushNow(state: [UInt8] = []) throws(ColumnFileError) {
        guard let task = beginFlush(state: state) else { return }
        do {
            try finishFlush(try task.run())
        } catch {
            abandonFlush()
            throw error
        }
    }
}
