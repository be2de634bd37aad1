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
        upsert(point.fields, at: point.timestamp, into: data)
    }

    /// Merges a point's fields into `data`, a series of this memtable.
    private func upsert(_ fields: [Field], at timestamp: Int64, into data: SeriesData) {
        let (_, conflicts, newColumns) = data.upsert(fields, at: timestamp)
        // A column the series had already is in the measurement's schema since it was made: only a new one
        // can add a field there (looking each field up there cost more than the upsert).
        if newColumns {
            for field in fields where schemas[data.measurement]?.fields[field.key] == nil {
                schemas[data.measurement]!.fields[field.key] = Column.Kind(of: field.value)
            }
        }
        valueCount += fields.count
        typeConflicts += conflicts
    }

    /// Upserts every point of a `PointCodec` batch, as `upsert(_:)` of each decoded point does. A point of a
    /// series the memtable has already is merged straight from the bytes: its key is built in a buffer used for
    /// every point and its fields decoded into an array used for every point, so that no point, tag list or
    /// key is allocated (what applying a write cost most). A point of a new series is decoded whole.
    /// - Throws: `CodecError` if the bytes do not decode; the points before the bad one are applied.
    func upsert(encoded bytes: ArraySlice<UInt8>) throws(CodecError) {
        var reader = BinaryReader(bytes)
        let count = Int(try reader.u32())
        var key: [UInt8] = []
        var fields: [Field] = []
        var tags: [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = []
        for _ in 0..<count {
            key.removeAll(keepingCapacity: true)
            tags.removeAll(keepingCapacity: true)
            let measurement = try reader.stringBytes()
            SeriesKey.appendEscaped(measurement, to: &key)
            let tagCount = Int(try reader.u16())
            // Only tags in byte order of their keys make the key that `SeriesKey` makes; others take the
            // decoded path, which sorts them.
            var inOrder = true
            for _ in 0..<tagCount {
                let tag = (key: try reader.stringBytes(), value: try reader.stringBytes())
                if let last = tags.last, !last.key.lexicographicallyPrecedes(tag.key) { inOrder = false }
                tags.append(tag)
                key.append(UInt8(ascii: ","))
                SeriesKey.appendEscaped(tag.key, to: &key)
                key.append(UInt8(ascii: "="))
                SeriesKey.appendEscaped(tag.value, to: &key)
            }
            fields.removeAll(keepingCapacity: true)
            try PointCodec.readFields(&reader, into: &fields)
            let timestamp = Int64(bitPattern: try reader.u64())
            // A stored key is a valid UTF-8 serialization of sorted tags: equal bytes are the same series.
            if inOrder, let data = series[SeriesKey(bytes: key)] {
                upsert(fields, at: timestamp, into: data)
                continue
            }
            var point = Point(
                measurement: String(decoding: measurement, as: UTF8.self), tags: [], fields: fields,
                timestamp: timestamp)
            point.tags = tags.map {
                Tag(String(decoding: $0.key, as: UTF8.self), String(decoding: $0.value, as: UTF8.self))
            }
            upsert(point)
        }
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
