import Coordinator
import Foundation
import LineProtocol
import Meta
import MultiRaft
import RaftCore
import SQL
import TSDB

/// Runs one parsed statement against the cluster: DDL and users through the meta group, SELECT by scanning every
/// replica set of the buckets in the time range (linearizable unless `stale`), then filtering, grouping,
/// aggregating, ordering and limiting here.
public struct SQLExecutor: Sendable {
    let coordinator: Coordinator
    /// Where SELECT, SHOW and DESCRIBE read data: the coordinator, unless another source was given.
    let source: any QuerySource
    let tenant: String
    let database: String
    let stale: Bool
    /// Rows per replica set in a page of a streamed SELECT (`ServerOptions.queryPageRows`).
    public var pageRows = 32_768

    public init(
        coordinator: Coordinator, source: (any QuerySource)? = nil, tenant: String, database: String, stale: Bool
    ) {
        self.coordinator = coordinator
        self.source = source ?? coordinator
        self.tenant = tenant
        self.database = database
        self.stale = stale
    }

    public func run(_ statement: Statement) async throws(CoordinatorError) -> QueryResult {
        // Statements answered from the local meta replica see at least what a meta read index taken now holds
        // (a node that lags, joined a moment ago or is still replaying must not answer from an old state).
        if Self.answersFromLocalMeta(statement) && !stale { try await coordinator.awaitCurrentMeta() }
        switch statement {
        case .select(let select):
            switch try await answer(select) {
            case .whole(let result): return result
            case .streamed(var rows):
                // Asked for whole (the CLI's table): every page, held here.
                var result = QueryResult(columns: rows.columns, rows: [])
                while let page = try await rows.next() { result.rows += page }
                return result
            }
        case .showTenants:
            return QueryResult(
                columns: ["tenant_name"], rows: coordinator.meta.current.tenants.keys.sorted().map { [.string($0)] })
        case .showDatabases:
            let names = coordinator.meta.current.tenants[tenant]?.databases.keys.sorted() ?? []
            return QueryResult(columns: ["database_name"], rows: names.map { [.string($0)] })
        case .showTables:
            let schema = try await source.schema(tenant: tenant, database: database)
            return QueryResult(columns: ["table_name"], rows: schema.keys.sorted().map { [.string($0)] })
        case .describeTable(let table):
            let schema = try await source.schema(tenant: tenant, database: database)
            guard let columns = schema[table] else {
                throw CoordinatorError(
                    .notFound, "sql.table_not_found", "table '\(table)' does not exist in '\(database)'")
            }
            // CnosDB's four columns; every column is stored with the engine's default codec.
            var rows: [[SQLValue]] = [[.string("time"), .string("TIMESTAMP(NANOSECOND)"), .string("TIME")]]
            rows += columns.tags.sorted().map { [.string($0), .string("STRING"), .string("TAG")] }
            rows += columns.fields.keys.sorted().map { [.string($0), .string(columns.fields[$0]!), .string("FIELD")] }
            for index in rows.indices { rows[index].append(.string("DEFAULT")) }
            return QueryResult(columns: ["column_name", "data_type", "column_type", "compression_codec"], rows: rows)
        case .showDataNodes:
            let nodes = coordinator.meta.current.nodes.values.sorted { $0.id < $1.id }
            return QueryResult(
                columns: ["node_id", "raft_addr", "http_addr", "status"],
                rows: nodes.map {
                    [
                        .unsigned($0.id), .string($0.raftAddress), .string($0.httpAddress),
                        .string($0.acceptsVnodes ? "active" : "draining"),
                    ]
                })
        case .showReplicas:
            return await showReplicas()
        case .createTenant(let name, let ifNotExists):
            return try await meta(.createTenant(name: name, ifNotExists: ifNotExists))
        case .dropTenant(let name):
            return try await meta(.dropTenant(name: name))
        case .createDatabase(let name, let ifNotExists, let options):
            var parsed = DatabaseOptions()
            try apply(options, to: &parsed, creating: true)
            return try await meta(
                .createDatabase(tenant: tenant, name: name, options: parsed, ifNotExists: ifNotExists))
        case .alterDatabase(let name, let options):
            guard var parsed = coordinator.meta.current.database(tenant, name)?.options else {
                throw CoordinatorError(
                    .notFound, "meta.database_not_found", "database '\(name)' does not exist in tenant '\(tenant)'")
            }
            try apply(options, to: &parsed, creating: false)
            return try await meta(.alterDatabase(tenant: tenant, name: name, options: parsed))
        case .dropDatabase(let name):
            return try await meta(.dropDatabase(tenant: tenant, name: name))
        case .createUser(let name, let password, let ifNotExists):
            return try await meta(
                .createUser(
                    name: name, passwordHash: PasswordHash.make(password), ifNotExists: ifNotExists))
        case .dropUser(let name):
            return try await meta(.dropUser(name: name))
        case .grant(let privilege, let database, let user):
            return try await meta(.grant(user: user, database: database, privilege: privilege))
        case .revoke(let database, let user):
            return try await meta(.revoke(user: user, database: database))
        case .showVnodes:
            return await showVnodes()
        case .replica(let command):
            return try await run(command)
        case .vnode(let command):
            return try await run(command)
        case .checksumGroup(let set):
            return try await checksumGroup(set)
        case .insert(let insert):
            return try await self.insert(insert)
        case .delete(let table, let filter):
            return try await delete(table: table, filter: filter)
        case .selectValues(let columns, let values):
            return QueryResult(columns: columns, rows: [values.map(Self.constant)])
        case .showSeries(let table, let filter):
            return try await influx(.showSeries(on: database, from: table, filter: filter), columns: ["key"])
        case .showTagValues(let table, let key, let filter):
            return try await influx(
                .showTagValues(on: database, from: table, keys: .equal(key), filter: filter), columns: ["key", "value"])
        case .describeDatabase(let name):
            guard let options = coordinator.meta.current.database(tenant, name)?.options else {
                throw CoordinatorError(
                    .notFound, "meta.database_not_found", "database '\(name)' does not exist in tenant '\(tenant)'")
            }
            return QueryResult(
                columns: ["ttl", "shard", "vnode_duration", "replica", "precision"],
                rows: [
                    [
                        .string(options.ttl.map(DurationLiteral.format) ?? "INF"), .integer(Int64(options.shard)),
                        .string(DurationLiteral.format(options.vnodeDuration)), .integer(Int64(options.replica)),
                        .string(options.precision.uppercased()),
                    ]
                ])
        case .explain(let inner):
            return try await explain(inner)
        case .drainNode(let node):
            let moves = try await coordinator.drainNode(node)
            return QueryResult(columns: ["move"], rows: moves.map { [.string($0)] })
        }
    }

