import LineProtocol

/// Merges the rows of one series from several layers, oldest first, for a read: a later layer's field replaces
/// an earlier one's at the same time, fields it lacks are kept (an upsert). A field keeps the type its oldest
/// layer gives it; a newer value of another type is skipped, as the memtable skips it (`SeriesMerge`, which
/// compaction runs, keeps the same rules).
///
/// Layers that come in time order (a series' blocks in successive files, then the memtable, with no time in
/// two of them: the common case) are appended in order, with no hashing by time; the first time at or before one
/// already added switches to merging by time.
struct RowMerger {
    /// The rows while every time added came after the ones before.
    private var ordered: [(timestamp: Int64, fields: [String: FieldValue])] = []
    /// The rows by time, once some time came out of order.
    private var byTime: [Int64: [String: FieldValue]]?
    private var kinds: [String: Column.Kind] = [:]

    /// Adds `timestamps[k]` with each column's value at `k`, for every `k` with `start <= timestamp < end`.
    mutating func add(
        timestamps: [Int64], columns: [(name: String, column: Column)], start: Int64 = .min, end: Int64 = .max
    ) {
        let columns = columns.filter { name, column in
            if let kind = kinds[name] { return kind == column.kind }
            kinds[name] = column.kind
            return true
        }
        for (k, timestamp) in timestamps.enumerated() where timestamp >= start && timestamp < end {
            if byTime == nil, ordered.last.map({ $0.timestamp < timestamp }) ?? true {
                var fields: [String: FieldValue] = [:]
                fields.reserveCapacity(columns.count)
                for (name, column) in columns {
                    if let value = column.value(at: k) { fields[name] = value }
                }
                ordered.append((timestamp, fields))
                continue
            }
            if byTime == nil {
                byTime = Dictionary(uniqueKeysWithValues: ordered.map { ($0.timestamp, $0.fields) })
                ordered = []
            }
            var fields = byTime![timestamp] ?? [:]
            for (name, column) in columns {
                if let value = column.value(at: k) { fields[name] = value }
            }
            byTime![timestamp] = fields
        }
    }

    /// The rows in time order.
    func sortedRows() -> [(timestamp: Int64, fields: [String: FieldValue])] {
        guard let byTime else { return ordered }
        return byTime.keys.sorted().map { ($0, byTime[$0]!) }
    }
}
