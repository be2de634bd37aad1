/// Parses InfluxQL (the subset in docs/influxql.md) into statements. Several statements are separated by `;`. Time
/// expressions (`now() - 1h`, `1700000000000ms`) are worked out against `now` (nanoseconds since the epoch), so the
/// plans hold plain times. Errors name the character where parsing stopped and what was expected there.
public struct InfluxQLParser: TokenParser {
    var tokens: [Token]
    var index = 0
    private let now: Int64

    public static func parse(_ text: String, now: Int64) throws(SQLError) -> [InfluxStatement] {
        var parser = InfluxQLParser(tokens: try tokenizeInfluxQL(text), now: now)
        var statements: [InfluxStatement] = []
        while true {
            while parser.symbol(";") {}
            if case .end = parser.current.kind { break }
            statements.append(try parser.statement())
            guard parser.symbol(";") || parser.current.kind == .end else {
                throw parser.error("unexpected text after the statement")
            }
        }
        guard !statements.isEmpty else { throw SQLError("empty query", at: 0) }
        return statements
    }

    private init(tokens: [Token], now: Int64) {
        self.tokens = tokens
        self.now = now
    }

    /// Skips a `::field` / `::tag` type hint.
    private mutating func skipTypeHint() throws(SQLError) {
        if symbol("::") { _ = try identifier("field or tag after '::'") }
    }

    // MARK: - Statements

    private mutating func statement() throws(SQLError) -> InfluxStatement {
        if keyword("SELECT") { return .select(try select()) }
        if keyword("SHOW") { return try show() }
        if keyword("CREATE") {
            if keyword("DATABASE") {
                let name = try identifier("a database name")
                if current.isKeyword("WITH") { skipToStatementEnd() }
                return .createDatabase(name)
            }
            return unsupported("CREATE " + ((try? identifier("")) ?? ""))
        }
        if keyword("DROP") {
            if keyword("DATABASE") { return .dropDatabase(try identifier("a database name")) }
            if keyword("MEASUREMENT") { return .delete(from: try identifier("a measurement name"), filter: nil) }
            if current.isKeyword("SERIES") && next.isKeyword("FROM") {
                _ = keyword("SERIES")
                return try deleteFrom()
            }
            return unsupported("DROP " + ((try? identifier("")) ?? ""))
        }
        if current.isKeyword("DELETE") && next.isKeyword("FROM") {
            _ = keyword("DELETE")
            return try deleteFrom()
        }
        for word in ["DELETE", "ALTER", "GRANT", "REVOKE", "KILL", "SET"] where keyword(word) {
            return unsupported(word)
        }
        throw error("expected SELECT, SHOW, CREATE DATABASE or DROP DATABASE")
    }

    /// `FROM m [WHERE …]` after DELETE or DROP SERIES.
    private mutating func deleteFrom() throws(SQLError) -> InfluxStatement {
        try expectKeyword("FROM")
        let measurement = try identifier("a measurement name")
        return .delete(from: measurement, filter: keyword("WHERE") ? try orExpression() : nil)
    }

    private mutating func unsupported(_ what: String) -> InfluxStatement {
        skipToStatementEnd()
        return .unsupported(String(what.uppercased().split(separator: " ").joined(separator: " ")))
    }

    private mutating func skipToStatementEnd() {
        while true {
            switch current.kind {
            case .end, .symbol(";"): return
            default: index += 1
            }
        }
    }

    private mutating func show() throws(SQLError) -> InfluxStatement {
        if keyword("DATABASES") { return .showDatabases }
        if keyword("USERS") { return .showUsers }
        if keyword("RETENTION") {
            try expectKeyword("POLICIES")
            return .showRetentionPolicies(on: try on())
        }
        if keyword("MEASUREMENTS") {
            let database = try on()
            var matching: NameMatch?
            if keyword("WITH") {
                try expectKeyword("MEASUREMENT")
                matching = try nameMatch(allowList: false)
            }
            let filter = try showWhere()
            let (limit, offset) = try limitOffset()
            return .showMeasurements(on: database, matching: matching, filter: filter, limit: limit, offset: offset)
        }
        if keyword("TAG") {
            if keyword("KEYS") {
                let database = try on()
                let from = try showFrom()
                try skipWhere()
                _ = try limitOffset()
                return .showTagKeys(on: database, from: from)
            }
            try expectKeyword("VALUES")
            let database = try on()
            let from = try showFrom()
            try expectKeyword("WITH")
            try expectKeyword("KEY")
            let keys = try nameMatch(allowList: true)
            let filter = try showWhere()
            _ = try limitOffset()
            return .showTagValues(on: database, from: from, keys: keys, filter: filter)
        }
        if keyword("FIELD") {
            try expectKeyword("KEYS")
            let database = try on()
            let from = try showFrom()
            _ = try limitOffset()
            return .showFieldKeys(on: database, from: from)
        }
        if keyword("SERIES") {
            let database = try on()
            let from = try showFrom()
            let filter = try showWhere()
            _ = try limitOffset()
            return .showSeries(on: database, from: from, filter: filter)
        }
        return unsupported("SHOW " + ((try? identifier("")) ?? ""))
    }

