import LineProtocol

/// A vnode's newest writes, in memory by series (columnar, `SeriesData`), until a flush writes them to a column
/// file. Upserts merge fields into an existing row (last write wins per field); a field whose type differs from
/// its column's in this memtable is skipped and counted.
final class Memtable {
    private(set) var series: [SeriesKey: SeriesData] = [:]
    /// Rows held.
    private(set) var rowCount = 0
    /// Field values written (each upsert of a field counts): what the flush threshold measures.
    private(set) var valueCount = 0
    private(set) var typeConflicts = 0

    var isEmpty: Bool { series.isEmpty }

    func upsert(_ point: Point) {
        let key = SeriesKey(point)
        let data: SeriesData
        if let existing = series[key] {
            data = existing
        } else {
            data = SeriesData(key: key, measurement: point.measurement, tags: point.tags)
            series[key] = data
        }
        let (inserted, conflicts) = data.upsert(point)
        if inserted { rowCount += 1 }
        valueCount += point.fields.count
        typeConflicts += conflicts
    }

    /// Every series as frozen values in key order (copy-on-write: taking them copies nothing).
    func frozen() -> [(key: SeriesKey, columns: SeriesColumns)] {
        series.keys.sorted().map { ($0, series[$0]!.frozen()) }
    }
}