    /// The statements that read `meta.current` directly (the others go through the coordinator, which
    /// decides for itself, or are meta commands, which commit through the leader).
    static func answersFromLocalMeta(_ statement: Statement) -> Bool {
        switch statement {
        case .showTenants, .showDatabases, .showDataNodes, .showReplicas, .showVnodes, .alterDatabase,
            .createDatabase, .describeDatabase:
            return true
        default:
            return false
        }
    }

    private func meta(_ command: MetaCommand) async throws(CoordinatorError) -> QueryResult {
        let result = try await coordinator.execute(command)
        guard result.ok else { throw CoordinatorError(refused: result) }
        return .message("ok")
    }

    private func apply(
        _ options: [DatabaseOption], to parsed: inout DatabaseOptions, creating: Bool
    ) throws(CoordinatorError) {
        func bad(_ text: String) -> CoordinatorError { CoordinatorError(.badRequest, "sql.bad_option", text) }
        for option in options {
            switch (option.name, option.value) {
            case ("SHARD", .integer(let n)) where n >= 1 && n <= 1024: parsed.shard = Int(n)
            case ("REPLICA", .integer(let n)) where n >= 1:
                // Founders count before they have registered (right after the cluster starts).
                let nodes = max(coordinator.meta.current.nodes.count, coordinator.foundingNodeCount)
                guard n <= max(nodes, 1) else { throw bad("REPLICA \(n) exceeds the \(nodes) nodes of the cluster") }
                parsed.replica = Int(n)
            case ("TTL", .string(let text)):
                if text.lowercased() == "inf" {
                    parsed.ttl = nil
                } else {
                    guard let ns = DurationLiteral.parse(text), ns > 0 else {
                        throw bad("TTL '\(text)' is not a duration")
                    }
                    parsed.ttl = ns
                }
            case ("VNODE_DURATION", .string(let text)):
                guard let ns = DurationLiteral.parse(text), ns > 0 else {
                    throw bad("VNODE_DURATION '\(text)' is not a duration")
                }
                parsed.vnodeDuration = ns
            case ("PRECISION", .string(let text)):
                guard ["ns", "us", "ms"].contains(text.lowercased()) else {
                    throw bad("PRECISION must be 'ns', 'us' or 'ms', not '\(text)'")
                }
                guard creating else { throw bad("PRECISION is fixed when the database is created") }
                parsed.precision = text.lowercased()
            default:
                throw bad("\(option.name) has a value of the wrong kind")
            }
        }
    }

