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
    /// The layers as they are now; only the series of `measurement` from the memory layers when given (the
    /// files are always whole: their indexes are already in memory).
    public func view(of measurement: String? = nil) -> EngineView {
        var flushingLayer: [SeriesKey: SeriesColumns] = [:]
        for (key, data) in flushing ?? [] where measurement == nil || data.measurement == measurement {
            flushingLayer[key] = data
        }
        var memtableLayer: [SeriesKey: SeriesColumns] = [:]
        for (key, data) in memtable.series where measurement == nil || data.measurement == measurement {
            memtableLayer[key] = data.frozen()
        }
        return EngineView(files: files, memory: [flushingLayer, memtableLayer])
    }
}
