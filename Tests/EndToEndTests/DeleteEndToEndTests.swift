import Foundation
import Testing

/// `DELETE` on real processes: a tombstone committed through every replica set of the time range, rows in files
/// and in memory gone on every node, later writes kept, the replicas' checksums equal, and the deletion still in
/// force after a kill -9 and restart (from the manifest, as the log before the flush is gone).
extension EndToEnd {
    @Suite("DELETE on real processes", .serialized)
    struct DeleteEndToEndTests {
        static let day: Int64 = 86_400_000_000_000
        static let start: Int64 = 1_700_006_400_000_000_000  // a day boundary: two days make two buckets

        /// The hosts with their point counts, from a node (linearizable).
        static func counts(_ cluster: ProcessCluster, _ node: Int, _ filter: String = "") async -> [String: Int]? {
            guard
                let rows = await cluster.sqlRows(
                    node, "SELECT host, count(usage) AS n FROM cpu \(filter) GROUP BY host", db: "del")
            else { return nil }
            var counts: [String: Int] = [:]
            for row in rows { counts[row["host"] as? String ?? "?"] = row["n"] as? Int ?? -1 }
            return counts
        }

        @Test("rows go on every node and stay gone after kill -9; later writes stay; checksums agree")
        func deleteAcrossReplicas() async throws {
            // A tiny memtable: most rows are in column files when the DELETE comes.
            try await ProcessCluster.run(nodes: 3, arguments: ["--memtable-values", "16"]) { cluster in
                guard
                    await cluster.eventually(
                        30, "a SHARD 2 REPLICA 3 database with one-day buckets",
                        {
                            guard let nodes = await cluster.sqlRows(1, "SHOW DATANODES"), nodes.count == 3 else {
                                return false
                            }
                            return await cluster.sql(
                                1, "CREATE DATABASE IF NOT EXISTS del WITH SHARD 2 REPLICA 3 VNODE_DURATION '1d'")?
                                .status == 200
                        })
                else { return }
                // 3 hosts × 2 racks × 40 points over two days.
                var lines: [String] = []
                for k in 0..<40 {
                    let time = Self.start + Int64(k) * (Self.day / 20)
                    for host in ["a", "b", "c"] {
                        for rack in ["r1", "r2"] {
                            lines.append("cpu,host=\(host),rack=\(rack) usage=\(k).5 \(time)")
                        }
                    }
                }
                for chunk in stride(from: 0, to: lines.count, by: 40) {
                    let body = lines[chunk..<min(chunk + 40, lines.count)].joined(separator: "\n")
                    let written = await cluster.request(2, "POST", "/api/v1/write?db=del", body: body)
                    cluster.check(written?.status == 200, "a write: \(String(describing: written))")
                }
                cluster.check(await Self.counts(cluster, 1) == ["a": 80, "b": 80, "c": 80], "all points are in")
                // host a everywhere in time; host b, rack r1 on the second day only (one bucket of two).
                let cut = Self.start + Self.day
                for statement in [
                    "DELETE FROM cpu WHERE host = 'a'",
                    "DELETE FROM cpu WHERE host IN ('b') AND rack != 'r2' AND time >= \(cut)",
                ] {
                    let reply = await cluster.sql(3, statement, db: "del")
                    cluster.check(reply?.status == 200, "\(statement): \(String(describing: reply))")
                }
                // Read through every node: the deletion committed in every replica set, at one index everywhere.
                for node in 1...3 {
                    cluster.check(
                        await Self.counts(cluster, node) == ["b": 60, "c": 80],
                        "node \(node): host a gone, b lost its r1 points of day two: "
                            + "\(String(describing: await Self.counts(cluster, node)))")
                }
                // A point written after the deletion, inside its range, stays.
                let late = await cluster.request(
                    1, "POST", "/api/v1/write?db=del", body: "cpu,host=a,rack=r1 usage=9 \(cut + 1)")
                cluster.check(late?.status == 200, "a later write: \(String(describing: late))")
                cluster.check(await Self.counts(cluster, 2) == ["a": 1, "b": 60, "c": 80], "the later write stays")
                // InfluxQL's forms, through /query.
                for statement in ["DROP SERIES FROM cpu WHERE host = 'c' AND rack = 'r1'", "DELETE FROM nothing_here"] {
                    let encoded = statement.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                    let reply = await cluster.request(1, "POST", "/query?db=del&q=\(encoded)")
                    cluster.check(
                        reply?.status == 200 && reply?.body.contains("error") == false,
                        "\(statement): \(String(describing: reply))")
                }
                cluster.check(await Self.counts(cluster, 1) == ["a": 1, "b": 60, "c": 40], "DROP SERIES took c/r1")
                // Refused, saying why.
                for (statement, status, words) in [
                    ("DELETE FROM cpu WHERE usage > 3", 400, "'usage' is not a tag"),
                    ("DELETE FROM cpu WHERE host = 'a' OR host = 'b'", 400, "OR is not supported"),
                    ("DELETE FROM nothing_here", 404, "table 'nothing_here' does not exist"),
                ] {
                    let reply = await cluster.sql(1, statement, db: "del")
                    cluster.check(
                        reply?.status == status && reply?.body.contains(words) == true,
                        "\(statement): \(String(describing: reply))")
                }
                // Every data group's replicas agree.
                var groups: Set<Int> = []
                for group in await cluster.groups(1) where group["kind"] as? String == "data" {
                    groups.insert(group["id"] as! Int)
                }
                cluster.check(groups.count == 4, "two buckets of two replica sets: \(groups.sorted())")
                _ = await cluster.eventually(30, "the replicas of every data group agree by checksum") {
                    for id in groups.sorted() {
                        let rows = await cluster.sqlRows(1, "CHECKSUM GROUP \(id)") ?? []
                        guard rows.count == 3, Set(rows.map { $0["checksum"] as? String ?? "?" }).count == 1 else {
                            return false
                        }
                    }
                    return true
                }
                // kill -9 and restart: what the files hold comes back with its tombstones.
                cluster.kill9(2)
                try cluster.start(2)
                _ = await cluster.eventually(60, "node 2 answers again, without the deleted rows") {
                    await Self.counts(cluster, 2) == ["a": 1, "b": 60, "c": 40]
                }
            }
        }
    }
}
