import SQL
import Testing

@Suite("SQL parser")
struct SQLParserTests {
    @Test func selectWithEverything() throws {
        let statement = try SQLParser.parse(
            "select date_bin(interval '1 minute', time) as t, host, avg(usage), count(*) FROM cpu "
                + "WHERE time >= '2024-01-01T00:00:00Z' AND (host = 'a' OR host != 'b') AND usage > -1.5 "
                + "GROUP BY date_bin(INTERVAL '1 minute', time), host ORDER BY time DESC LIMIT 10 OFFSET 2;")
        guard case .select(let select) = statement else {
            Issue.record("not a select")
            return
        }
        #expect(select.table == "cpu")
        #expect(select.timeBin == 60_000_000_000)
        #expect(select.groupTags == ["host"])
        #expect(select.descending)
        #expect(select.limit == 10 && select.offset == 2)
        #expect(
            select.items == [
                .timeBin(alias: "t"), .column("host", alias: nil), .aggregate(.avg, column: "usage", alias: nil),
                .aggregate(.count, column: nil, alias: nil),
            ])
        #expect(
            select.filter
                == .and(
                    .and(
                        .comparison(column: "time", op: .greaterOrEqual, value: .string("2024-01-01T00:00:00Z")),
                        .or(
                            .comparison(column: "host", op: .equal, value: .string("a")),
                            .comparison(column: "host", op: .notEqual, value: .string("b")))),
                    .comparison(column: "usage", op: .greater, value: .float(-1.5))))
    }

    @Test func ddlAndUsers() throws {
        #expect(
            try SQLParser.parse(
                "CREATE DATABASE IF NOT EXISTS d WITH TTL '30d' SHARD 4 VNODE_DURATION '1d' REPLICA 3 PRECISION 'ms'")
                == .createDatabase(
                    name: "d", ifNotExists: true,
                    options: [
                        DatabaseOption(name: "TTL", value: .string("30d")),
                        DatabaseOption(name: "SHARD", value: .integer(4)),
                        DatabaseOption(name: "VNODE_DURATION", value: .string("1d")),
                        DatabaseOption(name: "REPLICA", value: .integer(3)),
                        DatabaseOption(name: "PRECISION", value: .string("ms")),
                    ]))
        #expect(try SQLParser.parse("drop database d") == .dropDatabase(name: "d"))
        #expect(
            try SQLParser.parse("CREATE USER u WITH PASSWORD = 'p''w'")
                == .createUser(name: "u", password: "p'w", ifNotExists: false))
        #expect(
            try SQLParser.parse("GRANT write ON DATABASE d TO u")
                == .grant(privilege: "write", database: "d", user: "u"))
        #expect(try SQLParser.parse("REVOKE ALL ON DATABASE d FROM u") == .revoke(database: "d", user: "u"))
        #expect(try SQLParser.parse("SHOW REPLICAS") == .showReplicas)
        #expect(try SQLParser.parse("describe table \"my table\"") == .describeTable("my table"))
        #expect(
            try SQLParser.parse("ALTER DATABASE d SET TTL 'inf'")
                == .alterDatabase(name: "d", options: [DatabaseOption(name: "TTL", value: .string("inf"))]))
    }

    @Test func replicaCommands() throws {
        #expect(try SQLParser.parse("REPLICA ADD replica_id 101 node_id 4") == .replica(.add(replicaSet: 101, node: 4)))
        #expect(
            try SQLParser.parse("replica remove REPLICA_ID 101 NODE_ID 1")
                == .replica(.remove(replicaSet: 101, node: 1)))
        #expect(
            try SQLParser.parse("REPLICA PROMOTE replica_id 7 node_id 2") == .replica(.promote(replicaSet: 7, node: 2)))
        #expect(try SQLParser.parse("REPLICA DESTROY replica_id 7") == .replica(.destroy(replicaSet: 7)))
        #expect(
            try SQLParser.parse("REPLICA DESTORY replica_id 7") == .replica(.destroy(replicaSet: 7)),
            "CnosDB's spelling")
        #expect(try SQLParser.parse("MOVE VNODE 12 TO NODE 3") == .vnode(.move(vnode: 12, toNode: 3)))
        #expect(try SQLParser.parse("COPY VNODE 12 TO NODE 3") == .vnode(.copy(vnode: 12, toNode: 3)))
        #expect(try SQLParser.parse("DROP VNODE 12") == .vnode(.drop(vnode: 12)))
        #expect(try SQLParser.parse("SHOW VNODES") == .showVnodes)
        #expect(try SQLParser.parse("CHECKSUM GROUP 101") == .checksumGroup(replicaSet: 101))
        #expect(try SQLParser.parse("drain node 3") == .drainNode(3))
        #expect(throws: SQLError.self) { try SQLParser.parse("DRAIN 3") }
        #expect(throws: SQLError.self) { try SQLParser.parse("REPLICA ADD replica_id 101") }
        #expect(throws: SQLError.self) { try SQLParser.parse("REPLICA SPLIT replica_id 101") }
        #expect(throws: SQLError.self) { try SQLParser.parse("MOVE VNODE 12 TO 3") }
    }

    @Test(arguments: [
        ("SELEC * FROM t", 0, "expected SELECT"),
        ("SELECT * FROM", 13, "expected a table name"),
        ("SELECT * FROM t WHERE x", 23, "expected a comparison"),
        ("SELECT * FROM t LIMIT -1", 22, "non-negative"),
        ("SELECT 'open FROM t", 7, "unterminated"),
        ("CREATE DATABASE d WITH COLOR 'red'", 23, "unknown database option"),
    ])
    func errorsSayWhereAndWhat(text: String, position: Int, message: String) {
        do {
            _ = try SQLParser.parse(text)
            Issue.record("'\(text)' parsed")
        } catch {
            #expect(error.position == position, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test("CnosDB's Grafana plugin: DATE_BIN with an origin aliased as time, GROUP BY that alias or the call, a tag")
    func dateBinWithOrigin() throws {
        let bin = "DATE_BIN(INTERVAL '10 minutes', time, TIMESTAMP '1970-01-01T00:00:00Z')"
        for group in [bin, "time"] {
            guard case .select(let s) = try SQLParser.parse(
                "SELECT \(bin) AS time, avg(\"fa\") AS \"value\" FROM ma WHERE time >= 1 AND time <= 2 "
                    + "GROUP BY \(group), \"ta\" ORDER BY time ASC LIMIT 1000")
            else {
                Issue.record("not a SELECT")
                return
            }
            #expect(s.items == [.timeBin(alias: "time"), .aggregate(.avg, column: "fa", alias: "value")])
            #expect(s.timeBin == 600_000_000_000)
            #expect(s.timeBinOrigin == .string("1970-01-01T00:00:00Z"))
            #expect(s.groupTags == ["ta"])
            #expect(s.orderedByTime && !s.descending && s.limit == 1000)
        }
    }

    @Test("ORDER BY other columns keeps every key; ORDER BY time alone stays the time order")
    func orderBy() throws {
        guard case .select(let s) = try SQLParser.parse("SELECT station, avg(v) AS a FROM t GROUP BY station ORDER BY a DESC, station")
        else { return }
        #expect(s.orderBy == [OrderKey("a", descending: true), OrderKey("station", descending: false)])
        #expect(!s.orderedByTime)
    }

    @Test("INSERT INTO … VALUES: several rows, quoted and bare values, a row of the wrong width refused")
    func insert() throws {
        #expect(
            try SQLParser.parse("INSERT INTO air(time, station, visibility) VALUES ('2023-11-14 22:20:00', 'a', '1.5'), (5, 'b', 2)")
                == .insert(
                    Insert(
                        table: "air", columns: ["time", "station", "visibility"],
                        rows: [[.string("2023-11-14 22:20:00"), .string("a"), .string("1.5")], [.integer(5), .string("b"), .integer(2)]])))
        #expect(throws: SQLError.self) { try SQLParser.parse("INSERT INTO air(time, v) VALUES (1)") }
        #expect(throws: SQLError.self) { try SQLParser.parse("INSERT INTO air(time, v) SELECT * FROM x") }
    }

    @Test("WHERE: IN, NOT IN, BETWEEN, LIKE (as an anchored regex), IS [NOT] NULL, now() - INTERVAL, TIMESTAMP")
    func richConditions() throws {
        let now: Int64 = 1_700_000_000_000_000_000
        guard case .select(let s) = try SQLParser.parse(
            "SELECT * FROM `db`.t WHERE host IN ('a', 'b') AND dc NOT IN ('x') AND v BETWEEN 1 AND 2.5 "
                + "AND name LIKE 'we_b%.1' AND note IS NOT NULL AND time > now() - INTERVAL '1 hour' "
                + "AND time < TIMESTAMP '2024-01-01T00:00:00Z'", now: now)
        else { return }
        #expect(s.database == "db" && s.table == "t")
        var conjuncts: [SQLExpression] = []
        func flatten(_ e: SQLExpression) {
            if case .and(let a, let b) = e {
                flatten(a)
                flatten(b)
            } else {
                conjuncts.append(e)
            }
        }
        flatten(s.filter!)
        #expect(
            conjuncts == [
                .inList(column: "host", values: [.string("a"), .string("b")], negated: false),
                .inList(column: "dc", values: [.string("x")], negated: true),
                .comparison(column: "v", op: .greaterOrEqual, value: .integer(1)),
                .comparison(column: "v", op: .lessOrEqual, value: .float(2.5)),
                .regex(column: "name", pattern: "^we.b.*\\.1$", matches: true),
                .isNull(column: "note", negated: true),
                .comparison(column: "time", op: .greater, value: .integer(now - 3_600_000_000_000)),
                .comparison(column: "time", op: .less, value: .string("2024-01-01T00:00:00Z")),
            ])
        #expect(throws: SQLError.self) { try SQLParser.parse("SELECT * FROM t WHERE time > now()") }
    }

    @Test("aggregates CnosDB users type: count(DISTINCT), first(time, v), approx_percentile_cont, arithmetic, HAVING")
    func richSelect() throws {
        guard case .select(let s) = try SQLParser.parse(
            "SELECT count(DISTINCT host), first(time, v), approx_percentile_cont(v, 0.95) AS p95, avg(v) / 1024 AS kb, "
                + "time_window(time, '10m') AS w FROM t GROUP BY w HAVING count(DISTINCT host) > 1 AND p95 < 3")
        else { return }
        #expect(
            s.items == [
                .aggregate(.countDistinct, column: "host", alias: nil), .aggregate(.first, column: "v", alias: nil),
                .aggregate(.percentile(95), column: "v", alias: "p95"), .aggregate(.avg, column: "v", alias: "kb"),
                .timeBin(alias: "w"),
            ])
        #expect(s.math == [[], [], [], [MathStep(.divide, 1024)], []])
        #expect(s.timeBin == 600_000_000_000)
        #expect(
            s.having
                == .and(
                    .comparison(column: "count(DISTINCT host)", op: .greater, value: .integer(1)),
                    .comparison(column: "p95", op: .less, value: .integer(3))))
    }

    @Test("SELECT 1, SHOW SERIES, SHOW TAG VALUES, DESCRIBE DATABASE, EXPLAIN")
    func otherStatements() throws {
        #expect(try SQLParser.parse("SELECT 1") == .selectValues(columns: ["1"], values: [.integer(1)]))
        #expect(try SQLParser.parse("SHOW SERIES FROM air") == .showSeries(table: "air", filter: nil))
        #expect(
            try SQLParser.parse("SHOW TAG VALUES FROM air WITH KEY = station WHERE x = 'y'")
                == .showTagValues(table: "air", key: "station", filter: .comparison(column: "x", op: .equal, value: .string("y"))))
        #expect(try SQLParser.parse("DESCRIBE DATABASE public") == .describeDatabase("public"))
        #expect(try SQLParser.parse("EXPLAIN SELECT 1") == .explain(.selectValues(columns: ["1"], values: [.integer(1)])))
    }

    @Test("time_window_gapfill with locf(…) and interpolate(…) around aggregates; locf without it is refused")
    func gapfill() throws {
        guard case .select(let s) = try SQLParser.parse(
            "SELECT time_window_gapfill(time, interval '1 minute') AS t, locf(avg(v)), interpolate(max(v)) AS m, count(*) "
                + "FROM x GROUP BY t")
        else { return }
        #expect(s.timeBin == 60_000_000_000)
        #expect(s.gapfill == [.null, .previous, .linear, .null])
        #expect(s.items[2] == .aggregate(.max, column: "v", alias: "m"))
        #expect(throws: SQLError.self) { try SQLParser.parse("SELECT locf(avg(v)) FROM x") }
        #expect(throws: SQLError.self) { try SQLParser.parse("SELECT date_bin(INTERVAL '1 minute', time) AS t, v FROM x") }
    }

    @Test func durations() {
        #expect(DurationLiteral.parse("1 minute") == 60_000_000_000)
        #expect(DurationLiteral.parse("2 hours") == 7_200_000_000_000)
        #expect(DurationLiteral.parse("1y") == 31_557_600_000_000_000)
        #expect(DurationLiteral.parse("500ms") == 500_000_000)
        #expect(DurationLiteral.parse("abc") == nil)
    }
}