    private func showReplicas() async -> QueryResult {
        let leaders = await coordinator.host.inspect { view in
            Dictionary(view.groups.map { ($0.group.rawValue, $0.leader?.rawValue) }, uniquingKeysWith: { a, _ in a })
        }
        var rows: [[SQLValue]] = []
        for (name, database) in (coordinator.meta.current.tenants[tenant]?.databases ?? [:]).sorted(by: {
            $0.key < $1.key
        }) {
            for bucket in database.buckets {
                for set in bucket.replicaSets where set.isLive {
                    let leader = (leaders[set.id] ?? nil) ?? set.leaderHint
                    let location = set.nodes.map { $0 == leader ? "\($0)*" : "\($0)" }.joined(separator: ",")
                    rows.append([
                        .unsigned(set.id), .string(location), .string(name), .time(bucket.start), .time(bucket.end),
                    ])
                }
            }
        }
        return QueryResult(columns: ["replica_id", "location", "database", "start_time", "end_time"], rows: rows)
    }

    // MARK: - SELECT

    /// A SELECT's answer: whole, or (a raw SELECT without ORDER BY, LIMIT or OFFSET whose rows do not come in one
    /// page of each replica set) streamed page by page, so that no node holds more than a page per set.
    public func answer(_ select: Select) async throws(CoordinatorError) -> QueryAnswer {
        if let other = select.database, other != database {
            var executor = SQLExecutor(
                coordinator: coordinator, source: source, tenant: tenant, database: other, stale: stale)
            executor.pageRows = pageRows
            return try await executor.answer(select)
        }
        let filter = try select.filter.map { (e: SQLExpression) throws(CoordinatorError) in
            try Compiled(e, missingTagsAreEmpty: select.missingTagsAreEmpty)
        }
        let (start, end) = filter?.timeRange ?? (.min, .max)
        let pushed = Self.tagEqualities(select)
        if let result = try await pushedAggregate(select, start: start, end: end, tags: pushed) {
            return .whole(result)
        }
        let aggregated = select.items.contains { if case .aggregate = $0 { return true } else { return false } }
        let raw = !aggregated && select.timeBin == nil && select.groupTags.isEmpty
        var rows: [Row]
        if raw && !select.orderedByTime && select.orderBy.isEmpty && select.limit == nil && select.offset == 0 {
            var scan = try await source.scanInPages(
                tenant: tenant, database: database, measurement: select.table, start: start, end: end,
                tags: pushed.tags, fields: Self.projection(select), pageRows: pageRows, stale: stale)
            if !scan.isWhole {
                let schema = try await source.schema(tenant: tenant, database: database)[select.table]
                let projection = Projection(
                    select, tagKeys: (schema?.tags ?? []).sorted(),
                    fieldKeys: (schema?.fields.keys ?? [:].keys).sorted())
                return .streamed(StreamedRows(scan: scan, filter: filter, projection: projection, math: select.math))
            }
            rows = []
            while let page = try await scan.next() { rows += page }
        } else {
            // The first rows in time order are among each series' first: a LIMIT goes down when nothing but the
            // vnodes filters and nothing groups.
            let seriesLimit =
                pushed.whole && raw && !select.descending && select.orderBy.isEmpty
                ? select.limit.flatMap { limit in
                    let (sum, overflow) = limit.addingReportingOverflow(select.offset)
                    return overflow ? nil : sum
                } : nil
            rows = try await source.scan(
                tenant: tenant, database: database, measurement: select.table, start: start, end: end,
                tags: pushed.tags, fields: Self.projection(select), seriesLimit: seriesLimit, stale: stale)
        }
        var matching = rows.filter { filter?.matches($0) ?? true }
        matching.sort { $0.timestamp < $1.timestamp }
        var result: QueryResult
        if !raw {
            result = try aggregate(select, matching)
        } else {
            result = project(select, matching)
        }
        return .whole(try Self.ordered(result, select, range: (start, end)))
    }