    private mutating func on() throws(SQLError) -> String? {
        guard keyword("ON") else { return nil }
        return try identifier("a database name after ON")
    }

    private mutating func showFrom() throws(SQLError) -> String? {
        guard keyword("FROM") else { return nil }
        return try source().measurement
    }

    /// `= 'name'`, `=~ /re/`, `IN ('a', 'b')` (names may be quoted either way).
    private mutating func nameMatch(allowList: Bool) throws(SQLError) -> NameMatch {
        if symbol("=~") {
            guard case .regex(let pattern) = current.kind else { throw error("expected /regex/ after =~") }
            index += 1
            return .regex(pattern)
        }
        if symbol("=") { return .equal(try name()) }
        if allowList && keyword("IN") {
            try expectSymbol("(")
            var names: [String] = []
            repeat { names.append(try name()) } while symbol(",")
            try expectSymbol(")")
            return .oneOf(names)
        }
        throw error(allowList ? "expected =, =~ or IN" : "expected = or =~")
    }

    private mutating func name() throws(SQLError) -> String {
        if case .string(let s) = current.kind {
            index += 1
            return s
        }
        return try identifier("a name")
    }

    /// A WHERE on SHOW TAG KEYS is parsed and not applied (docs/influxql.md).
    private mutating func skipWhere() throws(SQLError) {
        if keyword("WHERE") { _ = try orExpression() }
    }

    private mutating func showWhere() throws(SQLError) -> SQLExpression? {
        keyword("WHERE") ? try orExpression() : nil
    }

    private mutating func limitOffset() throws(SQLError) -> (Int?, Int) {
        var limit: Int?
        var offset = 0
        if keyword("LIMIT") { limit = try integer("the LIMIT") }
        if keyword("OFFSET") { offset = try integer("the OFFSET") }
        return (limit, offset)
    }

    /// `m`, `"rp"."m"`, `"db"."rp"."m"`, `"db".."m"`: the database (if named) and the measurement.
    private mutating func source() throws(SQLError) -> (database: String?, measurement: String) {
        if case .regex = current.kind { throw error("a regular expression in FROM is not supported") }
        var parts = [try identifier("a measurement")]
        while symbol(".") {
            if case .symbol(".") = current.kind {
                parts.append("")
                continue
            }
            parts.append(try identifier("a measurement"))
        }
        guard parts.count <= 3 else { throw error("a source has at most three parts: db.rp.measurement") }
        return (parts.count == 3 ? parts[0] : nil, parts[parts.count - 1])
    }

    // MARK: - SELECT

    private mutating func select() throws(SQLError) -> InfluxSelect {
        var items: [SelectItem] = []
        var math: [[MathStep]] = []
        var names: [String: Int] = [:]
        repeat {
            var item = try selectItem()
            math.append(try mathSteps())
            let alias = try alias()
            switch item {
            case .aggregate(let fn, let column, _):
                // Named by the function (`mean`), as InfluxDB does; the second unaliased one of a name is
                // `mean_1`.
                let base = fn == .avg ? "mean" : fn.name
                if let alias {
                    item = .aggregate(fn, column: column, alias: alias)
                } else {
                    let seen = names[base, default: 0]
                    names[base] = seen + 1
                    item = .aggregate(fn, column: column, alias: seen == 0 ? base : "\(base)_\(seen)")
                }
            case .column(let name, _): item = .column(name, alias: alias)
            default: break
            }
            items.append(item)
        } while symbol(",")
        try expectKeyword("FROM")
        let (database, measurement) = try source()
        var select = InfluxSelect(plan: Select(items: items, table: measurement))
        select.math = math
        select.database = database
        if keyword("WHERE") { select.plan.filter = try orExpression() }
        if keyword("GROUP") {
            try expectKeyword("BY")
            repeat {
                if symbol("*") {
                    select.groupByAllTags = true
                } else if current.isKeyword("TIME"), case .symbol("(") = tokens[index + 1].kind {
                    index += 2
                    guard case .duration(let width) = current.kind, width > 0 else {
                        throw error("expected a duration in time(…), e.g. time(1m)")
                    }
                    index += 1
                    if symbol(",") {
                        throw SQLError(
                            "an offset in GROUP BY time(…) is not supported", at: tokens[index - 1].position)
                    }
                    try expectSymbol(")")
                    select.plan.timeBin = width
                } else {
                    select.plan.groupTags.append(try identifier("a tag, * or time(…) to group by"))
                    try skipTypeHint()
                }
            } while symbol(",")
        }
        if keyword("FILL") { select.fill = try fill() }
        if keyword("ORDER") {
            try expectKeyword("BY")
            let column = try identifier("time")
            guard column.lowercased() == "time" else { throw error("only ORDER BY time is supported") }
            select.plan.orderedByTime = true
            if keyword("DESC") { select.plan.descending = true } else { _ = keyword("ASC") }
        }
        while true {
            if keyword("LIMIT") {
                select.limit = try integer("the LIMIT")
            } else if keyword("OFFSET") {
                select.offset = try integer("the OFFSET")
            } else if keyword("SLIMIT") {
                select.seriesLimit = try integer("the SLIMIT")
            } else if keyword("SOFFSET") {
                select.seriesOffset = try integer("the SOFFSET")
            } else if current.isKeyword("TZ") {
                throw error("tz(…) is not supported: times are UTC")
            } else {
                break
            }
        }
        return select
    }

