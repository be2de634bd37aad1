import LineProtocol

/// Merges the rows of one series from several layers, oldest first, for a read: a later layer's field replaces
/// an earlier one's at the same time, fields it lacks are kept (an upsert). A field keeps the type its oldest
/// layer gives it; a newer value of another type is skipped, as the memtable skips it (`SeriesMerge`, which
/// compaction runs, keeps the same rules).
///
/// Layers that come in time order (a series' blocks in successive files, then the memtable, with no time in
/// two of them: the common case) are appended to columns in order, with no hashing by time or by field name
/// per row; the first time at or before one already added switches to merging by time.
struct RowMerger {
    /// The rows while every time added came after the ones before, as columns: one value (or nil) per row in
    /// each, in the order the fields were first met.
    private var times: [Int64] = []
    private var names: [String] = []
    private var values: [[FieldValue?]] = []
    /// The rows by time, once some time came out of order.
    private var byTime: [Int64: [String: FieldValue]]?
    private var kinds: [String: Column.Kind] = [:]
    /// Where each field's column is in `values`.
    private var slots: [String: Int] = [:]

    /// Adds `timestamps[k]` with each column's value at `k`, for every `k` with `start <= timestamp < end`. A
    /// layer with no rows (all deleted) gives no field its type, as a memtable series that lost every row is gone.
    mutating func add(
        timestamps: [Int64], columns: [(name: String, column: Column)], start: Int64 = .min, end: Int64 = .max
    ) {
        guard !timestamps.isEmpty else { return }
        let columns = columns.filter { name, column in
            if let kind = kinds[name] { return kind == column.kind }
            kinds[name] = column.kind
            return true
        }
        // The columns this layer fills, and those it leaves empty on the rows it appends.
        var filled: [Int] = []
        if byTime == nil {
            for (name, _) in columns {
                if let slot = slots[name] {
                    filled.append(slot)
                } else {
                    slots[name] = names.count
                    filled.append(names.count)
                    names.append(name)
                    values.append(Array(repeating: nil, count: times.count))
                }
            }
        }
        let unfilled = byTime == nil ? Set(values.indices).subtracting(filled).sorted() : []
        // The whole layer after what is there, in order (the common case): appended column by column.
        if byTime == nil {
            var inRange: [Int] = []
            var last = times.last
            var ordered = true
            for (k, timestamp) in timestamps.enumerated() where timestamp >= start && timestamp < end {
                if let last, last >= timestamp {
                    ordered = false
                    break
                }
                last = timestamp
                inRange.append(k)
            }
            if ordered {
                times.append(contentsOf: inRange.lazy.map { timestamps[$0] })
                for (c, slot) in filled.enumerated() {
                    let column = columns[c].column
                    values[slot].append(contentsOf: inRange.lazy.map { column.value(at: $0) })
                }
                for slot in unfilled { values[slot].append(contentsOf: repeatElement(nil, count: inRange.count)) }
                return
            }
        }
        for (k, timestamp) in timestamps.enumerated() where timestamp >= start && timestamp < end {
            if byTime == nil, times.last.map({ $0 < timestamp }) ?? true {
                times.append(timestamp)
                for (c, slot) in filled.enumerated() { values[slot].append(columns[c].column.value(at: k)) }
                for slot in unfilled { values[slot].append(nil) }
                continue
            }
            if byTime == nil { byTime = Dictionary(uniqueKeysWithValues: rowsInOrder()) }
            var fields = byTime![timestamp] ?? [:]
            for (name, column) in columns {
                if let value = column.value(at: k) { fields[name] = value }
            }
            byTime![timestamp] = fields
        }
    }

    /// The rows appended in order, each with its fields by name.
    private func rowsInOrder() -> [(timestamp: Int64, fields: [String: FieldValue])] {
        times.indices.map { row in
            var fields: [String: FieldValue] = [:]
            fields.reserveCapacity(names.count)
            for (c, name) in names.enumerated() { if let value = values[c][row] { fields[name] = value } }
            return (times[row], fields)
        }
    }

    /// The rows in time order.
    func sortedRows() -> [(timestamp: Int64, fields: [String: FieldValue])] {
        guard let byTime else { return rowsInOrder() }
        return byTime.keys.sorted().map { ($0, byTime[$0]!) }
    }

    /// The rows in time order as columns: the fields that have a value in some row, in name order with their
    /// kinds, and per field one value (or nil) per row.
    func sortedColumns() -> MergedRows {
        var merged = MergedRows()
        let names = kinds.keys.sorted()
        let timestamps = byTime.map { $0.keys.sorted() } ?? times
        merged.timestamps = timestamps
        for name in names {
            // Every field met while in order has its column: its first kind passed the filter that made it one.
            let column = byTime.map { byTime in timestamps.map { byTime[$0]![name] } } ?? values[slots[name]!]
            guard column.contains(where: { $0 != nil }) else { continue }
            merged.names.append(name)
            merged.kinds.append(kinds[name]!)
            merged.values.append(column)
        }
        return merged
    }
}

/// One series' merged rows as columns (see `RowMerger.sortedColumns`).
struct MergedRows {
    var timestamps: [Int64] = []
    var names: [String] = []
    var kinds: [Column.Kind] = []
    var values: [[FieldValue?]] = []

    /// Keeps the first `count` rows.
    mutating func keepFirst(_ count: Int) {
        guard count < timestamps.count else { return }
        timestamps.removeSubrange(count...)
        for c in values.indices { values[c].removeSubrange(count...) }
    }
}
