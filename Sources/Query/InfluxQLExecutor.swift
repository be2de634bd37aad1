import Coordinator
import Foundation
import LineProtocol
import Meta
import SQL
import TSDB

/// One series of an InfluxQL answer: InfluxDB's `results[].series[]` entry.
public struct InfluxSeries: Sendable, Equatable {
    public var name: String?
    /// Sorted by key; none: the entry has no `tags`.
    public var tags: [Tag] = []
    public var columns: [String]
    public var values: [[SQLValue]]

    public init(name: String?, tags: [Tag] = [], columns: [String], values: [[SQLValue]]) {
        self.name = name
        self.tags = tags
        self.columns = columns
        self.values = values
    }
}

/// Runs InfluxQL statements (docs/influxql.md) with the SQL front end's executor: a SELECT becomes the same
/// `Select` plan (pushed down to the vnodes where it can be), its rows are then split into InfluxDB's series by
/// their GROUP BY tags, empty time intervals filled, and LIMIT applied per series; SHOW statements read the
/// meta state, the measurements' schemas and the vnodes' series lists.
public struct InfluxQLExecutor: Sendable {
    let coordinator: Coordinator
    /// Where SELECT and SHOW read data (`SQLExecutor.source`).
    let source: any QuerySource
    let tenant: String
    /// The request's `db`, if any.
    let database: String?
    let stale: Bool
    /// The query's `now()`, nanoseconds since the epoch.
    let now: Int64

    public init(
        coordinator: Coordinator, source: (any QuerySource)? = nil, tenant: String, database: String?, stale: Bool,
        now: Int64
    ) {
        self.coordinator = coordinator
        self.source = source ?? coordinator
        self.tenant = tenant
        self.database = database
        self.stale = stale
        self.now = now
    }

