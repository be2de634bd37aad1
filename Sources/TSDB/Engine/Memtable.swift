import LineProtocol

/// A vnode's newest writes, in memory by series (columnar, `SeriesData`), until a flush writes them to a column
/// file. Upserts merge fields into an existing row (last write wins per field); a field whose type differs from
/// its column's in this memtable is skipped and counted.
final class Memtable {
    private(set) var series: [SeriesKey: SeriesData] = [:]
    /// Field values written (each upsert of a field counts): what the flush threshold measures.
    private(set) var valueCount = 0
    private(set) var typeConflicts = 0

    var isEmpty: Bool { series.isEmpty }

    func upsert(_ point: Point) {
        let (_, conflicts) = series.data(of: point).data.upsert(point)
        valueCount += point.fields.count
        typeConflicts += conflicts
    }

    /// Every series as frozen values in key order (copy-on-write: taking them copies nothing).
    func frozen() -> [(key: SeriesKey, columns: SeriesColumns)] {
        series.keys.sorted().map { ($0, series[$0]!.frozen()) }
    }
}
