import Foundation
import Testing

/// End-to-end tests on real `flotilla server` processes (loopback, free ports). Serialized: several clusters at
/// once on two cores would starve each other's timers.
extension EndToEnd {
    @Suite("Real processes", .serialized)
    struct ClusterTests {
        @Test("a 3-node cluster elects a leader for every group, and writes commit on every node")
        func electsAndReplicates() async throws {
            try await ProcessCluster.run(nodes: 3, arguments: ["--kv-groups", "3"]) { cluster in
                guard await cluster.waitForLeaders(groups: 4) else { return }
                for i in 0..<12 {
                    let ok = await cluster.eventually(10, "write k\(i)") {
                        await cluster.put(i % 3 + 1, "k\(i)", "v\(i)")
                    }
                    guard ok else { return }
                }
                for id in 1...3 {
                    _ = await cluster.eventually(10, "node \(id) applied every write") {
                        for i in 0..<12 where await cluster.get(id, "k\(i)", stale: true) != "v\(i)" { return false }
                        return true
                    }
                    cluster.check(await cluster.get(id, "k5") == "v5", "linearizable read through node \(id)")
                }
                let metrics = await cluster.request(1, "GET", "/metrics")?.body ?? ""
                for name in [
                    "flotilla_raft_elections_total", "flotilla_raft_proposals_total",
                    "flotilla_raft_commit_latency_seconds",
                    "flotilla_wal_fsync_seconds", "flotilla_transport_sent_bytes_total", "flotilla_raft_groups",
                ] {
                    cluster.check(metrics.contains(name), "/metrics exports \(name)")
                }
                let bad = await cluster.request(1, "POST", "/api/v1/debug/isolate", body: "two")
                cluster.check(bad?.status == 400, "a bad node id is refused with 400")
            }
        }

        @Test("kill -9 of the leader: a new leader, writes resume, the old leader restarts and catches up")
        func leaderFailover() async throws {
            try await ProcessCluster.run(nodes: 3, arguments: ["--kv-groups", "1"]) { cluster in
                guard await cluster.waitForLeaders(groups: 2) else { return }
                guard await cluster.eventually(10, "first write", { await cluster.put(1, "before", "1") }) else {
                    return
                }
                let leader = await cluster.leader(of: kvGroup, askingNode: 1)!
                cluster.kill9(leader)
                let survivor = leader % 3 + 1
                let started = Date()
                guard
                    await cluster.eventually(
                        15, "a write after the leader died", { await cluster.put(survivor, "after", "2") })
                else { return }
                print(
                    "kill -9 of leader \(leader) -> next successful write: \(Int(Date().timeIntervalSince(started) * 1000)) ms"
                )
                let newLeader = await cluster.leader(of: kvGroup, askingNode: survivor)
                cluster.check(newLeader != nil && newLeader != leader, "group 2 has a new leader, not \(leader)")
                cluster.check(await cluster.get(survivor, "before") == "1", "the write before the crash survived")
                try cluster.start(leader)
                _ = await cluster.eventually(20, "restarted node \(leader) caught up") {
                    await cluster.get(leader, "after", stale: true) == "2"
                }
                _ = await cluster.eventually(10, "a write through the restarted node") {
                    await cluster.put(leader, "again", "3")
                }
            }
        }

        @Test("a node kept down while the others compact their logs catches up by snapshot")
        func snapshotCatchUp() async throws {
            try await ProcessCluster.run(nodes: 3, arguments: ["--kv-groups", "1", "--snapshot-entries", "20"]) {
                cluster in
                guard await cluster.waitForLeaders(groups: 2) else { return }
                guard await cluster.eventually(10, "first write", { await cluster.put(1, "warm", "up") }) else {
                    return
                }
                cluster.kill9(3)
                for i in 0..<60 {
                    guard
                        await cluster.eventually(
                            15, "write key\(i)", { await cluster.put(1 + i % 2, "key\(i)", "value\(i)") })
                    else { return }
                }
                try cluster.start(3)
                _ = await cluster.eventually(20, "node 3 has every key") {
                    let last = await cluster.get(3, "key59", stale: true)
                    let first = await cluster.get(3, "key0", stale: true)
                    return last == "value59" && first == "value0"
                }
                let log =
                    (try? String(contentsOfFile: cluster.nodes[3]!.directory + "/flotilla.log", encoding: .utf8)) ?? ""
                cluster.check(
                    log.contains("installed snapshot"), "node 3 caught up through a snapshot, not the log alone")
            }
        }

