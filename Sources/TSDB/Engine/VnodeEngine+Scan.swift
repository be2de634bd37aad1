import LineProtocol

extension VnodeEngine {
    /// Every row of `measurement` with `start <= time < end` whose series passes `seriesFilter`, series in key
    /// order, rows in time order, each the merge of every layer (the newest write of each field wins). Blocks
    /// outside the range are not read. `fields`: only these fields (all when `nil`); a row left with none of
    /// them is dropped.
    /// - Throws: `ColumnFileError` for a damaged file (named, with the offset).
    public func scan(
        _ measurement: String, start: Int64 = .min, end: Int64 = .max, fields: Set<String>? = nil,
        seriesFilter: ([Tag]) -> Bool = { _ in true }
    ) throws(ColumnFileError) -> [Row] {
        var rows: [Row] = []
        try scanInBatches(measurement, start: start, end: end, fields: fields, seriesFilter: seriesFilter) { batch in
            rows += batch
            return true
        }
        return rows
    }

    /// The rows `scan` returns, handed to `emit` in batches of about `batchRows` as they are merged — one
    /// series at a time, so that memory holds one series and one batch whatever the range — until `limit`
    /// rows were handed out or `emit` answers false.
    public func scanInBatches(
        _ measurement: String, start: Int64 = .min, end: Int64 = .max, fields: Set<String>? = nil,
        limit: Int? = nil, batchRows: Int = 4_096, seriesFilter: ([Tag]) -> Bool = { _ in true },
        emit: ([Row]) -> Bool
    ) throws(ColumnFileError) {
        try view(of: measurement).scanInBatches(
            measurement, start: start, end: end, fields: fields, limit: limit, batchRows: batchRows,
            seriesFilter: seriesFilter, emit: emit)
    }

    /// The measurements with data in any layer.
    public func measurements() -> [String] { view().measurements() }

    /// The wrapping sum of every merged row's hash (`RowHasher`): equal to `VnodeStore.checksum` for the same
    /// writes, whatever is in files and what in memory.
    public func checksum() throws(ColumnFileError) -> (checksum: UInt64, rows: Int) { try view().checksum() }
}

extension EngineView {
    /// `VnodeEngine.scanInBatches` over this view; `tags`: only series with every one of them (found through the
    /// files' inverted indexes); `seriesLimit`: at most this many rows of each series (its first in time);
    /// `keepRowsWithoutFields`: with `fields`, a row that has none of them is kept, empty (a projection that
    /// must still see every row) instead of dropped.
    public func scanInBatches(
        _ measurement: String, start: Int64 = .min, end: Int64 = .max, tags: [Tag] = [], fields: Set<String>? = nil,
        limit: Int? = nil, seriesLimit: Int? = nil, keepRowsWithoutFields: Bool = false, batchRows: Int = 4_096,
        seriesFilter: ([Tag]) -> Bool = { _ in true }, emit: ([Row]) -> Bool
    ) throws(ColumnFileError) {
        var batch: [Row] = []
        var remaining = limit ?? Int.max
        var stopped = false
        try scanSeries(measurement, start: start, end: end, tags: tags, fields: fields, seriesFilter: seriesFilter) {
            seriesTags, merger in
            var seriesRemaining = seriesLimit ?? Int.max
            for (timestamp, values) in merger.sortedRows()
            where (keepRowsWithoutFields || !values.isEmpty) && remaining > 0 && seriesRemaining > 0 {
                batch.append(Row(tags: seriesTags, timestamp: timestamp, fields: values))
                remaining -= 1
                seriesRemaining -= 1
                if batch.count >= batchRows {
                    guard emit(batch) else {
                        stopped = true
                        return false
                    }
                    batch.removeAll(keepingCapacity: true)
                }
            }
            return remaining > 0
        }
        if !batch.isEmpty && !stopped { _ = emit(batch) }
    }

