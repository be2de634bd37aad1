import LineProtocol

/// Merges the rows of one series from several layers, oldest first, for a read: a later layer's field replaces
/// an earlier one's at the same time, fields it lacks are kept (an upsert). A field keeps the type its oldest
/// layer gives it; a newer value of another type is skipped, as the memtable skips it (`SeriesMerge`, which
/// compaction runs, keeps the same rules).
struct RowMerger {
    private(set) var rows: [Int64: [String: FieldValue]] = [:]
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
            var fields = rows[timestamp] ?? [:]
            for (name, column) in columns {
                if let value = column.value(at: k) { fields[name] = value }
            }
            rows[timestamp] = fields
        }
    }

    /// The rows in time order.
    func sortedRows() -> [(timestamp: Int64, fields: [String: FieldValue])] {
        rows.keys.sorted().map { ($0, rows[$0]!) }
    }
}
