import Foundation
import Testing

/// A linearizable SELECT plans from current metadata, also on a node whose meta replica lags.
extension EndToEnd {
    @Suite("Fresh metadata", .serialized)
    struct MetaFreshnessEndToEndTests {
        @Test(
            "a node cut off from the meta leader never answers a SELECT without a point acknowledged into a new bucket")
        func selectOnLaggingMetaReplica() async throws {
            try await ProcessCluster.run(nodes: 4) { cluster in
                guard await cluster.waitForLeaders(groups: 1) else { return }
                guard
                    await cluster.eventually(
                        30, "database fresh",
                        {
                            await cluster.sql(
                                1, "CREATE DATABASE IF NOT EXISTS fresh WITH SHARD 1 REPLICA 3", db: "public",
                                timeout: 10)?.status
                                == 200
                        })
                else { return }
                let year: Int64 = 31_557_600_000_000_000
                let first: Int64 = 1_700_000_000_000_000_000
                func count(_ node: Int) async -> (status: Int, count: Int?) {
                    guard
                        let reply = await cluster.sql(
                            node, "SELECT count(v) AS n FROM m", db: "fresh", accept: "application/json", timeout: 30)
                    else { return (0, nil) }
                    let rows =
                        (try? JSONSerialization.jsonObject(with: Data(reply.body.utf8))) as? [[String: Any]] ?? []
                    return (reply.status, rows.first?["n"] as? Int)
                }
                let written = await cluster.request(
                    1, "POST", "/api/v1/write?db=fresh&precision=ns", body: "m,host=a v=1 \(first)")
                cluster.check(written?.status == 200, "first write: \(String(describing: written))")
                guard await cluster.eventually(30, "node 4 reads the first point", { await count(4).count == 1 })
                else { return }

                // Node 4 (a meta learner) and the meta leader stop hearing each other; everyone else is fine.
                guard let metaLeader = await cluster.leader(of: 1, askingNode: 1), metaLeader != 4 else {
                    cluster.check(false, "a meta leader among the voters")
                    return
                }
                _ = await cluster.request(4, "POST", "/api/v1/debug/isolate", body: "\(metaLeader)")
                _ = await cluster.request(metaLeader, "POST", "/api/v1/debug/isolate", body: "4")
                let writer = (1...3).first { $0 != metaLeader }!
                let second = await cluster.request(
                    writer, "POST", "/api/v1/write?db=fresh&precision=ns", body: "m,host=a v=2 \(first + 2 * year)")
                cluster.check(second?.status == 200, "a point into a new bucket: \(String(describing: second))")

                // Before the fix: 200 with count 1 (the new bucket unknown to node 4's meta). Now: 503 until it
                // can confirm its metadata, or 200 with both points.
                var answers: [String] = []
                for _ in 0..<4 {
                    let (status, n) = await count(4)
                    answers.append("\(status):\(n.map(String.init) ?? "-")")
                    cluster.check(status != 200 || n == 2, "node 4 answered without the acknowledged point: \(answers)")
                }
                print("fresh metadata: answers through node 4 while cut off from the meta leader: \(answers)")

                for id in [4, metaLeader] { _ = await cluster.request(id, "POST", "/api/v1/debug/isolate", body: "") }
                _ = await cluster.eventually(30, "node 4 reads both points once healed") { await count(4).count == 2 }
            }
        }

        @Test(
            "DDL right after start waits for the metadata instead of refusing; ping is healthy only once it can serve")
        func ddlRightAfterStart() async throws {
            try await ProcessCluster.run(nodes: 3) { cluster in
                var statuses: [Int] = []
                _ = await cluster.eventually(30, "CREATE DATABASE WITH REPLICA 3 right after start") {
                    let reply = await cluster.sql(
                        3, "CREATE DATABASE IF NOT EXISTS early WITH REPLICA 3", db: "public", timeout: 10)
                    statuses.append(reply?.status ?? 0)
                    return reply?.status == 200
                }
                cluster.check(!statuses.contains(400), "a transient state answered 400: \(statuses)")
                print("ddl right after start: answers \(statuses)")
                for id in 1...3 {
                    _ = await cluster.eventually(30, "node \(id) is healthy") {
                        guard let reply = await cluster.request(id, "GET", "/api/v1/ping") else { return false }
                        return reply.status == 200 && reply.body.contains("healthy")
                    }
                }
                let written = await cluster.request(
                    1, "POST", "/api/v1/write?db=early&precision=s", body: "m,host=a v=1 1700000000")
                cluster.check(written?.status == 200, "a write into it: \(String(describing: written))")
            }
        }
    }
}
