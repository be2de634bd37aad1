import LineProtocol
import SQL
import TSDB

/// How the rows of a raw SELECT become cells: its columns (`SELECT *`: time, the tags, the fields, each in name
/// order) and per row its cells in that order.
struct Projection: Sendable {
    let columns: [String]
    private let kind: Kind

    private enum Kind: Sendable {
        /// `SELECT *` alone: fields placed by the position of their name.
        case all(tagKeys: [String], fieldColumns: [String: Int])
        case items([@Sendable (Row) -> SQLValue])
    }

    /// `tagKeys` and `fieldKeys` (sorted): what `*` stands for.
    init(_ select: Select, tagKeys: [String], fieldKeys: [String]) {
        if select.items == [.all] {
            columns = ["time"] + tagKeys + fieldKeys
            kind = .all(
                tagKeys: tagKeys,
                fieldColumns: Dictionary(
                    uniqueKeysWithValues: fieldKeys.enumerated().map { ($1, 1 + tagKeys.count + $0) }))
            return
        }
        var columns: [(name: String, value: @Sendable (Row) -> SQLValue)] = []
        for item in select.items {
            switch item {
            case .all:
                columns.append(("time", { .time($0.timestamp) }))
                for key in tagKeys { columns.append((key, { row in row.tag(key).map { .string($0) } ?? .null })) }
                for key in fieldKeys { columns.append((key, { row in value(row.fields[key]) })) }
            case .column(let name, let alias):
                columns.append((alias ?? name, { row in column(name, of: row) }))
            case .timeBin(let alias):
                columns.append((alias ?? "time", { .time($0.timestamp) }))
            case .aggregate:
                break
            }
        }
        self.columns = columns.map(\.name)
        kind = .items(columns.map(\.value))
    }

    func cells(_ rows: [Row]) -> [[SQLValue]] {
        switch kind {
        case .items(let values): return rows.map { row in values.map { $0(row) } }
        case .all(let tagKeys, let fieldColumns):
            // A row whose fields come in the order of the row before's (rows decoded from one series share their
            // dictionary's layout) takes their columns from it, without a lookup. A field not among the columns
            // (written after they were read) is left out.
            var previous: [String: FieldValue]?
            var positions: [Int?] = []
            return rows.map { row in
                var cells = [SQLValue](repeating: .null, count: columns.count)
                cells[0] = .time(row.timestamp)
                for (k, key) in tagKeys.enumerated() { if let tag = row.tag(key) { cells[1 + k] = .string(tag) } }
                if !(previous?.keys.elementsEqual(row.fields.keys) ?? false) {
                    positions = row.fields.keys.map { fieldColumns[$0] }
                    previous = row.fields
                }
                for (position, field) in zip(positions, row.fields.values) {
                    if let position { cells[position] = value(field) }
                }
                return cells
            }
        }
    }
}
