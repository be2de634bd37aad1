import Foundation
import Testing

/// The SQL a time-series user types and CnosDB's tools generate, on a real node: each statement's JSON answer is
/// compared whole (columns in order, types, values).
extension EndToEnd {
    @Suite("SQL dialect on a real process", .serialized)
    struct SQLDialectEndToEndTests {
        static let cases: [(String, String)] = [
            ("SELECT 1", #"[{"1":1}]"#),
            (
                "SELECT host, usage * 10 AS u FROM `dialect`.cpu WHERE host IN ('a', 'b') AND usage BETWEEN 1 AND 3 "
                    + "ORDER BY u DESC",
                #"[{"host":"b","u":25.0},{"host":"a","u":15.0}]"#
            ),
            (
                "SELECT time, host FROM cpu WHERE host LIKE 'a%' AND note IS NULL",
                #"[{"time":"2023-11-14T22:13:20.000000000","host":"a"}]"#
            ),
            (
                "SELECT host, count(*), count(DISTINCT dc) AS dcs FROM cpu GROUP BY host HAVING count(*) > 1",
                #"[{"host":"a","count(*)":2,"dcs":1}]"#
            ),
            (
                "SELECT last(time, usage), first(time, usage), approx_percentile_cont(usage, 0.5) AS p50, "
                    + "median(usage), stddev(usage), spread(usage) FROM cpu",
                #"[{"last(usage)":3.5,"first(usage)":1.5,"p50":2.5,"median(usage)":2.5,"stddev(usage)":1.0,"spread(usage)":2.0}]"#
            ),
            (
                "SELECT time_window(time, '2m') AS w, avg(usage) FROM cpu GROUP BY w ORDER BY w DESC",
                #"[{"w":"2023-11-14T22:14:00.000000000","avg(usage)":3.5},{"w":"2023-11-14T22:12:00.000000000","avg(usage)":2.0}]"#
            ),
            (
                "SELECT date_bin(INTERVAL '2 minutes', time, TIMESTAMP '1970-01-01T00:01:00Z') AS time, max(usage) "
                    + "FROM cpu GROUP BY time",
                #"[{"time":"2023-11-14T22:13:00.000000000","max(usage)":2.5},{"time":"2023-11-14T22:15:00.000000000","max(usage)":3.5}]"#
            ),
            ("SELECT count(*) FROM cpu WHERE time > now() - INTERVAL '1 hour'", #"[{"count(*)":0}]"#),
            ("SHOW SERIES FROM cpu", #"[{"key":"cpu,dc=x,host=a"},{"key":"cpu,dc=y,host=b"}]"#),
            ("SHOW TAG VALUES FROM cpu WITH KEY = host WHERE dc = 'y'", #"[{"key":"host","value":"b"}]"#),
            (
                "SELECT time_window_gapfill(time, INTERVAL '1 minute') AS t, host, locf(max(usage)) AS l, "
                    + "interpolate(max(usage)) AS i, max(usage) AS m FROM cpu "
                    + "WHERE time >= 1700000000000000000 AND time < 1700000180000000000 AND host = 'a' GROUP BY t, host",
                #"[{"t":"2023-11-14T22:13:00.000000000","host":"a","l":1.5,"i":1.5,"m":1.5},"#
                    + #"{"t":"2023-11-14T22:14:00.000000000","host":"a","l":1.5,"i":2.5,"m":null},"#
                    + #"{"t":"2023-11-14T22:15:00.000000000","host":"a","l":3.5,"i":3.5,"m":3.5},"#
                    + #"{"t":"2023-11-14T22:16:00.000000000","host":"a","l":3.5,"i":null,"m":null}]"#
            ),
            (
                "DESCRIBE DATABASE dialect",
                #"[{"ttl":"INF","shard":2,"vnode_duration":"8766h","replica":1,"precision":"NS"}]"#
            ),
            (
                "INSERT INTO cpu(time, host, dc, usage) VALUES ('2023-11-14 22:20:00', 'c', 'z', '4.5'), (1700000460000000000, 'c', 'z', 5)",
                #"[{"rows":2}]"#
            ),
            (
                "SELECT time, usage FROM cpu WHERE host = 'c' ORDER BY time",
                #"[{"time":"2023-11-14T22:20:00.000000000","usage":4.5},{"time":"2023-11-14T22:21:00.000000000","usage":5.0}]"#
            ),
        ]

        @Test("each statement answers exactly CnosDB's shape, in column order")
        func dialect() async throws {
            try await ProcessCluster.run(nodes: 1) { cluster in
                _ = await cluster.eventually(30, "the node runs DDL") {
                    await cluster.sql(1, "CREATE DATABASE dialect WITH SHARD 2")?.status == 200
                }
                let points =
                    "cpu,host=a,dc=x usage=1.5 1700000000000000000\ncpu,host=b,dc=y usage=2.5 1700000030000000000\n"
                    + "cpu,host=a,dc=x usage=3.5,note=\"late\" 1700000120000000000\n"
                let written = await cluster.request(1, "POST", "/api/v1/write?db=dialect", body: points)
                cluster.check(written?.status == 200, "the points are written: \(String(describing: written))")
                for (statement, expected) in Self.cases {
                    let reply = await cluster.sql(1, statement, db: "dialect", accept: "application/json")
                    cluster.check(
                        reply?.status == 200 && reply?.body == expected,
                        "\(statement)\n  got \(reply?.status ?? 0) \(reply?.body ?? "")\n  expected \(expected)")
                }
                let bad = await cluster.sql(1, "SELECT * FROM cpu ORDER BY nothing", db: "dialect")
                cluster.check(
                    bad?.status == 400 && (bad?.body.contains("ORDER BY nothing") ?? false),
                    "an ORDER BY on a missing column is a 400 that names it: \(String(describing: bad))")
            }
        }

        @Test("a field of another type is refused naming the line; points beyond the TTL are dropped and counted")
        func honestWriteErrors() async throws {
            try await ProcessCluster.run(nodes: 1) { cluster in
                _ = await cluster.eventually(30, "the node runs DDL") {
                    await cluster.sql(1, "CREATE DATABASE errs WITH TTL '1d'")?.status == 200
                }
                let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
                let first = await cluster.request(1, "POST", "/api/v1/write?db=errs", body: "cpu,host=a usage=1.5 \(now)")
                cluster.check(first?.status == 200, "the first write: \(String(describing: first))")
                let conflicting = "# a comment\n\ncpu,host=b usage=2.5 \(now + 1)\ncpu,host=b usage=3i \(now + 2)\n"
                let refused = await cluster.request(1, "POST", "/api/v1/write?db=errs", body: conflicting)
                cluster.check(
                    refused?.status == 400 && (refused?.body.contains("line 4: field 'usage' is DOUBLE in 'cpu', not BIGINT") ?? false),
                    "a type conflict names the line and field: \(String(describing: refused))")
                // Through InfluxDB's endpoint, in InfluxDB's error shape.
                let influx = await cluster.request(1, "POST", "/write?db=errs", body: "cpu,host=c usage=true \(now + 3)")
                cluster.check(
                    influx?.status == 400 && (influx?.body.contains(#""error":"line 1: field 'usage' is DOUBLE"#) ?? false),
                    "InfluxDB's /write answers the conflict as InfluxDB does: \(String(describing: influx))")
                let old = now - 3 * 86_400_000_000_000
                let partial = await cluster.request(
                    1, "POST", "/api/v1/write?db=errs", body: "cpu,host=d usage=1 \(old)\ncpu,host=d usage=2 \(now + 4)")
                cluster.check(
                    partial?.status == 400 && (partial?.body.contains("1 of 2 points are older than the database's TTL") ?? false),
                    "points beyond the TTL are dropped and counted: \(String(describing: partial))")
                let rows = await cluster.sql(1, "SELECT host, usage FROM cpu ORDER BY time", db: "errs", accept: "application/json")
                cluster.check(
                    rows?.body == #"[{"host":"a","usage":1.5},{"host":"d","usage":2.0}]"#,
                    "only the first write and the point within the TTL are stored: \(String(describing: rows))")
            }
        }
    }
}
