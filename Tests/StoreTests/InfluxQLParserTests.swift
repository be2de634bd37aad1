import SQL
import Testing

/// The InfluxQL front end: what the `influx` CLI, the InfluxDB client libraries and Grafana's InfluxQL data source
/// send parses into the plans the SQL executor runs, time expressions worked out, and bad text is refused with
/// the character where it went wrong.
@Suite("InfluxQL parser")
struct InfluxQLParserTests {
    let now: Int64 = 1_700_000_000_000_000_000

    private func select(_ text: String) throws -> InfluxSelect {
        let statements = try InfluxQLParser.parse(text, now: now)
        guard statements.count == 1, case .select(let select) = statements[0] else {
            Issue.record("not one SELECT: \(statements)")
            throw SQLError("not one SELECT", at: 0)
        }
        return select
    }

    @Test("Grafana's default query: quoted names, db.rp.measurement, epoch-ms time filter, GROUP BY time and a tag, fill")
    func grafanaQuery() throws {
        let s = try select(
            #"SELECT mean("value") FROM "telegraf"."autogen"."cpu" WHERE ("host" =~ /^(a|b)$/) AND "#
                + #"time >= 1700000000000ms and time <= 1700003600000ms GROUP BY time(10s), "host" fill(null)"#)
        #expect(s.database == "telegraf")
        #expect(s.plan.table == "cpu")
        #expect(s.plan.items == [.aggregate(.avg, column: "value", alias: "mean")])
        #expect(s.plan.timeBin == 10_000_000_000)
        #expect(s.plan.groupTags == ["host"])
        #expect(s.fill == .null)
        #expect(
            s.plan.filter
                == .and(
                    .and(
                        .regex(column: "host", pattern: "^(a|b)$", matches: true),
                        .comparison(column: "time", op: .greaterOrEqual, value: .integer(1_700_000_000_000_000_000))),
                    .comparison(column: "time", op: .lessOrEqual, value: .integer(1_700_003_600_000_000_000))))
    }

