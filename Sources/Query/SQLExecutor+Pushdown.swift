import Coordinator
import LineProtocol
import SQL
import TSDB

/// What of a SELECT the vnodes answer themselves: the series to read, by the tag equalities of the WHERE's
/// top-level conjunction, and — for `count`, `sum`, `avg`, `min` and `max` over a WHERE of nothing but time
/// bounds and tag equalities — the aggregates, as partials per series and time bin (from block stats where a
/// block lies wholly inside), merged here. Whatever cannot be pushed down is read as rows and evaluated here.
extension SQLExecutor {
    /// The tag equalities of the WHERE's top-level conjunction, which the vnodes use to select series (each vnode
    /// ignores a key that is a field of the measurement there), and whether they and the time bounds are the whole
    /// WHERE. Nothing is read: scans need no schema first.
    static func tagEqualities(_ select: Select) -> (tags: [Tag], whole: Bool) {
        var tags: [Tag] = []
        var whole = true
        func collect(_ e: SQLExpression) {
            switch e {
            case .and(let a, let b):
                collect(a)
                collect(b)
            case .comparison(let column, let op, _) where column.lowercased() == "time" && op != .notEqual:
                break
            // InfluxQL's `tag = ''` matches series without the tag: the vnodes cannot select those by it.
            case .comparison(let column, .equal, .string(let value))
            where !(select.missingTagsAreEmpty && value.isEmpty):
                tags.append(Tag(column, value))
            default:
                whole = false
            }
        }
        if let filter = select.filter { collect(filter) }
        return (tags, whole)
    }

    /// The names a row-reading SELECT uses (its columns, its aggregates' columns, its WHERE's and GROUP BY's),
    /// so that only those fields travel from the vnodes; `nil` for `SELECT *`. Tags and `time` among them do
    /// nothing there (a vnode projects fields only, and keeps a row that has none of them).
    static func projection(_ select: Select) -> [String]? {
        var names: Set<String> = []
        for item in select.items {
            switch item {
            case .all: return nil
            case .column(let name, _): names.insert(name)
            case .aggregate(_, let column?, _): names.insert(column)
            case .aggregate(_, nil, _), .timeBin: continue
            }
        }
        func collect(_ e: SQLExpression) {
            switch e {
            case .comparison(let column, _, _), .regex(let column, _, _), .isNull(let column, _),
                .inList(let column, _, _):
                names.insert(column)
            case .and(let a, let b), .or(let a, let b):
                collect(a)
                collect(b)
            case .not(let a): collect(a)
            }
        }
        if let filter = select.filter { collect(filter) }
        names.formUnion(select.groupTags)
        return names.sorted()
    }

