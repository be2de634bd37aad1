import Foundation
import Synchronization
import Testing

/// The replica commands on real processes, under a continuous write load: add, promote, remove and move replicas
/// (the leader's among them), kill -9 the target or the source in the middle; afterwards no acknowledged write is
/// missing, `CHECKSUM GROUP` agrees, `SHOW REPLICAS` matches the Raft membership, and no orphan data is left.
extension EndToEnd {
    @Suite("Replica groups on real processes", .serialized)
    struct ReplicaEndToEndTests {
        @Test("replica changes under load, with kill -9 of a move's source and of an addition's target")
        func replicaChangesUnderLoad() async throws {
            try await ProcessCluster.run(nodes: 4, arguments: ["--snapshot-entries", "300"]) { cluster in
                guard await cluster.waitForLeaders(groups: 1) else { return }
                guard await cluster.createRepDatabase(nodes: 4, shard: 1) else { return }
                let load = WriteLoad()
                Task { await load.run(cluster) }
                defer { load.stop() }
                var found = 0
                guard
                    await cluster.eventually(
                        30, "the first bucket exists",
                        {
                            guard let row = await cluster.sqlRows(1, "SHOW REPLICAS", db: "rep")?.first else {
                                return false
                            }
                            found = row["replica_id"] as? Int ?? 0
                            return found > 0
                        })
                else { return }
                let set = found

                print("replica e2e step: 1. A fourth")
                // 1. A fourth replica on node 4: learner, catch-up (by snapshot: the log is compacted), voter.
                try await cluster.replicaCommand(1, "REPLICA ADD replica_id \(set) node_id 4", load)
                await cluster.expectMembership(set, [1, 2, 3, 4])
                print("replica e2e step: 2. Leadership")
                // 2. Leadership moves to it without changing the voters.
                try await cluster.replicaCommand(2, "REPLICA PROMOTE replica_id \(set) node_id 4", load)
                _ = await cluster.eventually(20, "node 4 leads replica set \(set)") {
                    await cluster.leader(of: set, askingNode: 2) == 4
                }
                await cluster.expectMembership(set, [1, 2, 3, 4])
                print("replica e2e step: 3. The leader's")
                // 3. The leader's replica leaves: leadership is handed over first.
                try await cluster.replicaCommand(3, "REPLICA REMOVE replica_id \(set) node_id 4", load)
                await cluster.expectMembership(set, [1, 2, 3])
                print("replica e2e step: 4. Move node")
                // 4. Move node 1's vnode to node 4, killing the source in the middle.
                let vnode = try #require(await cluster.vnode(of: set, on: 1))
                let move = Task { await cluster.sql(3, "MOVE VNODE \(vnode) TO NODE 4", db: "rep", timeout: 120) }
                try await load.waitForMore(100)
                cluster.kill9(1)
                try await load.waitForMore(200)
                try cluster.start(1)
                let moved = await move.value
                if moved?.status != 200 {
                    // Cut short by the death of a node it needed (the group's leader, say): it answers 503, what it
                    // finished stays, and the client repeats it.
                    print("MOVE VNODE answered \(moved.map { "\($0.status) \($0.body)" } ?? "nothing"); repeating it")
                    await cluster.repeatUntil(set, [2, 3, 4], "MOVE VNODE \(vnode) TO NODE 4")
                }
                await cluster.expectMembership(set, [2, 3, 4])
                print("replica e2e step: 5. A replica back")
                // 5. A replica back on node 1, killing the target while it catches up.
                let add = Task {
                    await cluster.sql(2, "REPLICA ADD replica_id \(set) node_id 1", db: "rep", timeout: 120)
                }
                try await load.waitForMore(50)
                cluster.kill9(1)
                try await load.waitForMore(200)
                try cluster.start(1)
                let added = await add.value
                if added?.status != 200 {
                    print("REPLICA ADD answered \(added.map { "\($0.status) \($0.body)" } ?? "nothing"); repeating it")
                    await cluster.repeatUntil(set, [1, 2, 3, 4], "REPLICA ADD replica_id \(set) node_id 1")
                }
                await cluster.expectMembership(set, [1, 2, 3, 4])

                print("replica e2e step: stopping the load")
                load.stop()
                await load.stopped()
                print("replica e2e step: verifying")
                let acknowledged = load.acknowledged.withLock { $0 }
                cluster.check(
                    acknowledged.count > 500, "writes went on during the changes (\(acknowledged.count) acknowledged)")
                print(
                    "replica changes: \(acknowledged.count) points acknowledged during the changes to replica set \(set)"
                )
                await cluster.expectReadBack(acknowledged, on: [1, 2, 3, 4])
                await cluster.expectChecksumsAgree([set], on: [1, 2, 3, 4], askingNode: 2)
                await cluster.expectNoOrphans()
            }
        }
    }
}

