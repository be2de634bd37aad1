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
        var merged: [SeriesKey: (tags: [Tag], merger: RowMerger)] = [:]
        func wanted(_ name: String) -> Bool { fields?.contains(name) ?? true }
        for file in files {
            for (s, series) in file.index.series.enumerated()
            where series.measurement == measurement && seriesFilter(series.tags) {
                var entry = merged[series.key] ?? (series.tags, RowMerger())
                for (b, block) in series.blocks.enumerated() where block.maxTime >= start && block.minTime < end {
                    let timestamps = try file.timestamps(series: s, block: b)
                    var columns: [(name: String, column: Column)] = []
                    for (c, definition) in series.columns.enumerated() where wanted(definition.name) {
                        if let column = try file.column(series: s, block: b, column: c) {
                            columns.append((definition.name, column))
                        }
                    }
                    entry.merger.add(timestamps: timestamps, columns: columns, start: start, end: end)
                }
                merged[series.key] = entry
            }
        }
        let memoryLayers: [[(key: SeriesKey, data: SeriesColumns)]] = [
            (flushing ?? []).map { ($0.key, $0.columns) },
            memtable.series.compactMap { key, data in data.measurement == measurement ? (key, data.frozen()) : nil },
        ]
        for layer in memoryLayers {
            for (key, data) in layer where data.measurement == measurement && seriesFilter(data.tags) {
                var entry = merged[key] ?? (data.tags, RowMerger())
                entry.merger.add(
                    timestamps: data.timestamps, columns: data.columns.filter { wanted($0.name) }, start: start,
                    end: end)
                merged[key] = entry
            }
        }
        var rows: [Row] = []
        for key in merged.keys.sorted() {
            let (tags, merger) = merged[key]!
            for (timestamp, values) in merger.sortedRows() where !values.isEmpty {
                rows.append(Row(tags: tags, timestamp: timestamp, fields: values))
            }
        }
        return rows
    }

    /// The measurements with data in any layer.
    public func measurements() -> [String] {
        var names = Set(memtable.series.values.map(\.measurement))
        for (_, data) in flushing ?? [] { names.insert(data.measurement) }
        for file in files { for series in file.index.series { names.insert(series.measurement) } }
        return names.sorted()
    }

    /// The wrapping sum of every merged row's hash (`RowHasher`): equal to `VnodeStore.checksum` for the same
    /// writes, whatever is in files and what in memory.
    public func checksum() throws(ColumnFileError) -> (checksum: UInt64, rows: Int) {
        var sum: UInt64 = 0
        var count = 0
        for measurement in measurements() {
            for row in try scan(measurement) {
                var hasher = RowHasher(
                    key: SeriesKey(measurement: measurement, tags: row.tags).bytes, timestamp: row.timestamp)
                for name in row.fields.keys.sorted() { hasher.add(name, row.fields[name]!) }
                sum &+= hasher.finish()
                count += 1
            }
        }
        return (sum, count)
    }
}