    /// `result` (in time order) ordered as the SELECT says — `ORDER BY time DESC` reversed, other keys sorted
    /// (stable, nulls first) — then OFFSET and LIMIT applied.
    static func ordered(
        _ result: QueryResult, _ select: Select, range: (Int64, Int64) = (.min, .max)
    ) throws(CoordinatorError) -> QueryResult {
        var result = result
        if let fills = select.gapfill, let width = select.timeBin {
            result = try gapFilled(result, select, fills: fills, width: width, range: range)
        }
        // HAVING sees the aggregates as computed, before the SELECT's arithmetic on them.
        if let condition = select.having { result = try having(condition, result) }
        applyMath(select.math, to: &result.rows)
        if select.descending { result.rows.reverse() }
        if !select.orderBy.isEmpty {
            var keys: [(index: Int, descending: Bool)] = []
            for key in select.orderBy {
                guard let index = result.columns.firstIndex(where: { $0.lowercased() == key.column.lowercased() })
                else {
                    throw CoordinatorError(
                        .badRequest, "sql.bad_order",
                        "ORDER BY \(key.column): the SELECT has no column of that name (\(result.columns.joined(separator: ", ")))"
                    )
                }
                keys.append((index, key.descending))
            }
            let indexed = result.rows.enumerated().sorted { a, b in
                for key in keys {
                    let order = a.element[key.index].order(b.element[key.index])
                    if order != 0 { return key.descending ? order > 0 : order < 0 }
                }
                return a.offset < b.offset
            }
            result.rows = indexed.map(\.element)
        }
        if select.offset > 0 { result.rows = Array(result.rows.dropFirst(select.offset)) }
        if let limit = select.limit { result.rows = Array(result.rows.prefix(limit)) }
        return result
    }

    private func project(_ select: Select, _ rows: [Row]) -> QueryResult {
        var tagKeys: Set<String> = []
        var fieldKeys: Set<String> = []
        // Only `SELECT *` needs every row's keys; a row with the keys of the row before (the rows of a series, in
        // the same order when they share a dictionary layout) adds none.
        if select.items.contains(where: { if case .all = $0 { return true } else { return false } }) {
            var previous: Row?
            for row in rows {
                if !(previous?.tags.elementsEqual(row.tags) { $0.key == $1.key } ?? false) {
                    for tag in row.tags { tagKeys.insert(tag.key) }
                }
                if !(previous?.fields.keys.elementsEqual(row.fields.keys) ?? false) {
                    for key in row.fields.keys { fieldKeys.insert(key) }
                }
                previous = row
            }
        }
        let projection = Projection(select, tagKeys: tagKeys.sorted(), fieldKeys: fieldKeys.sorted())
        return QueryResult(columns: projection.columns, rows: projection.cells(rows))
    }