/// Writes 20-point requests through every node in turn until cancelled, and records what was acknowledged.
/// A continuous write load. It is stopped with `stop()`, never by cancelling its task: cancelling a task inside
/// `URLSession.data(for:)` can deadlock FoundationNetworking on Linux (the cancellation handler waits for the
/// session's queue while that queue resumes the task), which once hung a whole test run.
final class WriteLoad: Sendable {
    let acknowledged = Mutex<Set<String>>([])
    let done = Mutex<Bool>(false)
    let stopping = Mutex<Bool>(false)

    /// Ends the load after the request in flight.
    func stop() { stopping.withLock { $0 = true } }

    /// Writes 20 points per request through `nodes` in turn until stopped; keeps the acknowledged ones.
    func run(_ cluster: ProcessCluster, through nodes: [Int] = [1, 2, 3, 4]) async {
        var request = 0
        while !stopping.withLock({ $0 }) {
            request += 1
            var lines: [String] = []
            var times: [String] = []
            for i in 0..<20 {
                let time = 1_700_000_000_000_000_000 + Int64(request * 100 + i)
                lines.append("m,host=h\(i) v=\(request)i \(time)")
                times.append(String(time))
            }
            let node = nodes[request % nodes.count]
            if await cluster.request(
                node, "POST", "/api/v1/write?db=rep&precision=ns", body: lines.joined(separator: "\n"))?
                .status == 200
            {
                acknowledged.withLock { $0.formUnion(times) }
            } else {
                try? await Task.sleep(for: .milliseconds(50))  // refused (no leader yet, node down): back off
            }
        }
        done.withLock { $0 = true }
    }