    /// Each series of `measurement` with every one of `tags` that passes `seriesFilter`, in key order, with the
    /// merge of its layers' rows in `[start, end)` (only `fields`, all when nil), until `emit` answers false. A
    /// series may come with no rows (its layers have none in the range).
    func scanSeries(
        _ measurement: String, start: Int64, end: Int64, tags: [Tag], fields: Set<String>?,
        seriesFilter: ([Tag]) -> Bool, emit: (_ tags: [Tag], _ rows: RowMerger) -> Bool
    ) throws(ColumnFileError) {
        for series in locate(measurement, tags: tags, seriesFilter: seriesFilter) {
            guard emit(series.tags, try merge(series, start: start, end: end, fields: fields)) else { return }
        }
    }

    /// Where one series' rows are: positions in files (oldest first), then the memory layers.
    struct SeriesLocation {
        var key: SeriesKey
        var tags: [Tag]
        var files: [(file: Int, series: Int)] = []
        var memory: [SeriesColumns] = []
    }

    /// Each series of `measurement` with every one of `tags` that passes `seriesFilter`, in key order, with
    /// where its rows are (nothing is read).
    func locate(_ measurement: String, tags: [Tag], seriesFilter: ([Tag]) -> Bool) -> [SeriesLocation] {
        var locations: [SeriesKey: SeriesLocation] = [:]
        for (f, file) in files.enumerated() {
            for (s, series) in file.entries(of: measurement, with: tags) where seriesFilter(series.tags) {
                locations[series.key, default: SeriesLocation(key: series.key, tags: series.tags)].files.append((f, s))
            }
        }
        for layer in memory {
            for (key, data) in layer
            where data.measurement == measurement && VnodeQuery.has(tags, data.tags) && seriesFilter(data.tags) {
                locations[key, default: SeriesLocation(key: key, tags: data.tags)].memory.append(data)
            }
        }
        return locations.values.sorted { $0.key < $1.key }
    }

    /// The merge of one located series' rows in `[start, end)` (only `fields`, all when nil): blocks outside the
    /// range are not read.
    func merge(
        _ location: SeriesLocation, start: Int64, end: Int64, fields: Set<String>?
    ) throws(ColumnFileError) -> RowMerger {
        func wanted(_ name: String) -> Bool { fields?.contains(name) ?? true }
        var merger = RowMerger()
        for (f, s) in location.files {
            let file = files[f]
            let series = file.index.series[s]
            let deleted = self.deleted(in: file, series.measurement, series.tags)
            for (b, block) in series.blocks.enumerated() where block.maxTime >= start && block.minTime < end {
                let (timestamps, columns) = deleted.removing(from: try file.rows(series, block: b) { wanted($0.name) })
                merger.add(timestamps: timestamps, columns: columns, start: start, end: end)
            }
        }
        for data in location.memory {
            merger.add(
                timestamps: data.timestamps, columns: data.columns.filter { wanted($0.name) }, start: start, end: end)
        }
        return merger
    }

    /// The measurements with data in any layer.
    public func measurements() -> [String] {
        var names = Set<String>()
        for layer in memory { for data in layer.values { names.insert(data.measurement) } }
        for file in files { names.formUnion(file.schemas.keys) }
        return names.sorted()
    }

    /// `VnodeEngine.checksum` over this view.
    public func checksum() throws(ColumnFileError) -> (checksum: UInt64, rows: Int) {
        var sum: UInt64 = 0
        var count = 0
        for measurement in measurements() {
            try scanInBatches(measurement) { rows in
                for row in rows {
                    var hasher = RowHasher(
                        key: SeriesKey(measurement: measurement, tags: row.tags).bytes, timestamp: row.timestamp)
                    for name in row.fields.keys.sorted() { hasher.add(name, row.fields[name]!) }
                    sum &+= hasher.finish()
                    count += 1
                }
                return true
            }
        }
        return (sum, count)
    }
}
