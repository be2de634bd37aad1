/// Parses one statement of Flotilla's SQL subset (CnosDB syntax, docs/store.md). Keywords are case-insensitive;
/// a trailing `;` is allowed. Errors name the character where parsing stopped and what was expected there.
public struct SQLParser: TokenParser {
    var tokens: [Token]
    var index = 0
    /// What `now()` stands for (nanoseconds since the epoch); nil: `now()` is refused.
    private var now: Int64?

    /// `now`: the statement's clock, for `now()`.
    public static func parse(_ text: String, now: Int64? = nil) throws(SQLError) -> Statement {
        var parser = SQLParser(tokens: try tokenize(text))
        parser.now = now
        let statement = try parser.statement()
        if case .symbol(";") = parser.current.kind { parser.index += 1 }
        guard case .end = parser.current.kind else { throw parser.error("unexpected text after the statement") }
        return statement
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private mutating func stringLiteral(_ what: String) throws(SQLError) -> String {
        guard case .string(let s) = current.kind else { throw error("expected \(what) as a 'quoted string'") }
        index += 1
        return s
    }

    private mutating func ifNotExists() throws(SQLError) -> Bool {
        guard keyword("IF") else { return false }
        try expectKeyword("NOT")
        try expectKeyword("EXISTS")
        return true
    }

    // MARK: - Statements

    private mutating func statement() throws(SQLError) -> Statement {
        if keyword("EXPLAIN") {
            _ = keyword("ANALYZE")
            _ = keyword("VERBOSE")
            return .explain(try statement())
        }
        if keyword("SELECT") { return try selectStatement() }
        if keyword("SHOW") {
            if keyword("SERIES") {
                var table: String?
                if keyword("FROM") { table = try tableName().table }
                let filter = keyword("WHERE") ? try orExpression() : nil
                return .showSeries(table: table, filter: filter)
            }
            if keyword("TAG") {
                try expectKeyword("VALUES")
                try expectKeyword("FROM")
                let table = try tableName().table
                try expectKeyword("WITH")
                try expectKeyword("KEY")
                try expectSymbol("=")
                let key = try identifier("a tag key")
                let filter = keyword("WHERE") ? try orExpression() : nil
                return .showTagValues(table: table, key: key, filter: filter)
            }
            if keyword("TABLES") { return .showTables }
            if keyword("DATABASES") { return .showDatabases }
            if keyword("TENANTS") { return .showTenants }
            if keyword("REPLICAS") { return .showReplicas }
            if keyword("DATANODES") { return .showDataNodes }
            if keyword("VNODES") { return .showVnodes }
            throw error(
                "expected TABLES, DATABASES, TENANTS, REPLICAS, DATANODES, VNODES, SERIES or TAG VALUES after SHOW")
        }
        if keyword("DESCRIBE") || keyword("DESC") {
            if keyword("DATABASE") { return .describeDatabase(try identifier("a database name")) }
            _ = keyword("TABLE")
            return .describeTable(try identifier("a table name"))
        }
        if keyword("CREATE") {
            if keyword("TENANT") {
                let ine = try ifNotExists()
                return .createTenant(name: try identifier("a tenant name"), ifNotExists: ine)
            }
            if keyword("DATABASE") {
                let ine = try ifNotExists()
                let name = try identifier("a database name")
                var options: [DatabaseOption] = []
                if keyword("WITH") { options = try databaseOptions() }
                return .createDatabase(name: name, ifNotExists: ine, options: options)
            }
            if keyword("USER") {
                let ine = try ifNotExists()
                let name = try identifier("a user name")
                try expectKeyword("WITH")
                try expectKeyword("PASSWORD")
                _ = symbol("=")
                return .createUser(name: name, password: try stringLiteral("the password"), ifNotExists: ine)
            }
            throw error("expected TENANT, DATABASE or USER after CREATE")
        }
        if keyword("INSERT") { return .insert(try insert()) }
        if keyword("DELETE") {
            try expectKeyword("FROM")
            let table = try identifier("a table name")
            return .delete(table: table, filter: keyword("WHERE") ? try orExpression() : nil)
        }
        if keyword("REPLICA") { return .replica(try replicaCommand()) }
        let copy = current.isKeyword("COPY")
        if keyword("MOVE") || keyword("COPY") {
            try expectKeyword("VNODE")
            let vnode = UInt64(try integer("a vnode id"))
            try expectKeyword("TO")
            try expectKeyword("NODE")
            let node = UInt64(try integer("a node id"))
            return .vnode(copy ? .copy(vnode: vnode, toNode: node) : .move(vnode: vnode, toNode: node))
        }
        if keyword("DRAIN") {
            try expectKeyword("NODE")
            return .drainNode(UInt64(try integer("a node id")))
        }
        if keyword("CHECKSUM") {
            try expectKeyword("GROUP")
            return .checksumGroup(replicaSet: UInt64(try integer("a replica set id")))
        }
        if keyword("DROP") {
            if keyword("VNODE") { return .vnode(.drop(vnode: UInt64(try integer("a vnode id")))) }
            if keyword("TENANT") { return .dropTenant(name: try identifier("a tenant name")) }
            if keyword("DATABASE") { return .dropDatabase(name: try identifier("a database name")) }
            if keyword("USER") { return .dropUser(name: try identifier("a user name")) }
            throw error("expected TENANT, DATABASE, USER or VNODE after DROP")
        }
        if keyword("ALTER") {
            try expectKeyword("DATABASE")
            let name = try identifier("a database name")
            try expectKeyword("SET")
            return .alterDatabase(name: name, options: try databaseOptions())
        }
        if keyword("GRANT") {
            let privilege = try identifier("READ, WRITE or ALL").uppercased()
            guard ["READ", "WRITE", "ALL"].contains(privilege) else { throw error("expected READ, WRITE or ALL") }
            try expectKeyword("ON")
            try expectKeyword("DATABASE")
            let database = try identifier("a database name")
            try expectKeyword("TO")
            return .grant(privilege: privilege.lowercased(), database: database, user: try identifier("a user name"))
        }
        if keyword("REVOKE") {
            _ = try identifier("READ, WRITE or ALL")
            try expectKeyword("ON")
            try expectKeyword("DATABASE")
            let database = try identifier("a database name")
            try expectKeyword("FROM")
            return .revoke(database: database, user: try identifier("a user name"))
        }
        throw error(
            "expected SELECT, SHOW, DESCRIBE, CREATE, DROP, ALTER, GRANT, REVOKE, REPLICA, MOVE, COPY or CHECKSUM")
    }

    /// After `REPLICA`: `ADD|REMOVE|PROMOTE replica_id R node_id N` or `DESTROY replica_id R` (CnosDB's spelling
    /// `DESTORY` accepted too).
    private mutating func replicaCommand() throws(SQLError) -> ReplicaCommand {
        func replicaID() throws(SQLError) -> UInt64 {
            try expectKeyword("REPLICA_ID")
            return UInt64(try integer("a replica set id"))
        }
        func nodeID() throws(SQLError) -> UInt64 {
            try expectKeyword("NODE_ID")
            return UInt64(try integer("a node id"))
        }
        if keyword("ADD") {
            let set = try replicaID()
            return .add(replicaSet: set, node: try nodeID())
        }
        if keyword("REMOVE") {
            let set = try replicaID()
            return .remove(replicaSet: set, node: try nodeID())
        }
        if keyword("PROMOTE") {
            let set = try replicaID()
            return .promote(replicaSet: set, node: try nodeID())
        }
        if keyword("DESTROY") || keyword("DESTORY") { return .destroy(replicaSet: try replicaID()) }
        throw error("expected ADD, REMOVE, PROMOTE or DESTROY after REPLICA")
    }

    private mutating func databaseOptions() throws(SQLError) -> [DatabaseOption] {
        var options: [DatabaseOption] = []
        while case .word(let word) = current.kind {
            let name = word.uppercased()
            guard ["TTL", "SHARD", "VNODE_DURATION", "REPLICA", "PRECISION"].contains(name) else {
                throw error("unknown database option '\(word)' (TTL, SHARD, VNODE_DURATION, REPLICA, PRECISION)")
            }
            index += 1
            _ = symbol("=")
            options.append(DatabaseOption(name: name, value: try literal()))
            _ = symbol(",")
        }
        guard !options.isEmpty else { throw error("expected a database option") }
        return options
    }

    /// After `INSERT`: `INTO t(c, …) VALUES (v, …)[, (…)]`, each row as many values as columns.
    private mutating func insert() throws(SQLError) -> Insert {
        try expectKeyword("INTO")
        let table = try identifier("a table name")
        try expectSymbol("(")
        var columns: [String] = []
        repeat { columns.append(try identifier("a column name")) } while symbol(",")
        try expectSymbol(")")
        guard keyword("VALUES") else { throw error("expected VALUES (INSERT … SELECT is not supported)") }
        var rows: [[Literal]] = []
        repeat {
            let start = current.position
            try expectSymbol("(")
            var row: [Literal] = []
            repeat { row.append(try literal()) } while symbol(",")
            try expectSymbol(")")
            guard row.count == columns.count else {
                throw SQLError("this row has \(row.count) values for \(columns.count) columns", at: start)
            }
            rows.append(row)
        } while symbol(",")
        return Insert(table: table, columns: columns, rows: rows)
    }

    // MARK: - SELECT

    /// `t` or `db.t` (backticks or double quotes around either).
    private mutating func tableName() throws(SQLError) -> (database: String?, table: String) {
        let first = try identifier("a table name")
        guard symbol(".") else { return (nil, first) }
        return (first, try identifier("a table name after the database"))
    }

    /// After SELECT: a SELECT from a table, or a row of constants (`SELECT 1`).
    private mutating func selectStatement() throws(SQLError) -> Statement {
        switch current.kind {
        case .number, .string:
            var columns: [String] = []
            var values: [Literal] = []
            repeat {
                let start = index
                let value = try literal()
                let text = tokens[start..<index].map { token -> String in
                    switch token.kind {
                    case .number(let n): return n
                    case .string(let s): return "Utf8(\"\(s)\")"
                    case .symbol(let s): return s
                    default: return ""
                    }
                }.joined()
                values.append(value)
                columns.append(try alias() ?? text)
            } while symbol(",")
            return .selectValues(columns: columns, values: values)
        default:
            return .select(try select())
        }
    }

    /// `date_bin(INTERVAL …, time[, origin])` or `time_window(time, '10m')` at the current token (its name
    /// already read): the bin width and origin.
    private mutating func timeBinCall(_ name: String) throws(SQLError) -> (Int64, Literal?) {
        if name == "DATE_BIN" { return try dateBinArguments() }
        // TIME_WINDOW and TIME_WINDOW_GAPFILL take the same arguments.
        try expectSymbol("(")
        let column = try identifier("time")
        guard column.lowercased() == "time" else { throw error("time_window windows time") }
        try expectSymbol(",")
        _ = keyword("INTERVAL")
        let position = current.position
        let text = try stringLiteral("the window")
        guard let width = DurationLiteral.parse(text), width > 0 else {
            throw SQLError("'\(text)' is not an interval (e.g. '10m', '1 hour')", at: position)
        }
        if symbol(",") {
            throw error("a sliding time_window is not supported: windows are tumbling (docs/store.md)")
        }
        try expectSymbol(")")
        return (width, nil)
    }

    /// The name of a time-binning function at the current token, if it is one.
    private var timeBinFunction: String? {
        for name in ["DATE_BIN", "TIME_WINDOW", "TIME_WINDOW_GAPFILL"] where current.isKeyword(name) { return name }
        return nil
    }

    private mutating func select() throws(SQLError) -> Select {
        var items: [SelectItem] = []
        var math: [[MathStep]] = []
        var fills: [Fill] = []
        var gapfill = false
        /// The time bin of the select list, if any, and its alias: GROUP BY may name it by its alias.
        var selectedBin: (width: Int64, origin: Literal?)?
        repeat {
            if let function = timeBinFunction {
                index += 1
                gapfill = gapfill || function == "TIME_WINDOW_GAPFILL"
                selectedBin = try timeBinCall(function)
                items.append(.timeBin(alias: try alias()))
                math.append([])
                fills.append(.null)
            } else {
                // locf(…) and interpolate(…) around an aggregate: how time_window_gapfill fills its gaps.
                var fill = Fill.null
                var wrapped = false
                for (word, mode) in [("LOCF", Fill.previous), ("INTERPOLATE", .linear)]
                where current.isKeyword(word) && tokens[index + 1].kind == .symbol("(") {
                    index += 2
                    fill = mode
                    wrapped = true
                }
                var item = try selectItem()
                if wrapped { try expectSymbol(")") }
                fills.append(fill)
                math.append(try mathSteps())
                if let alias = try alias() {
                    switch item {
                    case .column(let name, _): item = .column(name, alias: alias)
                    case .aggregate(let fn, let column, _): item = .aggregate(fn, column: column, alias: alias)
                    default: throw error("* takes no alias")
                    }
                }
                items.append(item)
            }
        } while symbol(",")
        try expectKeyword("FROM")
        let (database, table) = try tableName()
        var select = Select(items: items, table: table)
        select.database = database
        if math.contains(where: { !$0.isEmpty }) {
            guard !items.contains(.all) else { throw error("arithmetic cannot be mixed with *") }
            select.math = math
        }
        if gapfill || fills.contains(where: { $0 != .null }) {
            guard gapfill else {
                throw error("locf(…) and interpolate(…) need time_window_gapfill(…) in the select list")
            }
            select.gapfill = fills
        }
        if keyword("WHERE") { select.filter = try orExpression() }
        if keyword("GROUP") {
            try expectKeyword("BY")
            let binAlias = items.lazy.compactMap { item -> String? in
                if case .timeBin(let alias) = item { return alias ?? "time" } else { return nil }
            }.first
            repeat {
                if let function = timeBinFunction {
                    index += 1
                    (select.timeBin, select.timeBinOrigin) = try timeBinCall(function)
                } else {
                    let name = try identifier("a tag or date_bin(...) to group by")
                    if let selectedBin, let binAlias, name.lowercased() == binAlias.lowercased() {
                        (select.timeBin, select.timeBinOrigin) = selectedBin
                    } else {
                        select.groupTags.append(name)
                    }
                }
            } while symbol(",")
        }
        if selectedBin != nil && select.timeBin == nil {
            throw error("a time bin in the select list needs GROUP BY it (its alias, or the same call)")
        }
        if keyword("HAVING") { select.having = try orExpression() }
        if keyword("ORDER") {
            try expectKeyword("BY")
            var keys: [OrderKey] = []
            repeat {
                let column = try identifier("a column to order by")
                let descending = keyword("DESC")
                if !descending { _ = keyword("ASC") }
                keys.append(OrderKey(column, descending: descending))
            } while symbol(",")
            if keys.count == 1, keys[0].column.lowercased() == "time" {
                select.orderedByTime = true
                select.descending = keys[0].descending
            } else {
                select.orderBy = keys
            }
        }
        if keyword("LIMIT") {
            select.limit = try integer("the LIMIT")
            if keyword("OFFSET") { select.offset = try integer("the OFFSET") }
        }
        return select
    }

    /// A column or an aggregate (its alias is read by the caller, after any arithmetic).
    private mutating func selectItem() throws(SQLError) -> SelectItem {
        if symbol("*") { return .all }
        let namePosition = current.position
        let name = try identifier("a column, * or an aggregate")
        guard symbol("(") else { return .column(name, alias: nil) }
        let lower = name.lowercased()
        var aggregate: Aggregate
        if lower == "approx_percentile_cont" || lower == "percentile" {
            let column = try identifier("a column")
            try expectSymbol(",")
            guard case .number(let n) = current.kind, let p = Double(n) else {
                throw error("expected the percentile (a number)")
            }
            index += 1
            try expectSymbol(")")
            // approx_percentile_cont takes a fraction (0.95), percentile a percent (95).
            return .aggregate(.percentile(lower == "percentile" ? p : p * 100), column: column, alias: nil)
        }
        guard let known = Aggregate(name: lower) else {
            throw SQLError(
                "unknown function '\(name)' (count, sum, min, max, avg, first, last, median, stddev, spread, "
                    + "approx_percentile_cont, date_bin, time_window)", at: namePosition)
        }
        aggregate = known
        var column: String?
        if aggregate == .count && keyword("DISTINCT") {
            aggregate = .countDistinct
            column = try identifier("a column")
        } else if !symbol("*") {
            column = try identifier("a column")
            // CnosDB's first(time, v) / last(time, v): the value of v at the first (last) time.
            if (aggregate == .first || aggregate == .last) && column?.lowercased() == "time" && symbol(",") {
                column = try identifier("a column")
            }
        }
        try expectSymbol(")")
        return .aggregate(aggregate, column: column, alias: nil)
    }

    /// `(INTERVAL '1 minute', time[, origin])` → the interval in nanoseconds and the origin, if given
    /// (`TIMESTAMP '…'`, a string or an integer).
    private mutating func dateBinArguments() throws(SQLError) -> (Int64, Literal?) {
        try expectSymbol("(")
        try expectKeyword("INTERVAL")
        let position = current.position
        let text = try stringLiteral("the interval")
        guard let width = DurationLiteral.parse(text), width > 0 else {
            throw SQLError("'\(text)' is not an interval (e.g. '1 minute', '5m', '1h')", at: position)
        }
        try expectSymbol(",")
        let column = try identifier("time")
        guard column.lowercased() == "time" else { throw error("date_bin groups by time") }
        var origin: Literal?
        if symbol(",") {
            _ = keyword("TIMESTAMP")
            origin = try literal()
        }
        try expectSymbol(")")
        return (width, origin)
    }

    // MARK: - WHERE

    /// One condition of a WHERE or HAVING (`TokenParser.orExpression` joins them with AND and OR).
    mutating func conditionTerm() throws(SQLError) -> SQLExpression {
        if keyword("NOT") { return .not(try conditionTerm()) }
        if symbol("(") {
            let inner = try orExpression()
            try expectSymbol(")")
            return inner
        }
        var column = try identifier("a column")
        if symbol("(") {
            // HAVING avg(x) > 1: the column of that aggregate.
            let distinct = keyword("DISTINCT")
            let inner = symbol("*") ? nil : try identifier("a column")
            try expectSymbol(")")
            column = (distinct ? .countDistinct : Aggregate(name: column) ?? .count).columnName(inner)
        }
        if keyword("IS") {
            let negated = keyword("NOT")
            try expectKeyword("NULL")
            return .isNull(column: column, negated: negated)
        }
        let negated = keyword("NOT")
        if keyword("IN") {
            try expectSymbol("(")
            var values: [Literal] = []
            repeat { values.append(try literal()) } while symbol(",")
            try expectSymbol(")")
            return .inList(column: column, values: values, negated: negated)
        }
        if keyword("BETWEEN") {
            let low = try literal()
            try expectKeyword("AND")
            let high = try literal()
            let range = SQLExpression.and(
                .comparison(column: column, op: .greaterOrEqual, value: low),
                .comparison(column: column, op: .lessOrEqual, value: high))
            return negated ? .not(range) : range
        }
        if keyword("LIKE") {
            let pattern = try stringLiteral("a LIKE pattern")
            return .regex(column: column, pattern: Self.likePattern(pattern), matches: !negated)
        }
        if negated { throw error("expected IN, BETWEEN or LIKE after NOT") }
        let op: Comparison
        switch current.kind {
        case .symbol(let s) where Comparison(rawValue: s) != nil:
            op = Comparison(rawValue: s)!
            index += 1
        default:
            throw error(
                "expected a comparison (=, !=, <, <=, >, >=, IN, BETWEEN, LIKE, IS NULL) after '\(column)'")
        }
        return .comparison(column: column, op: op, value: try literal())
    }

    /// A LIKE pattern as an anchored regular expression: `%` any run, `_` one character, the rest literal.
    static func likePattern(_ like: String) -> String {
        var out = "^"
        for character in like {
            switch character {
            case "%": out += ".*"
            case "_": out += "."
            default:
                if "\\^$.|?*+()[]{}".contains(character) { out += "\\" }
                out.append(character)
            }
        }
        return out + "$"
    }

    private mutating func literal() throws(SQLError) -> Literal {
        if current.isKeyword("NOW") { return try nowExpression() }
        if keyword("TIMESTAMP") { return .string(try stringLiteral("a time")) }
        if current.isKeyword("CAST") {
            // CAST('…' AS TIMESTAMP): the string.
            index += 1
            try expectSymbol("(")
            let value = try literal()
            try expectKeyword("AS")
            _ = try identifier("a type")
            try expectSymbol(")")
            return value
        }
        var negative = false
        if symbol("-") { negative = true }
        switch current.kind {
        case .number(let n):
            index += 1
            if let i = Int64(n) { return .integer(negative ? -i : i) }
            if let d = Double(n) { return .float(negative ? -d : d) }
            throw SQLError("'\(n)' is not a number", at: tokens[index - 1].position)
        case .string(let s) where !negative:
            index += 1
            return .string(s)
        case .word(let w) where !negative && ["TRUE", "FALSE", "NULL"].contains(w.uppercased()):
            index += 1
            switch w.uppercased() {
            case "TRUE": return .boolean(true)
            case "FALSE": return .boolean(false)
            default: return .null
            }
        default:
            throw error("expected a value (number, 'string', true, false, now(), TIMESTAMP '…')")
        }
    }

    /// `now()` with intervals added or subtracted (`now() - INTERVAL '1 hour'`), in nanoseconds.
    private mutating func nowExpression() throws(SQLError) -> Literal {
        let position = current.position
        index += 1
        try expectSymbol("(")
        try expectSymbol(")")
        guard var total = now else { throw SQLError("now() is not available in this statement", at: position) }
        while case .symbol(let s) = current.kind, s == "+" || s == "-" {
            index += 1
            _ = keyword("INTERVAL")
            let at = current.position
            let text = try stringLiteral("an interval")
            guard let span = DurationLiteral.parse(text) else {
                throw SQLError("'\(text)' is not an interval (e.g. '1 hour', '5m')", at: at)
            }
            total = s == "+" ? total &+ span : total &- span
        }
        return .integer(total)
    }
}