    public func run(_ statement: InfluxStatement) async throws(CoordinatorError) -> [InfluxSeries] {
        switch statement {
        case .select(let select): return try await run(select)
        case .showDatabases:
            if !stale { try await coordinator.awaitCurrentMeta() }
            let names = coordinator.meta.current.tenants[tenant]?.databases.keys.sorted() ?? []
            return [InfluxSeries(name: "databases", columns: ["name"], values: names.map { [.string($0)] })]
        case .createDatabase(let name):
            _ = try await sql(database: nil).run(.createDatabase(name: name, ifNotExists: true, options: []))
            return []
        case .dropDatabase(let name):
            do {
                _ = try await sql(database: nil).run(.dropDatabase(name: name))
            } catch  where error.kind == .notFound {
                // InfluxDB drops a database that is not there without complaint.
            }
            return []
        case .showRetentionPolicies(let on):
            let name = try required(on ?? database)
            if !stale { try await coordinator.awaitCurrentMeta() }
            guard let options = coordinator.meta.current.database(tenant, name)?.options else {
                throw CoordinatorError(.notFound, "meta.database_not_found", "database not found: \(name)")
            }
            return [
                InfluxSeries(
                    name: nil, columns: ["name", "duration", "shardGroupDuration", "replicaN", "default"],
                    values: [
                        [
                            .string("autogen"), .string(goDuration(options.ttl ?? 0)),
                            .string(goDuration(options.vnodeDuration)), .integer(Int64(options.replica)),
                            .boolean(true),
                        ]
                    ])
            ]
        case .showUsers:
            let users = coordinator.meta.current.users.values.sorted { $0.name < $1.name }
            return [
                InfluxSeries(
                    name: nil, columns: ["user", "admin"],
                    values: [[.string("root"), .boolean(true)]]
                        + users.map { [.string($0.name), .boolean($0.isAdmin)] })
            ]
        case .showMeasurements(let on, let matching, let filter, let limit, let offset):
            let schema = try await schema(on)
            var names = schema.keys.sorted().filter { Self.keep($0, matching) }
            if let filter {
                let check = try SeriesFilter(filter)
                var kept: [String] = []
                for name in names
                where try await series(of: name, in: try required(on ?? database)).contains(
                    where: check.matches)
                {
                    kept.append(name)
                }
                names = kept
            }
            names = Array(names.dropFirst(offset).prefix(limit ?? .max))
            guard !names.isEmpty else { return [] }
            return [InfluxSeries(name: "measurements", columns: ["name"], values: names.map { [.string($0)] })]
        case .showTagKeys(let on, let from):
            return try await measurements(on, from).compactMap { name, columns in
                columns.tags.isEmpty
                    ? nil
                    : InfluxSeries(
                        name: name, columns: ["tagKey"], values: columns.tags.sorted().map { [.string($0)] })
            }
        case .showFieldKeys(let on, let from):
            return try await measurements(on, from).compactMap { name, columns in
                columns.fields.isEmpty
                    ? nil
                    : InfluxSeries(
                        name: name, columns: ["fieldKey", "fieldType"],
                        values: columns.fields.keys.sorted().map {
                            [.string($0), .string(Self.influxType(columns.fields[$0]!))]
                        })
            }
        case .showTagValues(let on, let from, let keys, let filter):
            let check = try filter.map { (e: SQLExpression) throws(CoordinatorError) in try SeriesFilter(e) }
            var result: [InfluxSeries] = []
            for (name, columns) in try await measurements(on, from) {
                let wanted = Set(columns.tags.filter { Self.keep($0, keys) })
                guard !wanted.isEmpty else { continue }
                var pairs: Set<[String]> = []
                for tags in try await series(of: name, in: try required(on ?? database))
                where check?.matches(tags) ?? true {
                    for tag in tags where wanted.contains(tag.key) { pairs.insert([tag.key, tag.value]) }
                }
                guard !pairs.isEmpty else { continue }
                result.append(
                    InfluxSeries(
                        name: name, columns: ["key", "value"],
                        values: pairs.sorted { $0.lexicographicallyPrecedes($1) }.map { $0.map { .string($0) } }))
            }
            return result
        case .showSeries(let on, let from, let filter):
            let check = try filter.map { (e: SQLExpression) throws(CoordinatorError) in try SeriesFilter(e) }
            var keys: [String] = []
            for (name, _) in try await measurements(on, from) {
                for tags in try await series(of: name, in: try required(on ?? database))
                where check?.matches(tags) ?? true {
                    keys.append(
                        ([name] + tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
                            .joined(separator: ","))
                }
            }
            guard !keys.isEmpty else { return [] }
            return [InfluxSeries(name: nil, columns: ["key"], values: keys.sorted().map { [.string($0)] })]
        case .delete(let measurement, let filter):
            do {
                _ = try await sql(database: try required(database)).delete(table: measurement, filter: filter)
            } catch  where error.code == "sql.table_not_found" {
                // InfluxDB deletes from a measurement that is not there without complaint.
            }
            return []
        case .unsupported(let what):
            throw CoordinatorError(
                .badRequest, "influxql.unsupported",
                "\(what) is not supported by Flotilla's InfluxQL (docs/influxql.md)")
        }
    }

    // MARK: - SELECT

    private func run(_ select: InfluxSelect) async throws(CoordinatorError) -> [InfluxSeries] {
        let databaseName = try required(select.database ?? database)
        let plan = select.plan
        guard let schema = try await source.schema(tenant: tenant, database: databaseName)[plan.table] else {
            return []
        }
        var groupTags = plan.groupTags
        if select.groupByAllTags {
            for tag in schema.tags.sorted() where !groupTags.contains(tag) { groupTags.append(tag) }
        }
        // Series come in the order of their tag sets read by key name (InfluxDB's series keys), whatever the
        // order the GROUP BY names them in.
        groupTags.sort()
        let aggregated = plan.items.contains { if case .aggregate = $0 { true } else { false } }
        let executor = sql(database: databaseName)
        let range =
            try plan.filter.map { (e: SQLExpression) throws(CoordinatorError) in try Compiled(e).timeRange }
            ?? (.min, .max)
        var series: [InfluxSeries]
        if aggregated {
            var items: [SelectItem] = [.timeBin(alias: "time")] + groupTags.map { .column($0, alias: nil) }
            var names: [String] = []
            var counts: [Bool] = []
            for item in plan.items {
                switch item {
                case .aggregate(let fn, _, let alias):
                    items.append(item)
                    names.append(alias ?? "value")
                    counts.append(fn == .count)
                case .column(let name, _) where name.lowercased() == "time": continue
                default:
                    throw CoordinatorError(
                        .badRequest, "influxql.mixed",
                        "mixing aggregate and non-aggregate queries is not supported")
                }
            }
            var sqlSelect = Select(items: items, table: plan.table)
            sqlSelect.filter = plan.filter
            sqlSelect.missingTagsAreEmpty = true
            sqlSelect.timeBin = plan.timeBin
            sqlSelect.groupTags = groupTags
            var result = try await executor.run(.select(sqlSelect))
            if plan.timeBin == nil {
                // No points: no series (SQL answers one row of a zero count and nulls).
                result.rows.removeAll { row in
                    zip(row[(1 + groupTags.count)...], counts).allSatisfy { cell, isCount in
                        cell == .null || (isCount && cell == .integer(0))
                    }
                }
            }
            series = split(result, name: plan.table, tagCount: groupTags.count, groupTags: groupTags) { row in
                [row[0]] + row[(1 + groupTags.count)...]
            }
            for index in series.indices {
                series[index].columns = ["time"] + names
                if let width = plan.timeBin {
                    series[index].values = try IntervalFill(width: width, range: range, now: now, fill: select.fill)
                        .apply(series[index].values)
                    // count() is 0 in an interval with no points (then fill(…) replaces that 0), as InfluxDB.
                    for (offset, isCount) in counts.enumerated() where isCount {
                        for row in series[index].values.indices where series[index].values[row][1 + offset] == .null {
                            series[index].values[row][1 + offset] = .integer(0)
                        }
                    }
                } else {
                    let start = range.0 == .min ? 0 : range.0
                    for row in series[index].values.indices { series[index].values[row][0] = .time(start) }
                }
                if plan.descending { series[index].values.reverse() }
            }
        } else {
            guard plan.timeBin == nil else {
                throw CoordinatorError(
                    .badRequest, "influxql.no_aggregate", "GROUP BY time(…) requires at least one aggregate function")
            }
            var columns: [String] = []
            for item in plan.items {
                switch item {
                case .all:
                    columns += schema.tags.union(schema.fields.keys).subtracting(groupTags).sorted()
                case .column(let name, _):
                    if name.lowercased() != "time" { columns.append(name) }
                default: break
                }
            }
            guard columns.contains(where: { schema.fields[$0] != nil }) else {
                throw CoordinatorError(
                    .badRequest, "influxql.no_field", "the SELECT list must name at least one field of \(plan.table)")
            }
            var sqlSelect = Select(
                items: [.column("time", alias: nil)] + (groupTags + columns).map { .column($0, alias: nil) },
                table: plan.table)
            sqlSelect.filter = plan.filter
            sqlSelect.missingTagsAreEmpty = true
            sqlSelect.orderedByTime = true
            sqlSelect.descending = plan.descending
            let result = try await executor.run(.select(sqlSelect))
            let fieldPositions = columns.indices.filter { schema.fields[columns[$0]] != nil }
                .map { 1 + groupTags.count + $0 }
            // A row none of whose selected fields has a value is not shown, as InfluxDB shows none.
            let rows = result.rows.filter { row in fieldPositions.contains { row[$0] != .null } }
            series = split(
                QueryResult(columns: result.columns, rows: rows), name: plan.table, tagCount: groupTags.count,
                groupTags: groupTags
            ) { row in [row[0]] + row[(1 + groupTags.count)...] }
            let names = plan.items.flatMap { item -> [String] in
                switch item {
                case .all: return schema.tags.union(schema.fields.keys).subtracting(groupTags).sorted()
                case .column(let name, let alias): return name.lowercased() == "time" ? [] : [alias ?? name]
                default: return []
                }
            }
            for index in series.indices { series[index].columns = ["time"] + names }
        }
        applyMath(select, to: &series)
        series = Array(series.dropFirst(select.seriesOffset).prefix(select.seriesLimit ?? .max))
        for index in series.indices {
            series[index].values = Array(series[index].values.dropFirst(select.offset).prefix(select.limit ?? .max))
        }
        return series.filter { !$0.values.isEmpty }
    }

    /// `mean("value") / 100`: each item's arithmetic applied to its column's numbers (the columns after `time`
    /// come in item order; `*` stands for several, and takes no arithmetic).
    private func applyMath(_ select: InfluxSelect, to series: inout [InfluxSeries]) {
        guard select.math.contains(where: { !$0.isEmpty }), !select.plan.items.contains(.all) else { return }
        let columnSteps = select.plan.items.indices.compactMap { index -> [MathStep]? in
            if case .column(let name, _) = select.plan.items[index], name.lowercased() == "time" { return nil }
            return index < select.math.count ? select.math[index] : []
        }
        for s in series.indices {
            for r in series[s].values.indices {
                for (offset, steps) in columnSteps.enumerated() where !steps.isEmpty {
                    let c = 1 + offset
                    guard c < series[s].values[r].count, let x = series[s].values[r][c].number else { continue }
                    series[s].values[r][c] = .double(MathStep.apply(steps, to: x))
                }
            }
        }
    }

    /// The result's rows (time, then one cell per group tag, then the rest) as one series per tag set, in tag
    /// order, each row made by `cells`.
    private func split(
        _ result: QueryResult, name: String, tagCount: Int, groupTags: [String],
        cells: ([SQLValue]) -> [SQLValue]
    ) -> [InfluxSeries] {
        var order: [[String]] = []
        var rows: [[String]: [[SQLValue]]] = [:]
        for row in result.rows {
            let key = (0..<tagCount).map { index -> String in
                if case .string(let value) = row[1 + index] { return value }
                return ""
            }
            if rows[key] == nil { order.append(key) }
            rows[key, default: []].append(cells(row))
        }
        return order.sorted { $0.lexicographicallyPrecedes($1) }.map { key in
            InfluxSeries(
                name: name, tags: zip(groupTags, key).map { Tag($0, $1) }.sorted { $0.key < $1.key }, columns: [],
                values: rows[key]!)
        }
    }

    // MARK: - Helpers

    private func sql(database: String?) -> SQLExecutor {
        SQLExecutor(
            coordinator: coordinator, source: source, tenant: tenant, database: database ?? "public", stale: stale)
    }

    private func required(_ name: String?) throws(CoordinatorError) -> String {
        guard let name, !name.isEmpty else {
            throw CoordinatorError(.badRequest, "influxql.no_database", "database name required")
        }
        return name
    }

    private func schema(_ on: String?) async throws(CoordinatorError) -> [String: MeasurementSchema] {
        try await source.schema(tenant: tenant, database: try required(on ?? database))
    }

    /// The measurements a SHOW statement covers (the FROM's, or all), in name order.
    private func measurements(
        _ on: String?, _ from: String?
    ) async throws(CoordinatorError) -> [(String, MeasurementSchema)] {
        let schema = try await schema(on)
        if let from { return schema[from].map { [(from, $0)] } ?? [] }
        return schema.keys.sorted().map { ($0, schema[$0]!) }
    }

    /// The tag sets of the series of `measurement`, from the vnodes' per-series counts (no points travel).
    private func series(of measurement: String, in database: String) async throws(CoordinatorError) -> [[Tag]] {
        let parts = try await source.aggregate(
            tenant: tenant, database: database, measurement: measurement, start: .min, end: .max, tags: [],
            field: nil, window: nil, stale: stale)
        var seen: Set<[Tag]> = []
        return parts.compactMap { seen.insert($0.tags).inserted ? $0.tags : nil }
    }

    private static func keep(_ name: String, _ match: NameMatch?) -> Bool {
        switch match {
        case .none: return true
        case .equal(let wanted): return name == wanted
        case .oneOf(let names): return names.contains(name)
        case .regex(let pattern): return TagPattern(pattern)?.matches(name) ?? false
        }
    }

    /// InfluxDB's name of a field type, from Flotilla's SQL name.
    private static func influxType(_ sqlType: String) -> String {
        switch sqlType {
        case "DOUBLE": return "float"
        case "BIGINT": return "integer"
        case "BIGINT UNSIGNED": return "unsigned"
        case "BOOLEAN": return "boolean"
        default: return "string"
        }
    }
}

/// A duration as Go prints one (`168h0m0s`, `0s`), as InfluxDB shows retention policies.
func goDuration(_ nanoseconds: Int64) -> String {
    guard nanoseconds > 0 else { return "0s" }
    let seconds = nanoseconds / 1_000_000_000
    return "\(seconds / 3600)h\(seconds / 60 % 60)m\(seconds % 60)s"
}

/// A SHOW statement's WHERE, checked against a series' tags: its time conditions hold for every series (a series
/// list has no times), the rest is evaluated as a SELECT's WHERE would be on a row of that series.
struct SeriesFilter: Sendable {
    private let compiled: Compiled?

    init(_ expression: SQLExpression) throws(CoordinatorError) {
        compiled = try Self.withoutTime(expression).map { (e: SQLExpression) throws(CoordinatorError) in
            try Compiled(e)
        }
    }

    func matches(_ tags: [Tag]) -> Bool {
        compiled?.matches(Row(tags: tags, timestamp: 0, fields: [:])) ?? true
    }

    /// `e` with every comparison on time removed (nil: nothing is left).
    private static func withoutTime(_ e: SQLExpression) -> SQLExpression? {
        switch e {
        case .comparison(let column, _, _) where column.lowercased() == "time": return nil
        case .comparison, .regex, .isNull, .inList: return e
        case .not(let a): return withoutTime(a).map { .not($0) }
        case .and(let a, let b):
            switch (withoutTime(a), withoutTime(b)) {
            case (let x?, let y?): return .and(x, y)
            case (let x?, nil), (nil, let x?): return x
            case (nil, nil): return nil
            }
        case .or(let a, let b):
            guard let x = withoutTime(a), let y = withoutTime(b) else { return nil }
            return .or(x, y)
        }
    }
}
