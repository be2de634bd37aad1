import Foundation
import MultiRaft
import RaftCore
import Testing

@Suite("Replica incarnations")
struct IncarnationTests {
    /// Sets, on `host`, the incarnations of group 1's replicas: `own` for itself, `members` for everyone.
    static func setIncarnations(_ host: MultiRaftHost, own: UInt64, members: [NodeID: UInt64]) async {
        await host.onLoopThread { host.setIncarnationsFromLoopThread(GroupID(1), own: own, members: members) }
    }

    @Test("a replica destroyed and created again on the same node is a new member: it gets the whole log")
    func recreatedReplicaCatchesUp() async throws {
        let group = GroupID(1)
        let cluster = try HostCluster(nodes: 3, groups: [group])
        defer { cluster.shutdown() }
        var members: [NodeID: UInt64] = [NodeID(1): 11, NodeID(2): 12, NodeID(3): 13]
        for id in cluster.ids { await Self.setIncarnations(cluster.hosts[id]!, own: members[id]!, members: members) }
        for k in 0..<20 { try await cluster.put("k\(k)", "\(k)", group: group, via: NodeID(1)) }
        #expect(try await cluster.get("k19", group: group, via: NodeID(3)) == "19")
        // Node 1 leads (a new leader would start every member's progress over anyway).
        try await cluster.administer(.transferLeadership(NodeID(1)), group: group, via: NodeID(1))
        try await cluster.put("led", "by 1", group: group, via: NodeID(1))
        #expect(await cluster.hosts[NodeID(1)]!.isLeader(of: group))

        // Node 3's replica is destroyed and an empty one takes its place (a vnode moved away and back); the
        // leader still counts node 3 as a voter whose log matched through the last entry.
        let third = cluster.hosts[NodeID(3)]!
        await third.removeGroup(group)
        await third.ensureGroup(group, membership: .empty)
        members[NodeID(3)] = 23
        for id in cluster.ids { await Self.setIncarnations(cluster.hosts[id]!, own: members[id]!, members: members) }
        try await cluster.put("after", "yes", group: group, via: NodeID(1))

        var caughtUp = false
        for _ in 0..<500 {  // polls a condition on a real clock, up to ~10 s
            let value = try? await cluster.get("after", group: group, via: NodeID(3), linearizable: false)
            if value == "yes" {
                caughtUp = true
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(caughtUp, "the new replica on node 3 never received the entries its predecessor held")
        #expect(try await cluster.get("k0", group: group, via: NodeID(3), linearizable: false) == "0")
    }

    @Test("messages from an incarnation other than the one meta places are dropped")
    func staleIncarnationIsDropped() async throws {
        let group = GroupID(1)
        let cluster = try HostCluster(nodes: 3, groups: [group])
        defer { cluster.shutdown() }
        try await cluster.put("a", "1", group: group, via: NodeID(1))
        // Nodes 1 and 2 expect node 3's replica to be incarnation 99; node 3 sends as 13.
        let expected: [NodeID: UInt64] = [NodeID(1): 11, NodeID(2): 12, NodeID(3): 99]
        await Self.setIncarnations(cluster.hosts[NodeID(1)]!, own: 11, members: expected)
        await Self.setIncarnations(cluster.hosts[NodeID(2)]!, own: 12, members: expected)
        await Self.setIncarnations(cluster.hosts[NodeID(3)]!, own: 13, members: [NodeID(1): 11, NodeID(2): 12])
        cluster.stop(NodeID(2))
        // With node 2 down, only node 3 could make a majority with node 1, and its messages are not counted.
        await #expect(throws: HostError.self) {
            _ = try await cluster.hosts[NodeID(1)]!.propose(
                KeyValueMachine.setCommand(key: "b", value: [2]), to: group, timeoutMilliseconds: 1_500)
        }
    }
}
