import LineProtocol

/// One series' points in time order, stored by column: one array of timestamps and one typed array per field,
/// with a presence flag per row (a point need not carry every field of its series).
final class SeriesData {
    let key: SeriesKey
    let measurement: String
    let tags: [Tag]
    private(set) var timestamps: [Int64] = []
    /// The field names, sorted; `columns[k]` holds the values of `names[k]`. Arrays, not a dictionary: a series
    /// has a few fields, and comparing a few short names costs less than hashing one.
    private(set) var names: [String] = []
    private(set) var columns: [Column] = []
    /// The column of each field of the last point appended whole, in the point's order: a writer sends its
    /// fields in the same order every time, so the next point's names are only compared, not searched.
    private var lastOrder: [Int] = []

    init(key: SeriesKey, measurement: String, tags: [Tag]) {
        self.key = key
        self.measurement = measurement
        self.tags = tags
    }

    var rowCount: Int { timestamps.count }

    /// Removes the rows whose time `deleted` holds (a tombstone applied to the memtable).
    /// - Returns: how many rows went.
    @discardableResult
    func removeRows(_ deleted: DeletedRanges) -> Int {
        let kept = timestamps.indices.filter { !deleted.contains(timestamps[$0]) }
        guard kept.count < timestamps.count else { return 0 }
        let removed = timestamps.count - kept.count
        timestamps = kept.map { timestamps[$0] }
        columns = columns.map { $0.selecting(kept) }
        return removed
    }

    /// The column index of field `name`.
    private func column(named name: String) -> Int? { names.firstIndex(of: name) }

    /// Inserts a point, or merges its fields into the row with the same timestamp (last write wins per field).
    /// A field whose type differs from its column's is skipped and counted. `newColumns`: some field of the
    /// point had no column in this series before.
    func upsert(_ point: Point) -> (inserted: Bool, conflicts: Int, newColumns: Bool) {
        upsert(point.fields, at: point.timestamp)
    }

    /// `upsert(_:)` of a point with `fields` at `timestamp` (of this series).
    func upsert(_ fields: [Field], at timestamp: Int64) -> (inserted: Bool, conflicts: Int, newColumns: Bool) {
        if appendRow(fields, at: timestamp) { return (true, 0, false) }
        var row: Int
        var inserted = false
        if let last = timestamps.last, timestamp <= last {
            row = lowerBound(timestamp)
            if row == timestamps.count || timestamps[row] != timestamp {
                timestamps.insert(timestamp, at: row)
                insertEmptyRow(at: row)
                inserted = true
            }
        } else {
            row = timestamps.count
            timestamps.append(timestamp)
            insertEmptyRow(at: row)
            inserted = true
        }
        var conflicts = 0
        var newColumns = false
        for field in fields {
            let stored: Bool
            if let index = column(named: field.key) {
                stored = columns[index].set(field.value, at: row)
            } else {
                var column = Column(like: field.value, rows: timestamps.count)
                stored = column.set(field.value, at: row)
                let position = names.firstIndex { $0 > field.key } ?? names.count
                names.insert(field.key, at: position)
                columns.insert(column, at: position)
                lastOrder = []
                newColumns = true
            }
            if !stored { conflicts += 1 }
        }
        return (inserted, conflicts, newColumns)
    }

    /// The common case at once: a point after the last row with a value, of the column's type, for every column
    /// of the series and nothing else. Its values are appended (no empty row filled in afterwards). False, with
    /// nothing changed, for any other point.
    private func appendRow(_ fields: [Field], at timestamp: Int64) -> Bool {
        let count = fields.count
        guard count == columns.count, count > 0, timestamp > (timestamps.last ?? .min) else { return false }
        if !sameOrder(fields) {
            guard let order = order(of: fields) else { return false }
            lastOrder = order
        }
        for k in 0..<count where columns[lastOrder[k]].kind != Column.Kind(of: fields[k].value) { return false }
        timestamps.append(timestamp)
        for k in 0..<count { columns[lastOrder[k]].append(fields[k].value) }
        return true
    }

    /// Whether `fields` name the columns of `lastOrder`, in its order.
    private func sameOrder(_ fields: [Field]) -> Bool {
        guard lastOrder.count == fields.count else { return false }
        for k in 0..<fields.count where names[lastOrder[k]] != fields[k].key { return false }
        return true
    }

    /// The column of each of `fields`; nil if one has none, or two name the same column (which would leave
    /// another column a row short).
    private func order(of fields: [Field]) -> [Int]? {
        var order: [Int] = []
        order.reserveCapacity(fields.count)
        for field in fields {
            guard let index = column(named: field.key), !order.contains(index) else { return nil }
            order.append(index)
        }
        return order
    }

    /// An empty row at `row` in every column, in place.
    private func insertEmptyRow(at row: Int) {
        for k in columns.indices { columns[k].insertEmpty(at: row) }
    }