    /// The result of an aggregate SELECT answered from the vnodes' partials, or `nil` if it needs rows (another
    /// function, a WHERE beyond time and tags, an equality on a name some vnode has as a field — then rows lacking
    /// the tag may match through it —, a field that is not a number for sum/avg/min/max).
    func pushedAggregate(
        _ select: Select, start: Int64, end: Int64, tags pushed: (tags: [Tag], whole: Bool)
    ) async throws(CoordinatorError) -> QueryResult? {
        guard pushed.whole else { return nil }
        // The vnodes' windows start at multiples of the width: another origin is binned here, from rows.
        if let width = select.timeBin, let origin = select.timeBinOrigin,
            (try? Compiled.timeValue(origin)).map({ $0 % width != 0 }) ?? true
        {
            return nil
        }
        var columns: [String?] = []
        var hasAggregate = false
        for item in select.items {
            switch item {
            case .aggregate(let fn, let column, _):
                guard [.count, .sum, .avg, .min, .max].contains(fn), column?.lowercased() != "time" else { return nil }
                guard column != nil || fn == .count else { return nil }
                hasAggregate = true
                if !columns.contains(column) { columns.append(column) }
            case .column(let name, _):
                guard name.lowercased() == "time" || select.groupTags.contains(name) else { return nil }
            case .timeBin: continue
            case .all: return nil
            }
        }
        guard hasAggregate else { return nil }
        if !pushed.tags.isEmpty {
            let fields = try await source.schema(tenant: tenant, database: database)[select.table]?.fields ?? [:]
            guard pushed.tags.allSatisfy({ fields[$0.key] == nil }) else { return nil }
        }
        struct Key: Hashable, Comparable {
            var bin: Int64
            var tags: [String]
            static func < (a: Key, b: Key) -> Bool {
                (a.bin, a.tags.joined(separator: "\u{0}")) < (b.bin, b.tags.joined(separator: "\u{0}"))
            }
        }
        /// Per column, per group: the merged partial, and whether every value was an integer.
        var merged: [String?: [Key: (aggregate: FieldAggregate, integral: Bool)]] = [:]
        var groups: Set<Key> = []
        for column in columns {
            let parts = try await source.aggregate(
                tenant: tenant, database: database, measurement: select.table, start: start, end: end,
                tags: pushed.tags, field: column, window: select.timeBin, stale: stale)
            var byGroup: [Key: (aggregate: FieldAggregate, integral: Bool)] = [:]
            for part in parts {
                if column != nil && !part.isNumeric && needsNumbers(select, column) { return nil }
                let tagValues = select.groupTags.map { key in part.tags.first { $0.key == key }?.value ?? "" }
                var pieces: [(bin: Int64, aggregate: FieldAggregate)] = []
                if select.timeBin == nil {
                    pieces.append((bin: Int64(0), aggregate: part.aggregate))
                } else {
                    for window in part.windows { pieces.append((bin: window.start, aggregate: window.aggregate)) }
                }
                for (bin, aggregate) in pieces {
                    let key = Key(bin: bin, tags: tagValues)
                    var entry = byGroup[key] ?? (FieldAggregate(), true)
                    entry.aggregate.merge(aggregate)
                    entry.integral = entry.integral && part.isIntegral
                    byGroup[key] = entry
                    groups.insert(key)
                }
            }
            merged[column] = byGroup
        }
        if groups.isEmpty && select.timeBin == nil && select.groupTags.isEmpty { groups.insert(Key(bin: 0, tags: [])) }
        var names: [String] = []
        for item in select.items {
            switch item {
            case .aggregate(let fn, let column, let alias): names.append(alias ?? fn.columnName(column))
            case .column(let name, let alias): names.append(alias ?? name)
            case .timeBin(let alias): names.append(alias ?? "time")
            case .all: break
            }
        }
        var rows: [[SQLValue]] = []
        for key in groups.sorted() {
            var row: [SQLValue] = []
            for item in select.items {
                switch item {
                case .aggregate(let fn, let column, _):
                    let entry = merged[column]?[key] ?? (FieldAggregate(), true)
                    row.append(Self.value(of: fn, entry.aggregate, integral: entry.integral))
                case .column(let name, _):
                    row.append(
                        name.lowercased() == "time"
                            ? .time(key.bin) : .string(key.tags[select.groupTags.firstIndex(of: name)!]))
                case .timeBin: row.append(.time(key.bin))
                case .all: break
                }
            }
            rows.append(row)
        }
        return try Self.ordered(QueryResult(columns: names, rows: rows), select, range: (start, end))
    }

    /// True if some aggregate of `column` other than count needs numbers.
    private func needsNumbers(_ select: Select, _ column: String?) -> Bool {
        select.items.contains {
            if case .aggregate(let fn, let c, _) = $0 { return c == column && fn != .count }
            return false
        }
    }

    private static func value(of fn: Aggregate, _ aggregate: FieldAggregate, integral: Bool) -> SQLValue {
        func number(_ x: Double?) -> SQLValue {
            guard let x else { return .null }
            return integral && abs(x) < 9.2e18 ? .integer(Int64(x)) : .double(x)
        }
        switch fn {
        case .count: return .integer(Int64(aggregate.count))
        case .avg: return aggregate.count > 0 ? .double(aggregate.sum / Double(aggregate.count)) : .null
        case .sum: return aggregate.count > 0 ? number(aggregate.sum) : .null
        case .min: return number(aggregate.min)
        case .max: return number(aggregate.max)
        case .first, .last, .median, .spread, .stddev, .percentile, .countDistinct: return .null
        }
    }
}
