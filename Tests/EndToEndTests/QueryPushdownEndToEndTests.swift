import Foundation
import Testing

/// Aggregates answered by the vnodes (partials per series and bin, from column-file stats where a block lies
/// inside the range) agree with the same query answered from rows, and with the data written; vnode data lives
/// in column files that survive a kill -9.
extension EndToEnd {
    @Suite("Queries pushed down to the vnodes", .serialized)
    struct QueryPushdownEndToEndTests {
        /// 3 hosts × 600 seconds: `u` a float (multiples of 0.25, so sums are exact in any order), `n` an integer.
        static func lines() -> [String] {
            var lines: [String] = []
            for host in ["a", "b", "c"] {
                for second in 0..<600 {
                    let u = Double((second * 7 + Int(host.unicodeScalars.first!.value)) % 97) / 4
                    lines.append("cpu,host=\(host) u=\(u),n=\(second % 13)i \(Int64(second) * 1_000_000_000)")
                }
            }
            return lines
        }

        /// Creates `database` (`SHARD 2`) and writes `lines()` into it, 300 lines a request, through every node
        /// in turn; false (the failure recorded) if that did not work.
        static func createAndFill(_ cluster: ProcessCluster, _ database: String, replicas: Int) async -> Bool {
            guard await cluster.waitForLeaders(groups: 1) else { return false }
            let created = await cluster.eventually(20, "CREATE DATABASE") {
                let statement = "CREATE DATABASE IF NOT EXISTS \(database) WITH SHARD 2 REPLICA \(replicas)"
                return await cluster.sql(1, statement)?.status == 200
            }
            guard created else { return false }
            let lines = Self.lines()
            for start in stride(from: 0, to: lines.count, by: 300) {
                let body = lines[start..<min(lines.count, start + 300)].joined(separator: "\n")
                let written = await cluster.eventually(20, "a write") {
                    let path = "/api/v1/write?db=\(database)"
                    return await cluster.request(1 + start / 300 % 3, "POST", path, body: body)?.status == 200
                }
                guard written else { return false }
            }
            return true
        }

        @Test("count, sum, avg, min and max from the vnodes equal the row path's, before and after a kill -9")
        func aggregatesAgree() async throws {
            try await ProcessCluster.run(nodes: 3, arguments: ["--memtable-values", "400"]) { cluster in
                guard await Self.createAndFill(cluster, "agg", replicas: 3) else { return }
                let all = "SELECT count(*), count(u), sum(n), avg(u), min(u), max(n) FROM cpu"
                let expectedSum = (0..<600).reduce(0) { $0 + $1 % 13 } * 3
                let total = await cluster.sql(2, all, db: "agg")
                cluster.check(
                    total?.body.hasPrefix("count(*),count(u),sum(n),avg(u),min(u),max(n)\n1800,1800,\(expectedSum),")
                        == true, "the totals: \(total?.body ?? "no answer")")
                // The same queries with a condition on a field go the row path: the answers must be the same.
                let queries = [
                    all,
                    "SELECT count(*), sum(u), max(u) FROM cpu WHERE host = 'b'",
                    "SELECT count(u), min(n) FROM cpu WHERE time >= 100000000000 AND time < 250000000000",
                    """
                    SELECT date_bin(INTERVAL '1 minute', time) AS t, host, count(u), avg(u), max(n) FROM cpu \
                    GROUP BY date_bin(INTERVAL '1 minute', time), host
                    """,
                    // Rows with a LIMIT taken by each series at the vnodes, and only the fields asked for.
                    "SELECT u FROM cpu WHERE host = 'b' LIMIT 4 OFFSET 2",
                    "SELECT time, n FROM cpu WHERE host = 'c' AND time < 5000000000",
                ]
                func answers(_ node: Int) async -> [String] {
                    var out: [String] = []
                    for query in queries {
                        let rowPath =
                            query.contains("WHERE")
                            ? query.replacingOccurrences(of: "WHERE ", with: "WHERE u > -1 AND ")
                            : query.replacingOccurrences(of: "FROM cpu", with: "FROM cpu WHERE u > -1")
                        let pushed = await cluster.sql(node, query, db: "agg")
                        let rows = await cluster.sql(node, rowPath, db: "agg")
                        cluster.check(
                            pushed?.status == 200 && pushed?.body == rows?.body,
                            "\(query)\npushed down: \(pushed?.body ?? "none")\nrows: \(rows?.body ?? "none")")
                        out.append(pushed?.body ?? "")
                    }
                    return out
                }
                let before = await answers(3)
                cluster.check(before[3].split(separator: "\n").count == 1 + 30, "30 minute-and-host groups")
                cluster.check(before[4].split(separator: "\n").count == 1 + 4, "a limit of 4: \(before[4])")
                cluster.check(
                    before[5].hasPrefix("time,n\n") && before[5].split(separator: "\n").count == 1 + 5
                        && before[5].hasSuffix(",4\n"), "the projected rows: \(before[5])")
                // Column files on disk, then a kill -9: the node recovers its vnodes from them and the log.
                let vnodes = cluster.nodes[1]!.directory + "/vnodes"
                let files = (FileManager.default.enumerator(atPath: vnodes)?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".tsf") }
                cluster.check(!files.isEmpty, "vnode column files under \(vnodes)")
                cluster.kill9(1)
                try cluster.start(1)
                let recovered = await cluster.eventually(30, "node 1 answers as before") {
                    let now = await cluster.sql(1, queries[0], db: "agg")
                    return now?.body == before[0]
                }
                guard recovered else { return }
                cluster.check(await answers(1) == before, "after the restart, the same answers")
            }
        }

