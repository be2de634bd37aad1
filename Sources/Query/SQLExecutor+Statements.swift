import Coordinator
import LineProtocol
import SQL
import TSDB

/// The SQL statements answered by other parts: SHOW SERIES and SHOW TAG VALUES (the InfluxQL executor's series
/// lists), EXPLAIN, constants; and what every SELECT's answer goes through last (arithmetic, HAVING).
extension SQLExecutor {
    /// An InfluxQL SHOW statement's series as one table: `key` for SHOW SERIES, `key`/`value` for tag values.
    func influx(_ statement: InfluxStatement, columns: [String]) async throws(CoordinatorError) -> QueryResult {
        let executor = InfluxQLExecutor(
            coordinator: coordinator, tenant: tenant, database: database, stale: stale, now: 0)
        let series = try await executor.run(statement)
        return QueryResult(columns: columns, rows: series.flatMap(\.values))
    }

    static func constant(_ literal: Literal) -> SQLValue {
        switch literal {
        case .integer(let v): return .integer(v)
        case .float(let v): return .double(v)
        case .string(let v): return .string(v)
        case .boolean(let v): return .boolean(v)
        case .null: return .null
        }
    }

    /// How a statement would run: for a SELECT, the range and series the vnodes are asked for, and whether
    /// they answer aggregates themselves or rows travel.
    func explain(_ statement: Statement) async throws(CoordinatorError) -> QueryResult {
        guard case .select(let select) = statement else {
            return QueryResult(
                columns: ["plan_type", "plan"], rows: [[.string("statement"), .string("\(statement)")]])
        }
        let filter = try select.filter.map { (e: SQLExpression) throws(CoordinatorError) in try Compiled(e) }
        let (start, end) = filter?.timeRange ?? (.min, .max)
        let pushed = Self.tagEqualities(select)
        let aggregated = select.items.contains { if case .aggregate = $0 { true } else { false } }
        let pushable =
            pushed.whole
            && select.items.allSatisfy { item in
                if case .aggregate(let fn, _, _) = item { return [.count, .sum, .avg, .min, .max].contains(fn) }
                return true
            }
        let range = "time in [\(start == .min ? "-inf" : formatTime(start)), \(end == .max ? "+inf" : formatTime(end)))"
        let series =
            pushed.tags.isEmpty
            ? "every series" : pushed.tags.map { "\($0.key)='\($0.value)'" }.joined(separator: " AND ")
        var rows: [[SQLValue]] = [
            [.string("logical_plan"), .string("\(select.table): \(range); \(series)")]
        ]
        let plan: String
        if aggregated && pushable {
            plan =
                "each replica set answers partial aggregates per series\(select.timeBin.map { " and \($0) ns bin" } ?? "") (from block stats where a block lies wholly inside); merged here"
        } else if aggregated {
            plan = "rows of the selected series travel; filtered, grouped and aggregated here"
        } else {
            plan =
                "rows of the selected series travel"
                + (pushed.whole ? "" : "; the WHERE beyond time and tag equalities is applied here")
        }
        rows.append([.string("physical_plan"), .string(plan)])
        return QueryResult(columns: ["plan_type", "plan"], rows: rows)
    }

    /// Each item's arithmetic applied to its column's numbers (items and columns correspond one to one: a SELECT
    /// with `*` takes no arithmetic).
    static func applyMath(_ math: [[MathStep]], to rows: inout [[SQLValue]]) {
        guard math.contains(where: { !$0.isEmpty }) else { return }
        for r in rows.indices {
            for (c, steps) in math.enumerated() where !steps.isEmpty && c < rows[r].count {
                guard let value = rows[r][c].number else { continue }
                rows[r][c] = .double(MathStep.apply(steps, to: value))
            }
        }
    }

    /// The rows of `result` whose columns satisfy HAVING (a column is found by its name: alias, or
    /// `avg(x)`/`count(*)` for an aggregate without one).
    static func having(_ condition: SQLExpression, _ result: QueryResult) throws(CoordinatorError) -> QueryResult {
        var names: [String] = []
        func collect(_ e: SQLExpression) {
            switch e {
            case .and(let a, let b), .or(let a, let b):
                collect(a)
                collect(b)
            case .not(let a): collect(a)
            case .comparison(let column, _, _), .regex(let column, _, _), .isNull(let column, _),
                .inList(let column, _, _):
                names.append(column)
            }
        }
        collect(condition)
        for name in names where !result.columns.contains(name) {
            throw CoordinatorError(
                .badRequest, "sql.bad_having",
                "HAVING \(name): the SELECT has no such column (\(result.columns.joined(separator: ", "))); select it, "
                    + "with an alias if you like, to filter on it")
        }
        let compiled = try Compiled(condition)
        var kept = QueryResult(columns: result.columns, rows: [])
        for row in result.rows {
            var fields: [String: FieldValue] = [:]
            var timestamp: Int64 = 0
            for (name, cell) in zip(result.columns, row) {
                switch cell {
                case .integer(let v): fields[name] = .integer(v)
                case .unsigned(let v): fields[name] = .unsigned(v)
                case .double(let v): fields[name] = .float(v)
                case .string(let v): fields[name] = .string(v)
                case .boolean(let v): fields[name] = .boolean(v)
                case .time(let t):
                    if name.lowercased() == "time" { timestamp = t }
                    fields[name] = .integer(t)
                case .null: break
                }
            }
            if compiled.matches(Row(tags: [], timestamp: timestamp, fields: fields)) { kept.rows.append(row) }
        }
        return kept
    }
}

extension SQLExecutor {
    /// `time_window_gapfill`: per group (the values of the non-aggregate columns), every window of the range, the
    /// empty ones filled per column (`locf`, `interpolate`, or null); rows then in window order, groups in order.
    static func gapFilled(
        _ result: QueryResult, _ select: Select, fills: [Fill], width: Int64, range: (Int64, Int64)
    ) throws(CoordinatorError) -> QueryResult {
        guard let timeColumn = select.items.firstIndex(where: { if case .timeBin = $0 { true } else { false } })
        else {
            throw CoordinatorError(
                .badRequest, "sql.gapfill", "time_window_gapfill(…) must be in the select list to fill gaps")
        }
        let groupColumns = select.items.indices.filter { if case .column = select.items[$0] { true } else { false } }
        let valueColumns = select.items.indices.filter { $0 != timeColumn && !groupColumns.contains($0) }
        var order: [[SQLValue]] = []
        var groups: [[SQLValue]: [[SQLValue]]] = [:]
        for row in result.rows {
            let key = groupColumns.map { row[$0] }
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append([row[timeColumn]] + valueColumns.map { row[$0] })
        }
        var filler = IntervalFill(width: width, range: range, now: 0, fill: .null)
        filler.columnFills = valueColumns.map { $0 < fills.count ? fills[$0] : .null }
        var rows: [(group: Int, row: [SQLValue])] = []
        for (group, key) in order.enumerated() {
            for compact in try filler.apply(groups[key]!) {
                var row = [SQLValue](repeating: .null, count: select.items.count)
                row[timeColumn] = compact[0]
                for (position, column) in groupColumns.enumerated() { row[column] = key[position] }
                for (position, column) in valueColumns.enumerated() { row[column] = compact[1 + position] }
                rows.append((group, row))
            }
        }
        rows.sort { a, b in
            let order = a.row[timeColumn].order(b.row[timeColumn])
            return order != 0 ? order < 0 : a.group < b.group
        }
        return QueryResult(columns: result.columns, rows: rows.map(\.row))
    }
}