    /// Waits until `count` more points were acknowledged (the load goes on between the steps of a test).
    func waitForMore(_ count: Int) async throws {
        let target = acknowledged.withLock { $0.count } + count
        let deadline = Date().addingTimeInterval(60)
        while acknowledged.withLock({ $0.count }) < target && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stopped() async {
        while !done.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

extension ProcessCluster {
    /// Waits until every acknowledged point (its time, from `WriteLoad`) reads back through each of `nodes`.
    func expectReadBack(_ acknowledged: Set<String>, on nodes: [Int]) async {
        for node in nodes {
            _ = await eventually(60, "node \(node) reads back every acknowledged point") {
                guard let reply = await sql(node, "SELECT time FROM m", db: "rep&epoch=ns", timeout: 60),
                    reply.status == 200
                else { return false }
                let present = Set(reply.body.split(separator: "\n").dropFirst().map(String.init))
                let missing = acknowledged.subtracting(present)
                if !missing.isEmpty { print("node \(node): \(missing.count) acknowledged points missing") }
                return missing.isEmpty
            }
        }
    }

    /// Waits until `CHECKSUM GROUP` of each set answers one row per node of `nodes`, all with one checksum.
    func expectChecksumsAgree(_ sets: [Int], on nodes: Set<Int>, askingNode node: Int = 1) async {
        for set in sets {
            _ = await eventually(30, "CHECKSUM GROUP \(set) agrees on the vnodes of nodes \(nodes.sorted())") {
                guard let rows = await sqlRows(node, "CHECKSUM GROUP \(set)", db: "rep") else { return false }
                return rows.count == nodes.count && Set(rows.compactMap { $0["node_id"] as? Int }) == nodes
                    && Set(rows.map { $0["checksum"] as? String ?? "?" }).count == 1
            }
        }
    }

    /// Waits until `nodes` nodes have registered, then creates the `rep` database (`SHARD shard REPLICA 3`).
    func createRepDatabase(nodes count: Int, shard: Int) async -> Bool {
        await eventually(30, "\(count) registered nodes and a SHARD \(shard) REPLICA 3 database") {
            guard let nodes = await sqlRows(1, "SHOW DATANODES"), nodes.count == count else { return false }
            return await sql(1, "CREATE DATABASE IF NOT EXISTS rep WITH SHARD \(shard) REPLICA 3")?.status == 200
        }
    }

    func sql(
        _ node: Int, _ statement: String, db: String, accept: String = "text/csv", timeout: TimeInterval
    ) async -> Reply? {
        await request(node, "POST", "/api/v1/sql?db=\(db)", body: statement, accept: accept, timeout: timeout)
    }

    /// A statement's rows as JSON objects (nil unless it answered 200).
    func sqlRows(_ node: Int, _ statement: String, db: String = "public") async -> [[String: Any]]? {
        guard let reply = await sql(node, statement, db: db, accept: "application/json", timeout: 30),
            reply.status == 200
        else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [[String: Any]]
    }

    /// Runs a replica command (retrying while the cluster answers 503) and checks that writes go on after it.
    func replicaCommand(_ node: Int, _ statement: String, _ load: WriteLoad) async throws {
        var last = "no answer"
        let ok = await eventually(120, statement) {
            guard let reply = await sql(node, statement, db: "rep", timeout: 120) else { return false }
            last = "\(reply.status) \(reply.body)"
            return reply.status == 200
        }
        check(ok, "\(statement): \(last)")
        try await load.waitForMore(40)
    }

    /// Repeats `statement` (as a client would after a 503) until the set's membership is `nodes`.
    func repeatUntil(_ set: Int, _ nodes: Set<Int>, _ statement: String) async {
        _ = await eventually(120, "\(statement) completes") {
            if await membership(of: set) == nodes { return true }
            _ = await sql(2, statement, db: "rep", timeout: 60)
            return await membership(of: set) == nodes
        }
    }

    /// The nodes of the set as SHOW REPLICAS lists them, when no change is pending.
    func membership(of set: Int) async -> Set<Int>? {
        guard let row = await sqlRows(1, "SHOW REPLICAS", db: "rep")?.first(where: { $0["replica_id"] as? Int == set }),
            let location = row["location"] as? String,
            let vnodes = await sqlRows(1, "SHOW VNODES", db: "rep"),
            vnodes.filter({ $0["replica_id"] as? Int == set }).allSatisfy({ $0["status"] as? String == "ok" })
        else { return nil }
        return Set(location.split(separator: ",").compactMap { Int($0.replacingOccurrences(of: "*", with: "")) })
    }

    /// The vnode id of `set` on `node`, from SHOW VNODES.
    func vnode(of set: Int, on node: Int) async -> Int? {
        await sqlRows(1, "SHOW VNODES", db: "rep")?.first {
            $0["replica_id"] as? Int == set && $0["node_id"] as? Int == node
        }?["vnode_id"] as? Int
    }

    /// Waits until meta (SHOW REPLICAS) and the group's Raft membership (every member's view) both list exactly
    /// `nodes`, all voters, with no change pending.
    func expectMembership(_ set: Int, _ nodes: Set<Int>) async {
        _ = await eventually(60, "replica set \(set) on nodes \(nodes.sorted()) in meta and in Raft") {
            guard
                let row = await sqlRows(1, "SHOW REPLICAS", db: "rep")?.first(where: { $0["replica_id"] as? Int == set }
                ),
                let location = row["location"] as? String
            else { return false }
            let listed = Set(
                location.split(separator: ",").compactMap { Int($0.replacingOccurrences(of: "*", with: "")) })
            guard listed == nodes else { return false }
            guard let vnodes = await sqlRows(1, "SHOW VNODES", db: "rep"),
                vnodes.filter({ $0["replica_id"] as? Int == set }).allSatisfy({ $0["status"] as? String == "ok" })
            else { return false }
            for node in nodes {
                guard let group = await groups(node).first(where: { $0["id"] as? Int == set }),
                    let members = group["members"] as? [[String: Any]]
                else { return false }
                let voters = Set(members.filter { $0["role"] as? String == "voter" }.compactMap { $0["node"] as? Int })
                guard voters == nodes, members.count == nodes.count else { return false }
            }
            return true
        }
    }

    /// Every node hosts exactly the data groups meta places on it, and keeps no snapshot file of any other.
    func expectNoOrphans() async {
        _ = await eventually(60, "no node keeps a group or a snapshot file that meta does not place on it") {
            guard let vnodes = await sqlRows(1, "SHOW VNODES", db: "rep") else { return false }
            for node in 1...4 {
                let placed = Set(
                    vnodes.filter { $0["node_id"] as? Int == node }.compactMap { $0["replica_id"] as? Int })
                let hosted = Set(
                    await groups(node).filter { $0["kind"] as? String == "data" }.compactMap { $0["id"] as? Int })
                guard hosted == placed else { return false }
                let files =
                    (try? FileManager.default.contentsOfDirectory(atPath: nodes[node]!.directory + "/snapshots")) ?? []
                let groupsWithFiles = Set(
                    files.compactMap { name -> Int? in
                        guard name.hasPrefix("snap-"), name.count > 21 else { return nil }
                        return Int(name.dropFirst(5).prefix(16), radix: 16)
                    })
                guard groupsWithFiles.subtracting([1]).isSubset(of: placed) else { return false }
            }
            return true
        }
    }
}
