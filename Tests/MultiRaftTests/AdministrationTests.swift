import Foundation
import MultiRaft
import RaftCore
import RaftWire
import Testing

/// Membership and leadership operations through the host (what the replica commands build on), and the
/// destruction of a replica.
@Suite struct AdministrationTests {
    @Test("a fourth node joins as a learner, catches up, becomes a voter, takes the lead; a founder leaves")
    func addPromoteTransferRemove() async throws {
        let group = GroupID(7)
        let cluster = try HostCluster(nodes: 4, groups: [group], voters: 3)
        defer { cluster.shutdown() }
        let (one, two, four) = (NodeID(1), NodeID(2), NodeID(4))
        for k in 0..<20 { try await cluster.put("k\(k)", "\(k)", group: group, via: one) }
        #expect(await cluster.summaries(four).isEmpty, "node 4 starts without the group")

        await cluster.hosts[four]!.ensureGroup(group, membership: .empty)
        try await cluster.administer(.addLearner(four), group: group, via: one)
        #expect(try await cluster.get("k19", group: group, via: four, linearizable: false) == "19", "caught up")
        let learner = try #require(await cluster.summaries(four).first)
        #expect(learner.learners.contains(four) && !learner.voters.contains(four))

        try await cluster.administer(.promote(four), group: group, via: one)
        try await cluster.eventually(on: four) { $0.voters == [1, 2, 3, 4] && $0.learners.isEmpty }

        try await cluster.administer(.transferLeadership(four), group: group, via: one)
        try await cluster.eventually(on: one) { $0.leader == four }

        try await cluster.administer(.remove(one), group: group, via: two)
        try await cluster.eventually(on: four) { $0.voters == [2, 3, 4] }
        await cluster.hosts[one]!.removeGroup(group)
        #expect(await cluster.summaries(one).isEmpty)
        try await cluster.put("after", "yes", group: group, via: two)
        #expect(try await cluster.get("after", group: group, via: four) == "yes")

        // The destruction is durable: a restarted node 1 does not bring the group back.
        cluster.stop(one)
        cluster.founding = [:]  // (a founding list would create the group anew, as on a first start)
        try cluster.start(one)
        #expect(await cluster.summaries(one).isEmpty)
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(cluster.root)/node1/snapshots")
        #expect(files.isEmpty, "no snapshot file of the destroyed group is left: \(files)")
    }

    @Test("a replica destroyed and created anew at once starts clean, also across a restart")
    func removedAndAddedBack() async throws {
        let group = GroupID(9)
        let cluster = try HostCluster(nodes: 3, groups: [group]) { $0.snapshotEveryEntries = 5 }
        defer { cluster.shutdown() }
        for k in 0..<30 { try await cluster.put("k\(k)", "old", group: group, via: NodeID(1)) }
        let leader = try #require(await cluster.summaries(NodeID(1)).first?.leader)
        let member = [NodeID(1), NodeID(2), NodeID(3)].first { $0 != leader }!
        try await cluster.administer(.remove(member), group: group, via: leader)
        // Destroyed and created anew in one loop round: the old replica's snapshot files must go with it (the
        // new replica would otherwise find them, offer them, and restore them after a restart).
        let snapshotDirectory = "\(cluster.root)/node\(member)/snapshots"
        let oldFiles = try FileManager.default.contentsOfDirectory(atPath: snapshotDirectory)
        #expect(!oldFiles.isEmpty, "the old replica wrote snapshots (one every 5 entries)")
        let host = cluster.hosts[member]!
        await host.onLoopThread {
            host.removeGroupFromLoopThread(group)
            host.ensureGroupFromLoopThread(group, membership: .empty)
        }
        await host.onLoopThread {}  // the next round appended the removeGroup record and deleted the files
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: snapshotDirectory)).intersection(oldFiles)
        #expect(left.isEmpty, "old snapshot files left beside the new replica: \(left)")
        try await cluster.administer(.addLearner(member), group: group, via: leader, attempts: 2)
        try await cluster.administer(.promote(member), group: group, via: leader)
        for k in 0..<30 { try await cluster.put("k\(k)", "new", group: group, via: leader) }
        cluster.stop(member)
        cluster.founding = [:]
        try cluster.start(member)
        try await cluster.put("after", "restart", group: group, via: leader)
        #expect(try await cluster.get("after", group: group, via: member) == "restart")
        #expect(try await cluster.get("k7", group: group, via: member, linearizable: false) == "new")
        let sums = [await cluster.summaries(leader).first?.checksum, await cluster.summaries(member).first?.checksum]
        #expect(sums[0] != nil && sums[0] == sums[1], "the replicas agree: \(sums)")
    }

    @Test("impossible operations are refused with a reason; a follower answers with its leader")
    func refusals() async throws {
        let group = GroupID(3)
        let cluster = try HostCluster(nodes: 3, groups: [group])
        defer { cluster.shutdown() }
        try await cluster.put("a", "1", group: group, via: NodeID(1))
        let leader = try #require(await cluster.summaries(NodeID(1)).first?.leader)
        let follower = [NodeID(1), NodeID(2), NodeID(3)].first { $0 != leader }!
        await #expect(throws: HostError.noLeader(group, leaderHint: leader)) {
            try await cluster.hosts[follower]!.administer(.remove(NodeID(3)), group: group, via: follower)
        }
        await #expect(throws: HostError.rejected(group, .notMember(NodeID(9)))) {
            try await cluster.hosts[leader]!.administer(.promote(NodeID(9)), group: group, via: leader)
        }
        await #expect(throws: HostError.rejected(group, .notVoter(NodeID(9)))) {
            try await cluster.hosts[leader]!.administer(.transferLeadership(NodeID(9)), group: group, via: leader)
        }
    }
}

extension HostCluster {
    /// Polls `id`'s first group summary until `condition` holds or ~10 s pass.
    func eventually(on id: NodeID, _ condition: (GroupSummary) -> Bool) async throws {
        for _ in 0..<500 {
            if let summary = await summaries(id).first, condition(summary) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("node \(id) never reached the expected state: \(String(describing: await summaries(id).first))")
    }
}

/// A leader asked to remove itself.
@Suite struct SelfRemovalTests {
    @Test("a leader asked to remove itself hands leadership over first; the others go on without it")
    func leaderRemovesItself() async throws {
        let group = GroupID(11)
        for round in 0..<3 {
            let cluster = try HostCluster(nodes: 2, groups: [group], voters: 2)
            defer { cluster.shutdown() }
            try await cluster.put("before", "\(round)", group: group, via: NodeID(1))
            let leader = try #require(await cluster.summaries(NodeID(1)).first?.leader)
            let other = leader == NodeID(1) ? NodeID(2) : NodeID(1)
            try await cluster.administer(.remove(leader), group: group, via: leader)
            // Destroyed the moment the removal is reported done, as REPLICA REMOVE does.
            await cluster.hosts[leader]!.removeGroup(group)
            try await cluster.eventually(on: other) { $0.voters == [other] && $0.leader == other }
            try await cluster.put("after", "yes", group: group, via: other)
            #expect(try await cluster.get("after", group: group, via: other) == "yes")
        }
    }
}
