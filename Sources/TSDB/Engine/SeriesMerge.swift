/// Merges one series' rows from several sources, oldest first, column by column: at a time several sources hold,
/// each field takes the value of the newest source that has one there (an upsert keeps the fields it lacks).
/// A field keeps the type its oldest source gives it; a newer value of another type is skipped, as the
/// memtable skips it (`VnodeStore`'s rule). Linear in the rows, with no per-row allocation: what compaction runs.
struct SeriesMerge {
    /// One source's rows: timestamps ascending and unique, each column one entry per timestamp.
    struct Source {
        var timestamps: [Int64] = []
        var columns: [String: Column] = [:]

        /// Appends a block's rows, which must all come after the rows already here.
        mutating func append(timestamps more: [Int64], columns blockColumns: [(name: String, column: Column)]) {
            let before = timestamps.count
            timestamps += more
            for (name, column) in blockColumns {
                if columns[name] == nil { columns[name] = Column(kind: column.kind, present: []) }
                columns[name]!.padAbsent(to: before)
                columns[name]!.appendRows(of: column)
            }
            for name in columns.keys { columns[name]!.padAbsent(to: timestamps.count) }
        }
    }

    static func merge(_ sources: [Source]) -> (timestamps: [Int64], columns: [(name: String, column: Column)]) {
        var kinds: [String: Column.Kind] = [:]
        for source in sources {
            for (name, column) in source.columns where kinds[name] == nil { kinds[name] = column.kind }
        }
        let names = kinds.keys.sorted()
        // Per field, per source: its column when it has the field's type.
        let inputs: [[Column?]] = names.map { name in
            sources.map { source in source.columns[name].flatMap { $0.kind == kinds[name] ? $0 : nil } }
        }
        var output = names.map { Column(kind: kinds[$0]!, present: []) }
        var timestamps: [Int64] = []
        var heads = Array(repeating: 0, count: sources.count)
        var holding: [Int] = []  // the sources whose head is at the current time, oldest first
        while true {
            var next: Int64?
            for (k, source) in sources.enumerated() where heads[k] < source.timestamps.count {
                let time = source.timestamps[heads[k]]
                if next == nil || time < next! { next = time }
            }
            guard let time = next else { break }
            holding.removeAll(keepingCapacity: true)
            for (k, source) in sources.enumerated()
            where heads[k] < source.timestamps.count && source.timestamps[heads[k]] == time {
                holding.append(k)
            }
            timestamps.append(time)
            for f in names.indices {
                var taken = false
                for k in holding.reversed() {
                    guard let column = inputs[f][k], column.present[heads[k]] else { continue }
                    output[f].appendValue(from: column, at: heads[k])
                    taken = true
                    break
                }
                if !taken { output[f].padAbsent(to: timestamps.count) }
            }
            for k in holding { heads[k] += 1 }
        }
        return (timestamps, names.indices.map { (names[$0], output[$0]) })
    }
}

extension Column {
    /// Appends `other`'s value at `row` (same kind, present).
    mutating func appendValue(from other: Column, at row: Int) {
        switch kind {
        case .float: floats.append(other.floats[row])
        case .integer: integers.append(other.integers[row])
        case .unsigned: unsigneds.append(other.unsigneds[row])
        case .string: strings.append(other.strings[row])
        case .boolean: booleans.append(other.booleans[row])
        }
        present.append(true)
    }

    /// Appends every row of `other` (same kind).
    mutating func appendRows(of other: Column) {
        switch kind {
        case .float: floats += other.floats
        case .integer: integers += other.integers
        case .unsigned: unsigneds += other.unsigneds
        case .string: strings += other.strings
        case .boolean: booleans += other.booleans
        }
        present += other.present
    }

    /// Appends absent rows until there are `rows`.
    mutating func padAbsent(to rows: Int) {
        while present.count < rows { insertEmpty(at: present.count) }
    }
}