        @Test("a node cut off from the others does not disrupt the cluster when it comes back")
        func isolatedNodeRejoinsQuietly() async throws {
            try await ProcessCluster.run(nodes: 3, arguments: ["--kv-groups", "1"]) { cluster in
                guard await cluster.waitForLeaders(groups: 2) else { return }
                guard await cluster.eventually(10, "first write", { await cluster.put(1, "a", "1") }) else { return }
                let metaLeader = await cluster.leader(of: 1, askingNode: 1)!
                let dataLeader = await cluster.leader(of: kvGroup, askingNode: 1)!
                let isolated = (1...3).first { $0 != metaLeader && $0 != dataLeader }!
                let others = (1...3).filter { $0 != isolated }
                let termsBefore = await cluster.terms(askingNode: others[0])
                _ = await cluster.request(
                    isolated, "POST", "/api/v1/debug/isolate", body: others.map(String.init).joined(separator: ","))
                for id in others { _ = await cluster.request(id, "POST", "/api/v1/debug/isolate", body: "\(isolated)") }
                _ = await cluster.eventually(15, "the isolated node tries to elect itself") {
                    await cluster.groups(isolated).contains {
                        ["preCandidate", "candidate"].contains($0["role"] as? String)
                    }
                }
                cluster.check(await cluster.put(others[0], "b", "2"), "the majority keeps accepting writes")
                for id in 1...3 { _ = await cluster.request(id, "POST", "/api/v1/debug/isolate", body: "") }
                _ = await cluster.eventually(15, "the isolated node caught up") {
                    await cluster.get(isolated, "b", stale: true) == "2"
                }
                cluster.check(await cluster.leader(of: 1, askingNode: others[0]) == metaLeader, "meta leader unchanged")
                cluster.check(
                    await cluster.leader(of: kvGroup, askingNode: others[0]) == dataLeader, "data leader unchanged")
                let termsAfter = await cluster.terms(askingNode: others[0])
                cluster.check(termsAfter == termsBefore, "terms unchanged (pre-vote): \(termsBefore) -> \(termsAfter)")
            }
        }

        @Test("1,000 groups on 3 nodes elect leaders and then go quiet")
        func thousandGroupsGoQuiet() async throws {
            try await ProcessCluster.run(nodes: 3, arguments: ["--kv-groups", "1000"]) { cluster in
                guard await cluster.waitForLeaders(groups: 1001, seconds: 60) else { return }
                for id in 1...3 {
                    _ = await cluster.eventually(30, "node \(id): every group quiet") {
                        await cluster.groups(id).allSatisfy { $0["quiet"] as? Bool == true }
                    }
                }
                var usage: [String] = []
                let before = (1...3).map { cpuSeconds(pid: cluster.pid($0)!) }
                let started = Date()
                try await Task.sleep(for: .seconds(3))  // a measurement window, not a wait for a condition
                let elapsed = Date().timeIntervalSince(started)
                for id in 1...3 {
                    let percent = (cpuSeconds(pid: cluster.pid(id)!) - before[id - 1]) / elapsed * 100
                    usage.append(String(format: "node %d %.1f%%", id, percent))
                }
                print("idle CPU with 1,000 groups (debug build): " + usage.joined(separator: ", "))
            }
        }
    }
}

extension ProcessCluster {
    /// Waits until every node reports `groups` groups and every group has a leader.
    func waitForLeaders(groups count: Int, seconds: Double = 30) async -> Bool {
        await eventually(seconds, "\(count) groups with a leader on every node") {
            for id in nodes.keys where nodes[id]!.process != nil {
                let groups = await groups(id)
                guard groups.count == count, groups.allSatisfy({ $0["leader"] is Int }) else { return false }
            }
            return true
        }
    }

    /// The leader of `group` as `node` sees it.
    func leader(of group: Int, askingNode node: Int) async -> Int? {
        await groups(node).first { $0["id"] as? Int == group }?["leader"] as? Int
    }

    /// Every group's term as `node` sees it.
    func terms(askingNode node: Int) async -> [Int: Int] {
        var terms: [Int: Int] = [:]
        for group in await groups(node) { terms[group["id"] as! Int] = group["term"] as? Int }
        return terms
    }
}

/// User + system CPU time of a process, from /proc/PID/stat.
func cpuSeconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command name: state is field 3; utime and stime are fields 14 and 15 (1-based).
    let utime = Double(fields[11]) ?? 0
    let stime = Double(fields[12]) ?? 0
    return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The first key-value test group's id (`NodeIdentity.kvGroupBase`).
let kvGroup = 1 << 40