    /// The first row at or after `timestamp`.
    func lowerBound(_ timestamp: Int64) -> Int {
        var low = 0
        var high = timestamps.count
        while low < high {
            let mid = (low + high) / 2
            if timestamps[mid] < timestamp { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The row holding `timestamp`, if any.
    func row(at timestamp: Int64) -> Int? {
        let row = lowerBound(timestamp)
        return row < timestamps.count && timestamps[row] == timestamp ? row : nil
    }

    /// A hash of the row (series, time, fields by name): the checksum's unit (`RowHasher`).
    func rowHash(_ row: Int) -> UInt64 {
        var hasher = RowHasher(key: key.bytes, timestamp: timestamps[row])
        for (k, name) in names.enumerated() {
            guard let value = columns[k].value(at: row) else { continue }
            hasher.add(name, value)
        }
        return hasher.finish()
    }

    /// The value of `field` at `row`, if the row has it.
    func value(_ field: String, at row: Int) -> FieldValue? {
        column(named: field).flatMap { columns[$0].value(at: row) }
    }

    var fieldNames: [String] { names }

    func fieldType(_ field: String) -> String? { column(named: field).map { columns[$0].typeName } }

    /// The rows as they are now, as values that later upserts do not change (copy-on-write: nothing is copied
    /// until then).
    func frozen() -> SeriesColumns {
        SeriesColumns(
            measurement: measurement, tags: tags, timestamps: timestamps,
            columns: names.indices.map { (names[$0], columns[$0]) })
    }

    /// The row as a point (fields in name order): snapshots and checksums.
    func point(at row: Int) -> Point {
        var fields: [Field] = []
        for (k, name) in names.enumerated() {
            if let value = columns[k].value(at: row) { fields.append(Field(name, value)) }
        }
        var point = Point(measurement: measurement, tags: [], fields: fields, timestamp: timestamps[row])
        point.tags = tags
        return point
    }
}

extension Dictionary where Key == SeriesKey, Value == SeriesData {
    /// The series `point` belongs to, created empty (`created`) if this is its first point.
    mutating func data(of point: Point) -> (data: SeriesData, created: Bool) {
        let key = SeriesKey(point)
        if let existing = self[key] { return (existing, false) }
        let data = SeriesData(key: key, measurement: point.measurement, tags: point.tags)
        self[key] = data
        return (data, true)
    }
}

/// One field's values for every row of a series: a typed array (only the one of the column's type is used) and
/// a presence flag per row. Separate stored arrays, so that every change happens in place.
struct Column {
    /// The column's type; the raw value is its byte in the column file format (never changes).
    enum Kind: UInt8, Sendable {
        case float = 0
        case integer = 1
        case unsigned = 2
        case string = 3
        case boolean = 4
    }
    let kind: Kind
    var floats: [Double] = []
    var integers: [Int64] = []
    var unsigneds: [UInt64] = []
    var strings: [String] = []
    var booleans: [Bool] = []
    var present: [Bool]

    /// A column of `present.count` rows, its values still to be filled in (the reader of a column file).
    init(kind: Kind, present: [Bool]) {
        self.kind = kind
        self.present = present
    }

    init(like value: FieldValue, rows: Int) {
        kind = Kind(of: value)
        present = []
        for _ in 0..<rows { insertEmpty(at: present.count) }
    }

    var typeName: String { kind.typeName }

    mutating func insertEmpty(at row: Int) {
        if row == present.count {
            present.append(false)
            switch kind {
            case .float: floats.append(0)
            case .integer: integers.append(0)
            case .unsigned: unsigneds.append(0)
            case .string: strings.append("")
            case .boolean: booleans.append(false)
            }
            return
        }
        present.insert(false, at: row)
        switch kind {
        case .float: floats.insert(0, at: row)
        case .integer: integers.insert(0, at: row)
        case .unsigned: unsigneds.insert(0, at: row)
        case .string: strings.insert("", at: row)
        case .boolean: booleans.insert(false, at: row)
        }
    }

    /// Appends `value` as a new last row (the caller checked that its type is the column's).
    mutating func append(_ value: FieldValue) {
        switch value {
        case .float(let x): floats.append(x)
        case .integer(let x): integers.append(x)
        case .unsigned(let x): unsigneds.append(x)
        case .string(let x): strings.append(x)
        case .boolean(let x): booleans.append(x)
        }
        present.append(true)
    }

    /// Stores `value` at `row`; false (and nothing stored) when its type differs from the column's.
    mutating func set(_ value: FieldValue, at row: Int) -> Bool {
        switch (kind, value) {
        case (.float, .float(let x)): floats[row] = x
        case (.integer, .integer(let x)): integers[row] = x
        case (.unsigned, .unsigned(let x)): unsigneds[row] = x
        case (.string, .string(let x)): strings[row] = x
        case (.boolean, .boolean(let x)): booleans[row] = x
        default: return false
        }
        present[row] = true
        return true
    }

    /// The column with only `rows` (ascending positions), in that order.
    func selecting(_ rows: [Int]) -> Column {
        var selected = Column(kind: kind, present: rows.map { present[$0] })
        switch kind {
        case .float: selected.floats = rows.map { floats[$0] }
        case .integer: selected.integers = rows.map { integers[$0] }
        case .unsigned: selected.unsigneds = rows.map { unsigneds[$0] }
        case .string: selected.strings = rows.map { strings[$0] }
        case .boolean: selected.booleans = rows.map { booleans[$0] }
        }
        return selected
    }

    func value(at row: Int) -> FieldValue? {
        guard present[row] else { return nil }
        switch kind {
        case .float: return .float(floats[row])
        case .integer: return .integer(integers[row])
        case .unsigned: return .unsigned(unsigneds[row])
        case .string: return .string(strings[row])
        case .boolean: return .boolean(booleans[row])
        }
    }
}

extension Column.Kind {
    /// The SQL type name of a column of this kind (DESCRIBE, SHOW FIELD KEYS).
    var typeName: String {
        let sample: FieldValue
        switch self {
        case .float: sample = .float(0)
        case .integer: sample = .integer(0)
        case .unsigned: sample = .unsigned(0)
        case .string: sample = .string("")
        case .boolean: sample = .boolean(false)
        }
        return sample.typeName
    }
}

extension Column.Kind {
    /// The kind of column a value goes into.
    init(of value: FieldValue) {
        switch value {
        case .float: self = .float
        case .integer: self = .integer
        case .unsigned: self = .unsigned
        case .string: self = .string
        case .boolean: self = .boolean
        }
    }
}
