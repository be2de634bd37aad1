import Foundation
import MultiRaft
import RaftCore
import RaftWire
import Testing

/// Membership steps are decided by the group's leader alone, from its committed configuration.
@Suite struct AdministrationJudgeTests {
    @Test("an empty new replica does not report the removal of a member as done; only the leader decides")
    func emptyReplicaDoesNotJudge() async throws {
        let group = GroupID(7)
        let cluster = try HostCluster(nodes: 4, groups: [group], voters: 3)
        defer { cluster.shutdown() }
        let (three, four) = (NodeID(3), NodeID(4))
        try await cluster.put("k", "v", group: group, via: NodeID(1))
        // Node 4 hosts an empty replica (a vnode being added): it knows no membership yet, so node 3 is not in it.
        await cluster.hosts[four]!.ensureGroup(group, membership: .empty)
        do {
            try await cluster.hosts[four]!.administer(
                .remove(three), group: group, via: four, timeoutMilliseconds: 2_000)
            Issue.record("the empty replica reported 'remove node 3' as done")
        } catch HostError.noLeader {
            // The caller is sent on to the leader.
        }
        let summary = try #require(await cluster.summaries(NodeID(1)).first)
        #expect(summary.voters.contains(three), "node 3 is still a voter")
        // Through the leader, the same step is carried out and then reported as done.
        try await cluster.administer(.remove(three), group: group, via: NodeID(1))
        try await cluster.eventually(on: NodeID(1)) { !$0.voters.contains(three) }
    }
}
