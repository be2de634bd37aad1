import LineProtocol

/// Merges the rows of one series from several layers, oldest first: a later layer's field replaces an earlier
/// one's at the same time, fields it lacks are kept (an upsert). Then yields the rows in time order, as columns.
struct RowMerger {
    private(set) var rows: [Int64: [String: FieldValue]] = [:]

    var isEmpty: Bool { rows.isEmpty }

    /// Adds `timestamps[k]` with each column's value at `k`, for every `k` with `start <= timestamp < end`.
    mutating func add(
        timestamps: [Int64], columns: [(name: String, column: Column)], start: Int64 = .min, end: Int64 = .max
    ) {
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

    /// The rows as columns, for a file: timestamps ascending, one column per field name. A value whose type
    /// differs from the first one seen for its field (a type changed between layers) is dropped.
    func columns() -> (timestamps: [Int64], columns: [(name: String, column: Column)]) {
        let timestamps = rows.keys.sorted()
        var columns: [String: Column] = [:]
        for (row, timestamp) in timestamps.enumerated() {
            for (name, value) in rows[timestamp]! {
                if columns[name] == nil { columns[name] = Column(like: value, rows: timestamps.count) }
                _ = columns[name]!.set(value, at: row)
            }
        }
        return (timestamps, columns.map { ($0.key, $0.value) })
    }
}