    func aggregate(_ select: Select, _ rows: [Row]) throws(CoordinatorError) -> QueryResult {
        struct Key: Hashable, Comparable {
            var bin: Int64
            var tags: [String]
            static func < (a: Key, b: Key) -> Bool {
                (a.bin, a.tags.joined(separator: "\u{0}")) < (b.bin, b.tags.joined(separator: "\u{0}"))
            }
        }
        let origin =
            try select.timeBinOrigin.map { (o: Literal) throws(CoordinatorError) in try Compiled.timeValue(o) } ?? 0
        var groups: [Key: [Row]] = [:]
        for row in rows {
            var bin: Int64 = 0
            if let width = select.timeBin {
                let since = row.timestamp &- origin
                bin = (since / width) * width
                if since < 0 && since % width != 0 { bin = bin &- width }
                bin = bin &+ origin
            }
            groups[Key(bin: bin, tags: select.groupTags.map { row.tag($0) ?? "" }), default: []].append(row)
        }
        if groups.isEmpty && select.timeBin == nil && select.groupTags.isEmpty { groups[Key(bin: 0, tags: [])] = [] }
        var names: [String] = []
        for item in select.items {
            switch item {
            case .aggregate(let fn, let column, let alias): names.append(alias ?? fn.columnName(column))
            case .column(let name, let alias):
                guard name.lowercased() == "time" || select.groupTags.contains(name) else {
                    throw CoordinatorError(
                        .badRequest, "sql.not_grouped", "column '\(name)' must be aggregated or appear in GROUP BY")
                }
                names.append(alias ?? name)
            case .timeBin(let alias): names.append(alias ?? "time")
            case .all:
                throw CoordinatorError(.badRequest, "sql.not_grouped", "SELECT * cannot be mixed with aggregates")
            }
        }
        var out: [[SQLValue]] = []
        for key in groups.keys.sorted() {
            let members = groups[key]!
            var row: [SQLValue] = []
            for item in select.items {
                switch item {
                case .aggregate(let fn, let column, _): row.append(Self.compute(fn, column, members))
                case .column(let name, _):
                    if name.lowercased() == "time" {
                        row.append(.time(key.bin))
                    } else {
                        row.append(.string(key.tags[select.groupTags.firstIndex(of: name)!]))
                    }
                case .timeBin: row.append(.time(key.bin))
                case .all: break
                }
            }
            out.append(row)
        }
        return QueryResult(columns: names, rows: out)
    }

    static func compute(_ fn: Aggregate, _ column: String?, _ rows: [Row]) -> SQLValue {
        guard let column else { return fn == .count ? .integer(Int64(rows.count)) : .null }
        // A tag's values count as strings (`count(DISTINCT host)`).
        let values = rows.compactMap { row -> (Int64, FieldValue)? in
            (row.fields[column] ?? row.tag(column).map { FieldValue.string($0) }).map { (row.timestamp, $0) }
        }
        switch fn {
        case .count: return .integer(Int64(values.count))
        case .first: return values.first.map { value($0.1) } ?? .null
        case .last: return values.last.map { value($0.1) } ?? .null
        case .sum, .avg:
            let numbers = values.compactMap { numeric($0.1) }
            guard !numbers.isEmpty else { return .null }
            let total = numbers.reduce(0, +)
            if fn == .avg { return .double(total / Double(numbers.count)) }
            if values.allSatisfy({ if case .integer = $0.1 { true } else { false } }) {
                return .integer(
                    values.reduce(Int64(0)) { if case .integer(let v) = $1.1 { return $0 &+ v } else { return $0 } })
            }
            return .double(total)
        case .median, .percentile:
            let numbers = values.compactMap { numeric($0.1) }.sorted()
            guard !numbers.isEmpty else { return .null }
            if case .percentile(let p) = fn {
                // InfluxDB's nearest rank: index floor(n·p/100 + 0.5) − 1 of the sorted values; none below the
                // first. The value keeps its field's type.
                guard p >= 0, p <= 100 else { return .null }
                let index = Int((Double(numbers.count) * p / 100 + 0.5).rounded(.down)) - 1
                guard index >= 0 else { return .null }
                let chosen = numbers[min(index, numbers.count - 1)]
                let integral = values.allSatisfy { if case .integer = $0.1 { true } else { false } }
                return integral && abs(chosen) < 9.2e18 ? .integer(Int64(chosen)) : .double(chosen)
            }
            let middle = numbers.count / 2
            return .double(numbers.count % 2 == 1 ? numbers[middle] : (numbers[middle - 1] + numbers[middle]) / 2)
        case .spread:
            let numbers = values.compactMap { numeric($0.1) }
            guard let low = numbers.min(), let high = numbers.max() else { return .null }
            let integers = values.compactMap { value -> Int64? in if case .integer(let v) = value.1 { v } else { nil } }
            if integers.count == values.count, let min = integers.min(), let max = integers.max() {
                let (difference, overflow) = max.subtractingReportingOverflow(min)
                return overflow ? .double(high - low) : .integer(difference)
            }
            return .double(high - low)
        case .stddev:
            let numbers = values.compactMap { numeric($0.1) }
            guard numbers.count > 1 else { return .null }
            let mean = numbers.reduce(0, +) / Double(numbers.count)
            let squares = numbers.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            return .double((squares / Double(numbers.count - 1)).squareRoot())
        case .countDistinct:
            var seen: Set<String> = []
            for (_, v) in values { seen.insert("\(v)") }
            return .integer(Int64(seen.count))
        case .min, .max:
            var best: FieldValue?
            for (_, v) in values {
                guard let current = best else {
                    best = v
                    continue
                }
                let less = compare(v, current) < 0
                if (fn == .min && less) || (fn == .max && compare(v, current) > 0) { best = v }
            }
            return best.map(value) ?? .null
        }
    }
}

