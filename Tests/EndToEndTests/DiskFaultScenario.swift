import Foundation
import Testing

/// What the bad-disk tests share: three nodes, a `SHARD 2 REPLICA 3` database under a write load through nodes 1
/// and 2, node 3 leading one set; the test breaks node 3's disk and mends it; afterwards every acknowledged point
/// reads back on all three nodes and the replicas' checksums agree.
enum DiskFaultScenario {
    /// Runs the scenario; `body` breaks and mends node 3's disk. Node 3 is stopped with SIGKILL at the end (a
    /// SIGTERM within a second of its self-restart was once not acted on; stopping it is not what these tests are
    /// about, and a wait for its exit would hang the run).
    static func run(
        _ label: String, environment: [Int: [String: String]] = [:],
        beforeStart: @escaping (Int, String) throws -> Void = { _, _ in },
        _ body: (ProcessCluster, WriteLoad) async throws -> Void
    ) async throws {
        try await ProcessCluster.run(nodes: 3, environment: environment, beforeStart: beforeStart) { cluster in
            guard await cluster.waitForLeaders(groups: 1) else { return }
            guard await cluster.createRepDatabase(nodes: 3, shard: 2) else { return }
            let load = WriteLoad()
            Task { await load.run(cluster, through: [1, 2]) }
            defer { load.stop() }
            try await load.waitForMore(200)
            // Node 3 leads a data group, so that giving it up is seen.
            let sets = (await cluster.sqlRows(1, "SHOW REPLICAS", db: "rep") ?? []).compactMap {
                $0["replica_id"] as? Int
            }
            cluster.check(sets.count == 2, "two replica sets: \(sets)")
            guard let led = sets.first else { return }
            _ = await cluster.eventually(30, "node 3 leads replica set \(led)") {
                _ = await cluster.sql(1, "REPLICA PROMOTE replica_id \(led) node_id 3", db: "rep", timeout: 20)
                return await cluster.leader(of: led, askingNode: 1) == 3
            }
            try await body(cluster, load)
            load.stop()
            await load.stopped()
            let acknowledged = load.acknowledged.withLock { $0 }
            print("\(label): \(acknowledged.count) points acknowledged")
            await cluster.expectReadBack(acknowledged, on: [1, 2, 3])
            await cluster.expectChecksumsAgree(sets, on: [1, 2, 3])
            cluster.kill9(3)
        }
    }

    /// Waits until node 3's health reports a storage failure.
    static func awaitStorageFailure(_ cluster: ProcessCluster) async {
        _ = await cluster.eventually(20, "node 3 reports its storage failure") {
            guard let reply = await cluster.request(3, "GET", "/api/v1/health", timeout: 5) else { return false }
            return reply.status == 503 && reply.body.contains("storage")
        }
    }

    /// Waits until no group has node 3 as its leader; returns how long that took.
    static func leadershipLeaves(_ cluster: ProcessCluster) async -> Double {
        let started = Date()
        _ = await cluster.eventually(10, "every group led by a node other than 3") {
            let groups = await cluster.groups(1)
            return !groups.isEmpty && groups.allSatisfy { ($0["leader"] as? Int).map { $0 != 3 } ?? false }
        }
        return Date().timeIntervalSince(started)
    }

    /// Waits until node 3 is healthy again.
    static func awaitHealthy(_ cluster: ProcessCluster) async {
        _ = await cluster.eventually(60, "node 3 is healthy again") {
            await cluster.request(3, "GET", "/api/v1/health", timeout: 5)?.status == 200
        }
    }

    /// Runs `tool` and returns its exit status (-1 if it could not start).
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