    @Test("now() and durations add up; an RFC 3339 string stays a string; a bare integer is nanoseconds")
    func timeExpressions() throws {
        let relative = try select("SELECT v FROM m WHERE time > now() - 1h + 30s")
        #expect(relative.plan.filter == .comparison(column: "time", op: .greater, value: .integer(now - 3_570_000_000_000)))
        let text = try select("SELECT v FROM m WHERE time >= '2024-01-02T03:04:05Z'")
        #expect(text.plan.filter == .comparison(column: "time", op: .greaterOrEqual, value: .string("2024-01-02T03:04:05Z")))
        let integer = try select("SELECT v FROM m WHERE time < 1700000000000000000 AND host !~ /x/")
        #expect(
            integer.plan.filter
                == .and(
                    .comparison(column: "time", op: .less, value: .integer(1_700_000_000_000_000_000)),
                    .regex(column: "host", pattern: "x", matches: false)))
    }

    @Test("aggregates are named by function, a repeated name gets _1, AS overrides, percentile takes its argument")
    func aggregateNames() throws {
        let s = try select("SELECT mean(a), mean(b), max(a) AS top, percentile(a, 95), spread(b) FROM m")
        #expect(
            s.plan.items == [
                .aggregate(.avg, column: "a", alias: "mean"), .aggregate(.avg, column: "b", alias: "mean_1"),
                .aggregate(.max, column: "a", alias: "top"), .aggregate(.percentile(95), column: "a", alias: "percentile"),
                .aggregate(.spread, column: "b", alias: "spread"),
            ])
    }

    @Test("only unaliased aggregates count towards the _1 suffix")
    func aliasedNames() throws {
        let s = try select("SELECT mean(a) AS x, mean(b), mean(c) FROM m")
        #expect(
            s.plan.items == [
                .aggregate(.avg, column: "a", alias: "x"), .aggregate(.avg, column: "b", alias: "mean"),
                .aggregate(.avg, column: "c", alias: "mean_1"),
            ])
    }

    @Test("Grafana's math part and type hints: arithmetic kept per item, ::field and ::tag skipped")
    func mathAndHints() throws {
        let s = try select(#"SELECT mean("value") /100 AS "text", "v"::field * 8 + 1, "host"::tag FROM m"#)
        #expect(s.plan.items == [.aggregate(.avg, column: "value", alias: "text"), .column("v", alias: nil), .column("host", alias: nil)])
        #expect(s.math == [[MathStep(.divide, 100)], [MathStep(.multiply, 8), MathStep(.add, 1)], []])
    }

    @Test("ORDER BY time DESC, LIMIT/OFFSET per series and SLIMIT/SOFFSET, GROUP BY *, every fill")
    func limitsAndFill() throws {
        let s = try select("SELECT * FROM m GROUP BY * ORDER BY time DESC LIMIT 5 OFFSET 1 SLIMIT 2 SOFFSET 3")
        #expect(s.groupByAllTags)
        #expect(s.plan.descending && s.plan.orderedByTime)
        #expect((s.limit, s.offset, s.seriesLimit, s.seriesOffset) == (5, 1, 2, 3))
        #expect(s.plan.limit == nil)
        for (text, fill) in [("none", Fill.none), ("0", .value(0)), ("-1.5", .value(-1.5)), ("previous", .previous), ("linear", .linear)] {
            #expect(try select("SELECT max(v) FROM m GROUP BY time(1m) fill(\(text))").fill == fill)
        }
    }

    @Test("the SHOW statements the clients send, several statements in one query")
    func showStatements() throws {
        let statements = try InfluxQLParser.parse(
            #"SHOW DATABASES; SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)cp/ LIMIT 100; SHOW TAG KEYS FROM "cpu"; "#
                + #"SHOW TAG VALUES FROM "cpu" WITH KEY = "host" WHERE "dc" = 'x'; SHOW FIELD KEYS ON db FROM cpu; "#
                + #"SHOW SERIES; SHOW RETENTION POLICIES on "telegraf"; CREATE DATABASE "t" WITH DURATION 1d; DROP DATABASE t;"#,
            now: now)
        #expect(
            statements == [
                .showDatabases,
                .showMeasurements(on: nil, matching: .regex("(?i)cp"), filter: nil, limit: 100, offset: 0),
                .showTagKeys(on: nil, from: "cpu"),
                .showTagValues(
                    on: nil, from: "cpu", keys: .equal("host"),
                    filter: .comparison(column: "dc", op: .equal, value: .string("x"))),
                .showFieldKeys(on: "db", from: "cpu"), .showSeries(on: nil, from: nil, filter: nil),
                .showRetentionPolicies(on: "telegraf"), .createDatabase("t"), .dropDatabase("t"),
            ])
        #expect(try InfluxQLParser.parse("SHOW TAG VALUES WITH KEY IN (\"a\", \"b\")", now: now) == [.showTagValues(on: nil, from: nil, keys: .oneOf(["a", "b"]), filter: nil)])
        #expect(try InfluxQLParser.parse("DELETE WHERE time < 5", now: now) == [.unsupported("DELETE")])
    }

    @Test("escapes in strings and identifiers, and a regex with an escaped slash")
    func escapes() throws {
        let s = try select(#"SELECT "a\"b" FROM m WHERE name = 'Let\'s' AND path =~ /a\/b/"#)
        #expect(s.plan.items == [.column("a\"b", alias: nil)])
        #expect(
            s.plan.filter
                == .and(
                    .comparison(column: "name", op: .equal, value: .string("Let's")),
                    .regex(column: "path", pattern: "a/b", matches: true)))
    }

    @Test("bad text is refused with the character where parsing stopped", arguments: [
        ("SELEC v FROM m", 1), ("SELECT v FROM m WHERE time > now() - 1x", 38), ("SELECT v FROM m GROUP BY time(1m, 10s)", 33),
        ("SELECT v FROM m WHERE host =~ /open", 31), ("SELECT bogus(v) FROM m", 8), ("", 1), ("SELECT v FROM m LIMIT -1", 23),
    ])
    func errors(text: String, character: Int) {
        #expect(throws: SQLError.self) { try InfluxQLParser.parse(text, now: now) }
        do {
            _ = try InfluxQLParser.parse(text, now: now)
        } catch {
            #expect(error.position + 1 == character, "\(text): \(error)")
        }
    }
}
