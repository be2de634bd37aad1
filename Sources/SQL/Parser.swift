/// Parses one statement of Flotilla's SQL subset (CnosDB syntax, docs/store.md). Keywords are case-insensitive;
/// a trailing `;` is allowed. Errors name the character where parsing stopped and what was expected there.
public struct SQLParser {
    private var tokens: [Token]
    private var index = 0

    public static func parse(_ text: String) throws(SQLError) -> Statement {
        var parser = SQLParser(tokens: try tokenize(text))
        let statement = try parser.statement()
        if case .symbol(";") = parser.current.kind { parser.index += 1 }
        guard case .end = parser.current.kind else { throw parser.error("unexpected text after the statement") }
        return statement
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var current: Token { tokens[index] }

    private func error(_ message: String) -> SQLError { SQLError(message, at: current.position) }

    private mutating func keyword(_ word: String) -> Bool {
        guard current.isKeyword(word) else { return false }
        index += 1
        return true
    }

    private mutating func expectKeyword(_ word: String) throws(SQLError) {
        guard keyword(word) else { throw error("expected \(word)") }
    }

    private mutating func symbol(_ s: String) -> Bool {
        guard case .symbol(s) = current.kind else { return false }
        index += 1
        return true
    }

    private mutating func expectSymbol(_ s: String) throws(SQLError) {
        guard symbol(s) else { throw error("expected '\(s)'") }
    }

    private mutating func identifier(_ what: String) throws(SQLError) -> String {
        switch current.kind {
        case .word(let w), .quotedIdentifier(let w):
            index += 1
            return w
        default: throw error("expected \(what)")
        }
    }

    private mutating func stringLiteral(_ what: String) throws(SQLError) -> String {
        guard case .string(let s) = current.kind else { throw error("expected \(what) as a 'quoted string'") }
        index += 1
        return s
    }

    private mutating func integer(_ what: String) throws(SQLError) -> Int {
        guard case .number(let n) = current.kind, let value = Int(n), value >= 0 else {
            throw error("expected \(what) (a non-negative integer)")
        }
        index += 1
        return value
    }

    private mutating func ifNotExists() throws(SQLError) -> Bool {
        guard keyword("IF") else { return false }
        try expectKeyword("NOT")
        try expectKeyword("EXISTS")
        return true
    }

    // MARK: - Statements

    private mutating func statement() throws(SQLError) -> Statement {
        if keyword("SELECT") { return .select(try select()) }
        if keyword("SHOW") {
            if keyword("TABLES") { return .showTables }
            if keyword("DATABASES") { return .showDatabases }
            if keyword("TENANTS") { return .showTenants }
            if keyword("REPLICAS") { return .showReplicas }
            if keyword("DATANODES") { return .showDataNodes }
            if keyword("VNODES") { return .showVnodes }
            throw error("expected TABLES, DATABASES, TENANTS, REPLICAS, DATANODES or VNODES after SHOW")
        }
        if keyword("DESCRIBE") || keyword("DESC") {
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

    private mutating func select() throws(SQLError) -> Select {
        var items: [SelectItem] = []
        /// The `date_bin(…)` of the select list, if any, and its alias: GROUP BY may name it by its alias.
        var selectedBin: (width: Int64, origin: Literal?)?
        repeat {
            if current.isKeyword("DATE_BIN") {
                index += 1
                selectedBin = try dateBinArguments()
                items.append(.timeBin(alias: try alias()))
            } else {
                items.append(try selectItem())
            }
        } while symbol(",")
        try expectKeyword("FROM")
        var select = Select(items: items, table: try identifier("a table name"))
        if keyword("WHERE") { select.filter = try orExpression() }
        if keyword("GROUP") {
            try expectKeyword("BY")
            let binAlias = items.lazy.compactMap { item -> String? in
                if case .timeBin(let alias) = item { return alias ?? "time" } else { return nil }
            }.first
            repeat {
                if current.isKeyword("DATE_BIN") {
                    index += 1
                    (select.timeBin, select.timeBinOrigin) = try dateBinArguments()
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

    private mutating func selectItem() throws(SQLError) -> SelectItem {
        if symbol("*") { return .all }
        let name = try identifier("a column, * or an aggregate")
        if let aggregate = Aggregate(name: name), symbol("(") {
            var column: String?
            if !symbol("*") { column = try identifier("a column") }
            try expectSymbol(")")
            return .aggregate(aggregate, column: column, alias: try alias())
        }
        return .column(name, alias: try alias())
    }

    private mutating func alias() throws(SQLError) -> String? {
        guard keyword("AS") else { return nil }
        return try identifier("an alias")
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

    private mutating func orExpression() throws(SQLError) -> SQLExpression {
        var left = try andExpression()
        while keyword("OR") { left = .or(left, try andExpression()) }
        return left
    }

    private mutating func andExpression() throws(SQLError) -> SQLExpression {
        var left = try unary()
        while keyword("AND") { left = .and(left, try unary()) }
        return left
    }

    private mutating func unary() throws(SQLError) -> SQLExpression {
        if keyword("NOT") { return .not(try unary()) }
        if symbol("(") {
            let inner = try orExpression()
            try expectSymbol(")")
            return inner
        }
        let column = try identifier("a column")
        let op: Comparison
        switch current.kind {
        case .symbol(let s) where Comparison(rawValue: s) != nil:
            op = Comparison(rawValue: s)!
            index += 1
        default: throw error("expected a comparison (=, !=, <, <=, >, >=) after '\(column)'")
        }
        return .comparison(column: column, op: op, value: try literal())
    }

    private mutating func literal() throws(SQLError) -> Literal {
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
            throw error("expected a value (number, 'string', true, false)")
        }
    }
}
