import LineProtocol

/// A frozen view of a vnode engine's layers, taken for one read: its files (held open, so that a compaction
/// deleting them meanwhile changes nothing of what the read sees) and its memory layers as copy-on-write values.
/// Taking one copies no rows; reading it is safe on any thread while the engine goes on applying, flushing and
/// compacting.
public struct EngineView: Sendable {
    /// The files, oldest data first.
    let files: [ColumnFile]
    /// The memory layers, older first (the memtable being flushed, then the memtable), by series.
    let memory: [[SeriesKey: SeriesColumns]]
}

extension VnodeEngine {
    /// The layers as they are now; from the memory layers only the series of `measurement` with every one of
    /// `tags` when a measurement is given (found through the memtable's indexes; the files are always whole:
    /// their indexes are in memory already, and `tags` select from them through theirs).
    public func view(of measurement: String? = nil, tags: [Tag] = []) -> EngineView {
        func layer(_ table: Memtable?) -> [SeriesKey: SeriesColumns] {
            guard let table else { return [:] }
            var layer: [SeriesKey: SeriesColumns] = [:]
            if let measurement {
                for key in table.keys(of: measurement, with: tags) { layer[key] = table.series[key]!.frozen() }
            } else {
                for (key, data) in table.series { layer[key] = data.frozen() }
            }
            return layer
        }
        return EngineView(files: files, memory: [layer(flushing?.table), layer(memtable)])
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