func value(_ field: FieldValue?) -> SQLValue {
    switch field {
    case .none: return .null
    case .float(let v): return .double(v)
    case .integer(let v): return .integer(v)
    case .unsigned(let v): return .unsigned(v)
    case .string(let v): return .string(v)
    case .boolean(let v): return .boolean(v)
    }
}

func column(_ name: String, of row: Row) -> SQLValue {
    if name.lowercased() == "time" { return .time(row.timestamp) }
    if let tag = row.tag(name) { return .string(tag) }
    return value(row.fields[name])
}

private func numeric(_ v: FieldValue) -> Double? {
    switch v {
    case .float(let x): return x
    case .integer(let x): return Double(x)
    case .unsigned(let x): return Double(x)
    default: return nil
    }
}

private func compare(_ a: FieldValue, _ b: FieldValue) -> Int {
    if let x = numeric(a), let y = numeric(b) { return x < y ? -1 : x > y ? 1 : 0 }
    if case .string(let x) = a, case .string(let y) = b { return x < y ? -1 : x > y ? 1 : 0 }
    if case .boolean(let x) = a, case .boolean(let y) = b { return x == y ? 0 : (x ? 1 : -1) }
    return 0
}

/// A `WHERE` expression ready to evaluate on rows, with the time range it implies (for bucket pruning).
struct Compiled: Sendable {
    let timeRange: (Int64, Int64)
    /// The expression with what does not depend on the row worked out once: which comparisons are on time, and
    /// their times (nil: a literal that is not a time, which matches no row).
    private let check: Check
    /// InfluxQL's rule: a tag a row does not have reads as the empty string (SQL's: as NULL, matching nothing).
    private let missingTagsAreEmpty: Bool

    private indirect enum Check: Sendable {
        case and(Check, Check)
        case or(Check, Check)
        case not(Check)
        case time(Comparison, Int64?)
        case column(String, Comparison, Literal)
        /// A tag's value against a regular expression (nil: it did not compile, and matches nothing).
        case regex(String, TagPattern?, matches: Bool)
        case isNull(String, negated: Bool)
        /// Each value as an equality check.
        case inList(String, [Check], negated: Bool)

        init(_ e: SQLExpression) {
            switch e {
            case .and(let a, let b): self = .and(Check(a), Check(b))
            case .or(let a, let b): self = .or(Check(a), Check(b))
            case .not(let a): self = .not(Check(a))
            case .comparison(let column, let op, let literal):
                self =
                    column.lowercased() == "time"
                    ? .time(op, try? Compiled.timeValue(literal)) : .column(column, op, literal)
            case .regex(let column, let pattern, let matches):
                self = .regex(column, TagPattern(pattern), matches: matches)
            case .isNull(let column, let negated):
                self = .isNull(column, negated: negated)
            case .inList(let column, let values, let negated):
                self = .inList(
                    column, values.map { Check(.comparison(column: column, op: .equal, value: $0)) }, negated: negated)
            }
        }
    }

    init(_ expression: SQLExpression, missingTagsAreEmpty: Bool = false) throws(CoordinatorError) {
        try Self.checkPatterns(expression)
        var range: (Int64, Int64) = (.min, .max)
        try Self.narrow(expression, &range)
        timeRange = range
        check = Check(expression)
        self.missingTagsAreEmpty = missingTagsAreEmpty
    }

    /// Every regular expression in `e` compiles, or a 400 names the one that does not.
    private static func checkPatterns(_ e: SQLExpression) throws(CoordinatorError) {
        switch e {
        case .and(let a, let b), .or(let a, let b):
            try checkPatterns(a)
            try checkPatterns(b)
        case .not(let a): try checkPatterns(a)
        case .regex(_, let pattern, _):
            guard TagPattern(pattern) != nil else {
                throw CoordinatorError(.badRequest, "query.bad_regex", "/\(pattern)/ is not a regular expression")
            }
        case .comparison, .isNull, .inList: break
        }
    }

