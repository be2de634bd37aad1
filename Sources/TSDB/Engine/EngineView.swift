import LineProtocol

/// A frozen view of a vnode engine's layers, taken for one read: its files (held open, so that a compaction
/// deleting them meanwhile changes nothing of what the read sees) and its memory layers as copy-on-write values.
/// Taking one copies no rows; reading it is safe on any thread while the engine goes on applying, flushing and
/// compacting.
public struct EngineView: Sendable {
    /// The files, oldest data first.
    let files: [ColumnFile]
    /// The memory layers, older first (the memtable being flushed, then the memtable), by series, with the
    /// rows that tombstones delete already left out.
    let memory: [[SeriesKey: SeriesColumns]]
    /// The deletions that hide rows of the files (each file says which apply to it: `Tombstone`).
    let tombstones: [Tombstone]

    /// The time ranges whose rows of a series of `measurement` with `tags` are deleted in `file`.
    func deleted(in file: ColumnFile, _ measurement: String, _ tags: [Tag]) -> DeletedRanges {
        DeletedRanges(tombstones, measurement: measurement, tags: tags, layerIndex: file.footer.coveredIndex)
    }
}

extension VnodeEngine {
    /// The layers as they are now; from the memory layers only the series of `measurement` with every one of
    /// `tags` when a measurement is given (found through the memtable's indexes; the files are always whole:
    /// their indexes are in memory already, and `tags` select from them through theirs).
    public func view(of measurement: String? = nil, tags: [Tag] = []) -> EngineView {
        // The memtable has no deleted rows; the one being flushed may (tombstones applied since it froze).
        let flushingTombstones = flushing.map { frozen in
            tombstones.filter { $0.applies(toLayerCovering: frozen.coveredIndex) }
        }
        func layer(_ table: Memtable?, tombstones: [Tombstone]) -> [SeriesKey: SeriesColumns] {
            guard let table else { return [:] }
            var layer: [SeriesKey: SeriesColumns] = [:]
            func add(_ key: SeriesKey, _ data: SeriesData) {
                var columns = data.frozen()
                if !tombstones.isEmpty {
                    let deleted = DeletedRanges(
                        tombstones, measurement: data.measurement, tags: data.tags, layerIndex: 0)  // all apply
                    let (timestamps, kept) = deleted.removing(from: columns.timestamps, columns.columns)
                    guard !timestamps.isEmpty else { return }
                    columns = SeriesColumns(
                        measurement: columns.measurement, tags: columns.tags, timestamps: timestamps, columns: kept)
                }
                layer[key] = columns
            }
            if let measurement {
                for key in table.keys(of: measurement, with: tags) { add(key, table.series[key]!) }
            } else {
                for (key, data) in table.series { add(key, data) }
            }
            return layer
        }
        return EngineView(
            files: files,
            memory: [
                layer(flushing?.table, tombstones: flushingTombstones ?? []), layer(memtable, tombstones: []),
            ], tombstones: tombstones)
    }

    /// Each measurement's columns over every layer (a field's kind is the one its oldest layer gives it), from
    /// the layers' indexes: no rows are read.
    func schemas() -> [String: MeasurementColumns] {
        var result: [String: MeasurementColumns] = [:]
        for file in files {
            for (name, columns) in file.schemas { result[name, default: MeasurementColumns()].merge(columns) }
        }
        for (name, columns) in flushingSchemas { result[name, default: MeasurementColumns()].merge(columns) }
        for (name, columns) in memtable.schemas { result[name, default: MeasurementColumns()].merge(columns) }
        return result
    }

    /// Of `tags`, those that can select series here: a key that is also a field of `measurement` in this vnode
    /// is dropped, since a row without that tag matches `key = 'value'` through its field (the caller filters
    /// the rows of those series itself).
    func seriesSelectors(_ tags: [Tag], of measurement: String) -> [Tag] {
        guard !tags.isEmpty else { return tags }
        func isField(_ key: String) -> Bool {
            memtable.schemas[measurement]?.fields[key] != nil
                || flushingSchemas[measurement]?.fields[key] != nil
                || files.contains { $0.schemas[measurement]?.fields[key] != nil }
        }
        return tags.filter { !isField($0.key) }
    }
}