    private mutating func fill() throws(SQLError) -> Fill {
        try expectSymbol("(")
        let result: Fill
        if keyword("NULL") {
            result = .null
        } else if keyword("NONE") {
            result = .none
        } else if keyword("PREVIOUS") {
            result = .previous
        } else if keyword("LINEAR") {
            result = .linear
        } else {
            let negative = symbol("-")
            guard case .number(let n) = current.kind, let value = Double(n) else {
                throw error("expected null, none, previous, linear or a number in fill(…)")
            }
            index += 1
            result = .value(negative ? -value : value)
        }
        try expectSymbol(")")
        return result
    }

    private mutating func selectItem() throws(SQLError) -> SelectItem {
        if symbol("*") { return .all }
        let namePosition = current.position
        let name = try identifier("a field, a tag, * or a function")
        if case .symbol("(") = current.kind {
            index += 1
            let lower = name.lowercased()
            if symbol("*") { throw error("\(lower)(*) is not supported: name the field") }
            let column = try identifier("a field")
            try skipTypeHint()
            var fn: Aggregate
            if lower == "percentile" {
                try expectSymbol(",")
                guard case .number(let n) = current.kind, let p = Double(n) else {
                    throw error("expected the percentile, a number from 0 to 100")
                }
                index += 1
                fn = .percentile(p)
            } else if let known = Aggregate(name: lower) {
                fn = known
            } else {
                throw SQLError(
                    "unknown function '\(name)' (mean, median, count, sum, min, max, first, last, spread, stddev, "
                        + "percentile)", at: namePosition)
            }
            try expectSymbol(")")
            return .aggregate(fn, column: column, alias: nil)
        }
        try skipTypeHint()
        return .column(name, alias: nil)
    }

    // MARK: - WHERE

    /// One condition of a WHERE (`TokenParser.orExpression` joins them with AND and OR).
    mutating func conditionTerm() throws(SQLError) -> SQLExpression {
        if symbol("(") {
            let inner = try orExpression()
            try expectSymbol(")")
            return inner
        }
        let column = try identifier("a tag, a field or time")
        try skipTypeHint()
        if symbol("=~") || symbol("!~") {
            let matches = tokens[index - 1].kind == .symbol("=~")
            guard case .regex(let pattern) = current.kind else { throw error("expected /regex/") }
            index += 1
            return .regex(column: column, pattern: pattern, matches: matches)
        }
        let op: Comparison
        switch current.kind {
        case .symbol(let s) where Comparison(rawValue: s) != nil:
            op = Comparison(rawValue: s)!
            index += 1
        default: throw error("expected a comparison (=, !=, <, <=, >, >=, =~, !~) after '\(column)'")
        }
        if column.lowercased() == "time" { return .comparison(column: column, op: op, value: try timeExpression()) }
        return .comparison(column: column, op: op, value: try literal())
    }

    /// `now()`, durations and integers (nanoseconds) added and subtracted, or one RFC 3339 string.
    private mutating func timeExpression() throws(SQLError) -> Literal {
        if case .string(let s) = current.kind {
            index += 1
            guard !(current.kind == .symbol("+") || current.kind == .symbol("-")) else {
                throw error("arithmetic on a time string is not supported; use now() or an epoch with a unit")
            }
            return .string(s)
        }
        var total = try timeTerm()
        while true {
            if symbol("+") {
                total = total &+ (try timeTerm())
            } else if symbol("-") {
                total = total &- (try timeTerm())
            } else {
                break
            }
        }
        return .integer(total)
    }

    private mutating func timeTerm() throws(SQLError) -> Int64 {
        switch current.kind {
        case .duration(let ns):
            index += 1
            return ns
        case .number(let n):
            guard let value = Int64(n) else { throw error("expected an integer time in nanoseconds") }
            index += 1
            return value
        case .word(let w) where w.lowercased() == "now":
            index += 1
            try expectSymbol("(")
            try expectSymbol(")")
            return now
        default:
            throw error("expected now(), a duration (1h) or an epoch time (1700000000000ms)")
        }
    }

    private mutating func literal() throws(SQLError) -> Literal {
        let negative = symbol("-")
        switch current.kind {
        case .number(let n):
            index += 1
            if let i = Int64(n) { return .integer(negative ? -i : i) }
            if let d = Double(n) { return .float(negative ? -d : d) }
            throw SQLError("'\(n)' is not a number", at: tokens[index - 1].position)
        case .string(let s) where !negative:
            index += 1
            return .string(s)
        case .word(let w) where !negative && ["TRUE", "FALSE"].contains(w.uppercased()):
            index += 1
            return .boolean(w.uppercased() == "TRUE")
        default:
            throw error("expected a value (number, 'string', true, false)")
        }
    }
}