    /// Intersects `range` with the time bounds of the top-level conjunction.
    private static func narrow(_ e: SQLExpression, _ range: inout (Int64, Int64)) throws(CoordinatorError) {
        switch e {
        case .and(let a, let b):
            try narrow(a, &range)
            try narrow(b, &range)
        case .comparison(let column, let op, let literal) where column.lowercased() == "time":
            let t = try timeValue(literal)
            switch op {
            case .greaterOrEqual: range.0 = max(range.0, t)
            case .greater: range.0 = max(range.0, t == .max ? t : t + 1)
            case .less: range.1 = min(range.1, t)
            case .lessOrEqual: range.1 = min(range.1, t == .max ? t : t + 1)
            case .equal:
                range.0 = max(range.0, t)
                range.1 = min(range.1, t == .max ? t : t + 1)
            case .notEqual: break
            }
        default: break
        }
    }

    static func timeValue(_ literal: Literal) throws(CoordinatorError) -> Int64 {
        switch literal {
        case .integer(let v): return v
        case .string(let s):
            guard let t = parseTime(s) else {
                throw CoordinatorError(.badRequest, "sql.bad_time", "'\(s)' is not an RFC 3339 time or an integer")
            }
            return t
        default:
            throw CoordinatorError(.badRequest, "sql.bad_time", "time compares with an RFC 3339 string or an integer")
        }
    }

    func matches(_ row: Row) -> Bool { Self.evaluate(check, row, missingTagsAreEmpty) }

    private static func evaluate(_ check: Check, _ row: Row, _ missingTagsAreEmpty: Bool) -> Bool {
        let order: Int?
        let op: Comparison
        switch check {
        case .and(let a, let b):
            return evaluate(a, row, missingTagsAreEmpty) && evaluate(b, row, missingTagsAreEmpty)
        case .or(let a, let b):
            return evaluate(a, row, missingTagsAreEmpty) || evaluate(b, row, missingTagsAreEmpty)
        case .not(let a): return !evaluate(a, row, missingTagsAreEmpty)
        case .regex(let column, let regex, let matches):
            guard let regex else { return false }
            var text = row.tag(column) ?? ""
            if text.isEmpty, case .string(let value)? = row.fields[column] { text = value }
            let found = regex.matches(text)
            return found == matches
        case .isNull(let column, let negated):
            let missing = column.lowercased() != "time" && row.tag(column) == nil && row.fields[column] == nil
            return missing != negated
        case .inList(_, let checks, let negated):
            return checks.contains { evaluate($0, row, missingTagsAreEmpty) } != negated
        case .time(let comparison, let t):
            guard let t else { return false }
            op = comparison
            order = row.timestamp < t ? -1 : row.timestamp > t ? 1 : 0
        case .column(let column, let comparison, let literal):
            op = comparison
            if let tag = row.tag(column) {
                guard case .string(let s) = literal else { return false }
                order = tag == s ? 0 : tag < s ? -1 : 1
            } else if let field = row.fields[column] {
                order = compareField(field, literal)
            } else if missingTagsAreEmpty, case .string(let s) = literal {
                order = s.isEmpty ? 0 : -1
            } else {
                order = nil
            }
        }
        guard let order else { return false }
        switch op {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greater: return order > 0
        case .greaterOrEqual: return order >= 0
        }
    }

    private static func compareField(_ field: FieldValue, _ literal: Literal) -> Int? {
        switch (field, literal) {
        case (.string(let a), .string(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.boolean(let a), .boolean(let b)): return a == b ? 0 : (a ? 1 : -1)
        default:
            guard let a = numeric(field) else { return nil }
            let b: Double
            switch literal {
            case .integer(let v): b = Double(v)
            case .float(let v): b = v
            default: return nil
            }
            return a < b ? -1 : a > b ? 1 : 0
        }
    }
}

/// A compiled regular expression on tag values (InfluxQL's `=~ /…/`): unanchored, as Go's `MatchString`.
/// `NSRegularExpression` is immutable and documented safe to use from several threads at once.
struct TagPattern: @unchecked Sendable {
    private let expression: NSRegularExpression

    init?(_ pattern: String) {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return nil }
        self.expression = expression
    }

    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