        @Test("a SELECT bigger than a page streams page by page: the rows of the whole answer, each series in order")
        func streamedSelect() async throws {
            try await ProcessCluster.run(
                nodes: 3, arguments: ["--memtable-values", "400", "--query-page-rows", "70"]
            ) { cluster in
                guard await Self.createAndFill(cluster, "paged", replicas: 2) else { return }
                // 16 series of 100 rows: spread over both replica sets (all in one has odds of 1 in 32,768), written
                // 10 seconds at a time so that each series lies in blocks of several files and pages end inside it.
                for first in stride(from: 0, to: 100, by: 10) {
                    let slice = (0..<16).flatMap { host in
                        (first..<first + 10).map { "mem,host=m\(host) v=\($0)i \(Int64($0) * 1_000_000_000)" }
                    }
                    let written = await cluster.eventually(20, "the spread series") {
                        await cluster.request(2, "POST", "/api/v1/write?db=paged", body: slice.joined(separator: "\n"))?
                            .status == 200
                    }
                    guard written else { return }
                }
                let sets = await cluster.sqlRows(1, "SHOW VNODES", db: "paged")?.compactMap { $0["replica_id"] as? Int }
                cluster.check(Set(sets ?? []).count == 2, "two replica sets: \(sets ?? [])")
                for node in 1...3 {
                    // Series of several sets, read in pages of 70: still one run of rows each, in time order.
                    let mem = await cluster.sql(node, "SELECT host, v FROM mem", db: "paged", timeout: 30)
                    let memRows = mem?.body.split(separator: "\n").dropFirst().map { $0.split(separator: ",") } ?? []
                    cluster.check(mem?.chunked == true && memRows.count == 1_600, "node \(node): \(memRows.count) rows")
                    var runs: [Substring] = []
                    for (k, row) in memRows.enumerated() {
                        if k == 0 || memRows[k - 1][0] != row[0] {
                            cluster.check(!runs.contains(row[0]), "node \(node): \(row[0]) in one run")
                            runs.append(row[0])
                        } else {
                            cluster.check(Int(memRows[k - 1][1])! < Int(row[1])!, "node \(node): \(row[0]) in order")
                        }
                    }
                    // ORDER BY time makes the answer whole (sorted in memory); without it, it streams.
                    guard let streamed = await cluster.sql(node, "SELECT * FROM cpu", db: "paged", timeout: 30),
                        let whole = await cluster.sql(node, "SELECT * FROM cpu ORDER BY time", db: "paged", timeout: 30)
                    else { return cluster.check(false, "node \(node) answers") }
                    cluster.check(streamed.status == 200 && streamed.chunked, "node \(node): streamed, chunked")
                    cluster.check(whole.status == 200 && !whole.chunked, "node \(node): the sorted answer is whole")
                    let rows = streamed.body.split(separator: "\n")
                    cluster.check(
                        rows.first == "time,host,n,u" && rows.count == 1 + 1_800,
                        "node \(node): \(rows.count - 1) rows under \(rows.first ?? "")")
                    cluster.check(
                        rows.sorted() == whole.body.split(separator: "\n").sorted(),
                        "node \(node): the same rows as the whole answer")
                    // Each series comes in one run of rows, in time order.
                    var seen: [Substring] = []
                    var previous: (host: Substring, time: Substring)?
                    for row in rows.dropFirst() {
                        let cells = row.split(separator: ",")
                        if let previous, previous.host == cells[1] {
                            cluster.check(previous.time < cells[0], "node \(node): \(cells[1]) in time order")
                        } else {
                            cluster.check(!seen.contains(cells[1]), "node \(node): \(cells[1]) in one run")
                            seen.append(cells[1])
                        }
                        previous = (cells[1], cells[0])
                    }
                    // A filter the vnodes do not apply, a projection, JSON lines, JSON and epoch times.
                    let filtered = await cluster.sql(node, "SELECT time, u FROM cpu WHERE u > 20", db: "paged")
                    let filteredWhole = await cluster.sql(
                        node, "SELECT time, u FROM cpu WHERE u > 20 ORDER BY time", db: "paged")
                    let expected = Self.lines().filter {
                        Double($0.split(separator: "=")[2].split(separator: ",")[0])! > 20
                    }
                    cluster.check(
                        filtered?.body.split(separator: "\n").sorted()
                            == filteredWhole?.body.split(separator: "\n").sorted()
                            && filtered?.body.split(separator: "\n").count == 1 + expected.count,
                        "node \(node): the filtered rows (\(expected.count))")
                    let ndjson = await cluster.sql(
                        node, "SELECT * FROM cpu", db: "paged", accept: "application/nd-json", timeout: 30)
                    cluster.check(
                        ndjson?.chunked == true && ndjson?.body.split(separator: "\n").count == 1_800,
                        "node \(node): JSON lines")
                    let json = await cluster.sql(
                        node, "SELECT * FROM cpu", db: "paged", accept: "application/json", timeout: 30)
                    let objects = json.flatMap {
                        try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [[String: Any]]
                    }
                    cluster.check(
                        objects?.count == 1_800 && objects?.allSatisfy { $0.count == 4 } == true,
                        "node \(node): a JSON array of every row")
                    let epochs = await cluster.request(
                        node, "POST", "/api/v1/sql?db=paged&epoch=ns", body: "SELECT time FROM cpu WHERE host = 'a'")
                    cluster.check(
                        epochs?.body.split(separator: "\n").dropFirst().map { String($0) }
                            == (0..<600).map { String(Int64($0) * 1_000_000_000) },
                        "node \(node): epoch times in order")
                }
            }
        }

