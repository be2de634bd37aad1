import LineProtocol

/// A vnode's newest writes, in memory by series (columnar, `SeriesData`), until a flush writes them to a column
/// file. Upserts merge fields into an existing row (last write wins per field); a field whose type differs from
/// its column's in this memtable is skipped and counted.
///
/// Indexed for reads: the series of each measurement, of each tag (key and value: the inverted index), and each
/// measurement's columns (tag keys, field kinds as first written), kept as series and fields appear.
final class Memtable {
    private(set) var series: [SeriesKey: SeriesData] = [:]
    private(set) var byMeasurement: [String: [SeriesKey]] = [:]
    private(set) var byTag: [Tag: [SeriesKey]] = [:]
    private(set) var schemas: [String: MeasurementColumns] = [:]
    /// Field values written (each upsert of a field counts): what the flush threshold measures.
    private(set) var valueCount = 0
    private(set) var typeConflicts = 0

    var isEmpty: Bool { series.isEmpty }

    func upsert(_ point: Point) {
        let (data, created) = series.data(of: point)
        if created {
            byMeasurement[point.measurement, default: []].append(data.key)
            for tag in point.tags { byTag[tag, default: []].append(data.key) }
            schemas[point.measurement, default: MeasurementColumns()].add(tags: point.tags)
        }
        let (_, conflicts, newColumns) = data.upsert(point)
        // A column the series had already is in the measurement's schema since it was made: only a new one
        // can add a field there (looking each field up there cost more than the upsert).
        if newColumns {
            for field in point.fields where schemas[point.measurement]?.fields[field.key] == nil {
                schemas[point.measurement]!.fields[field.key] = Column.Kind(of: field.value)
            }
        }
        valueCount += point.fields.count
        typeConflicts += conflicts
    }

    /// Removes the rows `tombstone` deletes; a series left without rows leaves the indexes too (the
    /// measurement's columns stay: a layer's schema may name columns its rows no longer use).
    func remove(_ tombstone: Tombstone) {
        var emptied: Set<SeriesKey> = []
        for key in byMeasurement[tombstone.measurement] ?? [] {
            guard let data = series[key], tombstone.matches(data.tags) else { continue }
            data.removeRows(DeletedRanges(tombstone))
            if data.rowCount == 0 { emptied.insert(key) }
        }
        guard !emptied.isEmpty else { return }
        for key in emptied {
            guard let data = series.removeValue(forKey: key) else { continue }
            for tag in data.tags { byTag[tag]?.removeAll { emptied.contains($0) } }
        }
        byMeasurement[tombstone.measurement]?.removeAll { emptied.contains($0) }
    }

    /// The keys of the series of `measurement` that have every one of `tags` (through the smallest tag list).
    func keys(of measurement: String, with tags: [Tag]) -> [SeriesKey] {
        guard !tags.isEmpty else { return byMeasurement[measurement] ?? [] }
        let lists = tags.map { byTag[$0] ?? [] }
        let shortest = lists.min { $0.count < $1.count } ?? []
        return shortest.filter { key in
            guard let data = series[key], data.measurement == measurement else { return false }
            return VnodeQuery.has(tags, data.tags)
        }
    }

    /// Every series as frozen values in key order (copy-on-write: taking them copies nothing).
    func frozen() -> [(key: SeriesKey, columns: SeriesColumns)] {
        series.keys.sorted().map { ($0, series[$0]!.frozen()) }
    }
}

/// A measurement's columns as a layer holds them: tag keys, and each field's kind (the first written).
struct MeasurementColumns: Sendable {
    var tags: Set<String> = []
    var fields: [String: Column.Kind] = [:]

    mutating func add(tags keys: [Tag]) { for tag in keys { tags.insert(tag.key) } }

    /// Adds what `other` has that this lacks (the older layer's kinds win).
    mutating func merge(_ other: MeasurementColumns) {
        tags.formUnion(other.tags)
        fields.merge(other.fields) { mine, _ in mine }
    }
}
