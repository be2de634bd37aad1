import LineProtocol
import RaftStorage

/// Files to merge into one, and where it goes: runs on any thread. The inputs are immutable and stay open until
/// the output is installed. The rows the engine's tombstones hide in an input are left out of the output; a
/// tombstone that the output still needs (one newer than some input and not than every one) stays in the engine.
public struct CompactionTask: Sendable {
    let inputs: [ColumnFile]
    let tombstones: [Tombstone]
    let inputNumbers: [UInt64]
    let number: UInt64
    let directory: String
    let fileSystem: any FileSystem
    let blockRows: Int

    /// Merges the inputs series by series (oldest input first, so the newest write of a field wins) and writes
    /// the output file as it goes: memory holds one series of each input and a few MiB of output, not the file.
    public func run() throws(ColumnFileError) -> CompactedFile {
        var cursors = inputs.map { _ in 0 }  // next series position in each input
        // The entry at each cursor, decoded once.
        var current: [ColumnFileIndex.Series?] = inputs.map { $0.index.series.first }
        let path = directory + "/" + EngineManifest.fileName(of: number)
        var writer = try ColumnFileWriter(
            path: path, directory: directory, fileSystem: fileSystem, blockRows: blockRows)
        while true {
            // The smallest key not yet merged, across the inputs.
            var next: SeriesKey?
            for case let series? in current where next == nil || series.key < next! { next = series.key }
            guard let key = next else { break }
            var sources: [SeriesMerge.Source] = []
            var measurement = ""
            var tags: [Tag] = []
            for (k, file) in inputs.enumerated() {
                guard let series = current[k], series.key == key else { continue }
                measurement = series.measurement
                tags = series.tags
                var source = SeriesMerge.Source()
                let deleted = DeletedRanges(
                    tombstones, measurement: series.measurement, tags: series.tags,
                    layerIndex: file.footer.coveredIndex)
                for block in series.blocks.indices {
                    let (timestamps, columns): ([Int64], [(name: String, column: Column)])
                    do {
                        (timestamps, columns) = deleted.removing(from: try file.rows(series, block: block))
                    } catch {
                        writer.abandon()
                        throw error
                    }
                    // Rows all deleted give no field its type (`RowMerger.add`).
                    if !timestamps.isEmpty { source.append(timestamps: timestamps, columns: columns) }
                }
                sources.append(source)
                cursors[k] += 1
                current[k] = cursors[k] < file.index.series.count ? file.index.series[cursors[k]] : nil
            }
            let (timestamps, columns) = SeriesMerge.merge(sources)
            guard !timestamps.isEmpty else { continue }  // every row deleted: the series leaves the files
            try writer.append(measurement: measurement, tags: tags, timestamps: timestamps, columns: columns)
        }
        try writer.finish(coveredIndex: inputs.map(\.footer.coveredIndex).max() ?? 0)
        return CompactedFile(
            inputs: inputNumbers, number: number, file: try ColumnFile.open(path, fileSystem: fileSystem))
    }
}

/// A compaction's result, to be installed by the engine's owner (`VnodeEngine.finishCompaction`).
public struct CompactedFile: Sendable {
    let inputs: [UInt64]
    let number: UInt64
    let file: ColumnFile
}

extension VnodeEngine {
    /// True if `run` is of one size tier: its largest file at most twice its smallest (sizes under 1 MiB count as
    /// 1 MiB). Relative, not fixed bounds: flushes of about one size that straddle a fixed bound would otherwise
    /// never form a run. A merge makes a file about `compactionFanIn` times its inputs, so each point is
    /// rewritten about log_fanIn(total / flush size) times (size-tiered compaction).
    func isOneTier(_ run: ArraySlice<ColumnFile>) -> Bool {
        let sizes = run.map { max($0.size, 1 << 20) }
        return sizes.max()! <= 2 * sizes.min()!
    }

    /// The oldest run of `compactionFanIn` consecutive files of one size tier, merged into one; `nil` if there is
    /// none or a compaction is already running.
    public func beginCompaction() -> CompactionTask? {
        guard compacting == nil, options.compactionFanIn >= 2, files.count >= options.compactionFanIn else {
            return nil
        }
        let fanIn = options.compactionFanIn
        for start in 0...(files.count - fanIn) {
            let run = files[start..<(start + fanIn)]
            guard isOneTier(run) else { continue }
            let numbers = Array(manifest.files[start..<(start + fanIn)])
            compacting = numbers
            return CompactionTask(
                inputs: Array(run), tombstones: tombstones, inputNumbers: numbers, number: takeFileNumber(),
                directory: directory,
                fileSystem: fileSystem, blockRows: options.blockRows)
        }
        return nil
    }

    /// Puts the merged file in its inputs' place in the manifest, then deletes the inputs.
    public func finishCompaction(_ compacted: CompactedFile) throws(ColumnFileError) {
        compacting = nil
        guard let start = manifest.files.firstIndex(of: compacted.inputs[0]),
            Array(manifest.files[start...].prefix(compacted.inputs.count)) == compacted.inputs
        else {
            throw ColumnFileError(.io, "\(directory): the compaction's inputs are no longer consecutive files")
        }
        var next = manifest
        let range = start..<(start + compacted.inputs.count)
        next.files.replaceSubrange(range, with: [compacted.number])
        var newFiles = files
        newFiles.replaceSubrange(range, with: [compacted.file])
        try install(next, files: newFiles)
        bytesCompacted += compacted.file.size
        for number in compacted.inputs {
            // A file left behind is deleted at the next open (the manifest no longer lists it).
            try? fileSystem.removeFile(directory + "/" + EngineManifest.fileName(of: number))
        }
    }

    /// A compaction that failed: the inputs stay; its output, if written, is deleted at the next open.
    public func abandonCompaction() { compacting = nil }

    /// Compacts on the caller's thread until no run is left (tests, maintenance).
    public func compactNow() throws(ColumnFileError) {
        while let task = beginCompaction() {
            do {
                try finishCompaction(try task.run())
            } catch {
                abandonCompaction()
                throw error
            }
        }
    }
}

extension VnodeEngine {
    /// TTL: drops every file whose newest point is older than `cutoff` (whole files: nothing is rewritten).
    /// Rows still in memory are not dropped here; they go with their file once flushed.
    /// - Returns: how many files were dropped.
    @discardableResult
    public func dropFiles(endingBefore cutoff: Int64) throws(ColumnFileError) -> Int {
        let expired = Set(
            zip(manifest.files, files).filter {
                !(compacting?.contains($0.0) ?? false) && $0.1.footer.maxTime < cutoff
            }
            .map(\.0))
        guard !expired.isEmpty else { return 0 }
        var next = manifest
        next.files.removeAll { expired.contains($0) }
        let kept = zip(manifest.files, files).filter { !expired.contains($0.0) }.map(\.1)
        try install(next, files: kept)
        for number in expired {
            try? fileSystem.removeFile(directory + "/" + EngineManifest.fileName(of: number))
        }
        return expired.count
    }
}