        @Test("a flipped byte in a vnode's column file is named, not served, and the replica is replaced")
        func damagedFileIsReplaced() async throws {
            try await ProcessCluster.run(nodes: 3, arguments: ["--memtable-values", "400"]) { cluster in
                guard await cluster.waitForLeaders(groups: 1), await cluster.createRepDatabase(nodes: 3, shard: 1)
                else { return }
                let lines = Self.lines()
                for start in stride(from: 0, to: lines.count, by: 300) {
                    let body = lines[start..<min(lines.count, start + 300)].joined(separator: "\n")
                    let written = await cluster.eventually(20, "a write") {
                        await cluster.request(1, "POST", "/api/v1/write?db=rep", body: body)?.status == 200
                    }
                    guard written else { return }
                }
                guard let rows = await cluster.sqlRows(1, "SHOW VNODES", db: "rep"),
                    let set = rows.first?["replica_id"] as? Int, let before = await cluster.vnode(of: set, on: 2)
                else { return cluster.check(false, "SHOW VNODES lists the set") }
                // Every replica flushed its memtables into files: damage one of node 2's.
                let directory = cluster.nodes[2]!.directory + "/vnodes/\(set)"
                var damaged: String?
                _ = await cluster.eventually(20, "column files on node 2") {
                    let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? [])
                        .filter { $0.hasSuffix(".tsf") }.sorted()
                    damaged = files.first.map { directory + "/" + $0 }
                    return damaged != nil
                }
                guard let damaged, let handle = FileHandle(forUpdatingAtPath: damaged) else { return }
                try handle.seek(toOffset: 40)
                let byte = try handle.read(upToCount: 1) ?? Data([0])
                try handle.seek(toOffset: 40)
                try handle.write(contentsOf: Data([byte[0] ^ 0x5A]))
                try handle.close()
                // Reads through node 2 still answer every row (another replica serves them) ...
                let all = await cluster.eventually(30, "every row through node 2") {
                    let reply = await cluster.sql(2, "SELECT * FROM cpu", db: "rep", timeout: 30)
                    return reply?.status == 200 && reply?.body.split(separator: "\n").count == 1 + 1_800
                }
                guard all else { return }
                // ... and node 2's replica is replaced by a fresh one that copied a healthy replica.
                let replaced = await cluster.eventually(60, "node 2's vnode of set \(set) replaced") {
                    guard let now = await cluster.vnode(of: set, on: 2) else { return false }
                    return now != before
                }
                guard replaced else { return }
                await cluster.expectChecksumsAgree([set], on: [1, 2, 3])
                cluster.check(!FileManager.default.fileExists(atPath: damaged), "the damaged file is gone")
            }
        }
    }
}
