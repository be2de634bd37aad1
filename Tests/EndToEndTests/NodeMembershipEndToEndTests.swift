import Foundation
import Testing

/// Nodes joining and leaving a running cluster, on real processes, under a continuous write load.
extension EndToEnd {
    @Suite("Nodes joining and leaving", .serialized)
    struct NodeMembershipEndToEndTests {
        @Test("a fourth node joins with --join, a drained node leaves, writes go on and none is lost")
        func joinAndDrainUnderLoad() async throws {
            try await ProcessCluster.run(nodes: 4, founders: 3, arguments: ["--snapshot-entries", "300"]) { cluster in
                guard await cluster.waitForLeaders(groups: 1) else { return }
                guard await cluster.createRepDatabase(nodes: 3, shard: 2) else { return }
                let load = WriteLoad()
                Task { await load.run(cluster) }
                defer { load.stop() }
                var sets: [Int] = []
                guard
                    await cluster.eventually(
                        30, "the first bucket exists",
                        {
                            sets = (await cluster.sqlRows(1, "SHOW REPLICAS", db: "rep") ?? []).compactMap {
                                $0["replica_id"] as? Int
                            }
                            return sets.count == 2
                        })
                else { return }
                try await load.waitForMore(100)

                // 1. Node 4 joins through node 1: every node lists it, and it follows the metadata itself.
                try cluster.start(4)
                _ = await cluster.eventually(60, "node 4 is registered and holds the metadata") {
                    guard await cluster.sqlRows(1, "SHOW DATANODES")?.count == 4,
                        let seen = await cluster.sqlRows(4, "SHOW REPLICAS", db: "rep")
                    else { return false }
                    return seen.count == 2
                }
                let metaOnNode4 = await cluster.groups(4).first { $0["kind"] as? String == "meta" }
                let metaMembers = metaOnNode4?["members"] as? [[String: Any]] ?? []
                cluster.check(
                    metaMembers.contains { $0["node"] as? Int == 4 && $0["role"] as? String == "learner" },
                    "node 4 is a learner of the meta group: \(metaMembers)")
                try await load.waitForMore(100)

                // 2. Node 3 is drained: each of its vnodes moves to node 4 (the only node without one) while writes
                // go on; then it is stopped for good.
                var drained = "no answer"
                let ok = await cluster.eventually(240, "DRAIN NODE 3") {
                    guard let reply = await cluster.sql(2, "DRAIN NODE 3", db: "rep", timeout: 240) else {
                        return false
                    }
                    drained = "\(reply.status) \(reply.body)"
                    return reply.status == 200
                }
                cluster.check(ok, "DRAIN NODE 3: \(drained)")
                let status = await cluster.sqlRows(1, "SHOW DATANODES")?.first { $0["node_id"] as? Int == 3 }
                cluster.check(
                    status?["status"] as? String == "draining",
                    "node 3 is marked draining: \(String(describing: status))")
                for set in sets { await cluster.expectMembership(set, [1, 2, 4]) }
                await cluster.expectNoOrphans()
                try await load.waitForMore(100)
                cluster.kill9(3)
                try await load.waitForMore(300)

                load.stop()
                await load.stopped()
                let acknowledged = load.acknowledged.withLock { $0 }
                print("join and drain: \(acknowledged.count) points acknowledged")
                await cluster.expectReadBack(acknowledged, on: [1, 2, 4])
                await cluster.expectChecksumsAgree(sets, on: [1, 2, 4])
            }
        }
    }
}
