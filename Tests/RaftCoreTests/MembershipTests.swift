import Testing

@testable import RaftCore

/// Membership changes with joint consensus (§6, thesis §4.3) and learners.
@Suite struct MembershipTests {
    @Test func addingVoterGoesThroughJointAndLeavesAutomatically() throws {
        var network = try Network(voters: [1, 2, 3], extra: [4])
        network.elect(1)
        try network[1].proposeConfChange(ConfChange([.addVoter(4)]))
        network.stabilize()

        let joint = Membership(voters: [1, 2, 3, 4], outgoingVoters: [1, 2, 3])
        let final = Membership(voters: [1, 2, 3, 4])
        #expect(network.membershipChanges[1]?.suffix(2) == [joint, final])
        for id in network.ids {
            #expect(network[id].membership == final, "member \(id)")
            #expect(network[id].log.committed == network[1].log.lastIndex)
        }
        // The log holds the joint entry, then the empty change that leaves it.
        let changes = network[1].log.entries.compactMap { entry -> ConfChange? in
            if case .confChange(let change) = entry.payload { return change }
            return nil
        }
        #expect(changes.suffix(2) == [ConfChange([.addVoter(4)]), .leaveJoint])
        #expect(network[4].isPromotable)
        try network.propose(1, [1])
        #expect(network.appliedData(4) == [[1]])
    }

    @Test func jointConfigurationNeedsBothMajorities() throws {
        var network = try Network(voters: [1, 2, 3], extra: [4, 5])
        network.elect(1)
        // Neither new member hears anything: the joint entry can commit in the old half only.
        network.isolate(4)
        network.isolate(5)
        try network[1].proposeConfChange(ConfChange([.addVoter(4), .addVoter(5), .remove(2), .remove(3)]))
        network.stabilize()
        #expect(network[1].membership.isJoint, "the joint entry committed, but the leave cannot")
        #expect(network[1].membership.voters == [1, 4, 5])
        let before = network[1].log.committed
        try network.propose(1, [1])
        #expect(network[1].log.committed == before, "{1} alone is no majority of {1, 4, 5}")
        network.heal()
        network.tickAll()
        #expect(network[1].membership == Membership(voters: [1, 4, 5]))
        #expect(network.appliedData(4) == [[1]])
    }

    @Test func onlyOneChangeMayBePending() throws {
        var network = try Network(voters: [1, 2, 3], extra: [4])
        network.elect(1)
        try network[1].proposeConfChange(ConfChange([.addVoter(4)]))
        #expect(throws: RaftError.confChangePending) {
            try network[1].proposeConfChange(ConfChange([.addLearner(5)]))
        }
        // Once the joint entry commits, the automatic leave is the pending change.
        network.stabilize(until: { $0[1].membership.isJoint })
        #expect(throws: RaftError.confChangePending) {
            try network[1].proposeConfChange(ConfChange([.addLearner(5)]))
        }
        network.stabilize()
        #expect(!network[1].membership.isJoint)
        try network[1].proposeConfChange(ConfChange([.addLearner(5)]))
    }

    @Test func invalidChangesAreRefused() throws {
        var leader = try makeLeader(1, voters: [1, 2, 3])
        #expect(throws: RaftError.invalidConfChange(.noVotersLeft)) {
            try leader.proposeConfChange(ConfChange([.remove(1), .remove(2), .remove(3)]))
        }
        #expect(throws: RaftError.invalidConfChange(.notJoint)) { try leader.proposeConfChange(.leaveJoint) }
    }

    @Test func learnersDoNotCountForCommit() throws {
        var network = try Network(voters: [1, 2], learners: [3])
        network.elect(1)
        network.isolate(2)
        let before = network[1].log.committed
        try network.propose(1, [1])
        #expect(network[3].log.lastIndex == network[1].log.lastIndex, "the learner has the entry")
        #expect(network[1].log.committed == before, "but its copy does not count")
        network.heal()
        network.tickAll()
        #expect(network.appliedData(1) == [[1]])
        #expect(network.appliedData(3) == [[1]])
    }

    @Test func learnerDoesNotCampaign() throws {
        var network = try Network(voters: [1, 2], learners: [3])
        network.isolate(1)
        network.isolate(2)
        let term = network[3].term
        for _ in 0..<100 { network[3].tick() }
        network[3].campaign()
        #expect(network[3].role == .follower)
        #expect(network[3].term == term)
        #expect(network[3].drainMessages().isEmpty)
        #expect(!network[3].isPromotable)
    }

    @Test func learnerVotesAreNotNeeded() throws {
        var network = try Network(voters: [1, 2], learners: [3, 4])
        network.elect(1)
        #expect(network.leaders == [1])
        let votes = network.delivered.filter { $0.kind == "vote" || $0.kind == "preVote" }
        #expect(!votes.isEmpty)
        #expect(votes.allSatisfy { $0.to == 2 }, "only voters are asked")
    }

    @Test func learnerIsPromoted() throws {
        var network = try Network(voters: [1, 2, 3], learners: [4])
        network.elect(1)
        try network.propose(1, [1])
        try network[1].proposeConfChange(ConfChange([.addVoter(4)]))
        network.stabilize()
        for id in network.ids { #expect(network[id].membership == Membership(voters: [1, 2, 3, 4])) }
        #expect(network[4].isPromotable)
        // The promoted member can now win an election.
        network.elect(4)
        #expect(network.leaders == [4])
    }

    @Test func removingFollowerStopsReplicationToIt() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        try network[1].proposeConfChange(ConfChange([.remove(3)]))
        network.stabilize()
        #expect(network[1].membership == Membership(voters: [1, 2]))
        #expect(network[1].status.progress[3] == nil)
        // 3 is gone: 1 and 2 commit alone.
        network.isolate(3)
        try network.propose(1, [1])
        #expect(network.appliedData(2) == [[1]])
    }

    @Test func removedLeaderStepsDownAfterChangeCommits() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        let term = network[1].term
        try network[1].proposeConfChange(ConfChange([.remove(1)]))

        // Joint: the leader is still an outgoing voter and keeps leading.
        network.stabilize(until: { $0[1].membership.isJoint })
        #expect(network[1].role == .leader)
        #expect(network[1].membership == Membership(voters: [2, 3], outgoingVoters: [1, 2, 3]))

        network.stabilize()
        #expect(network[1].role == .follower)
        #expect(!network[1].membership.isVoter(1))
        #expect(network.delivered.contains { $0.kind == "timeoutNow" && $0.from == 1 }, "hands over at once")
        let leader = try #require(network.leaders.first)
        #expect([2, 3].contains(leader))
        #expect(network[leader].term > term)
        #expect(network[leader].membership == Membership(voters: [2, 3]))

        // The removed member never campaigns again.
        let before = network[1].term
        network.tick(1, times: 50)
        #expect(network[1].role == .follower)
        #expect(network[1].term == before)
        #expect(!network[1].isPromotable)
    }

    @Test func demotedVoterBecomesLearnerWhenJointIsLeft() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        try network[1].proposeConfChange(ConfChange([.addLearner(3)]))
        network.stabilize(until: { $0[1].membership.isJoint })
        #expect(network[1].membership == Membership(voters: [1, 2], outgoingVoters: [1, 2, 3], learnersNext: [3]))
        network.stabilize()
        #expect(network[1].membership == Membership(voters: [1, 2], learners: [3]))
        // Until it hears from a leader again, a demoted voter may campaign (to hand over entries the new
        // voters could lack); the next heartbeat shows the new configuration works, and it stops.
        network.tick(1, times: 2)
        network.stabilize()
        #expect(!network[3].isPromotable)
    }

    @Test func restartReappliesCommittedChanges() throws {
        var network = try Network(voters: [1, 2, 3], extra: [4])
        network.elect(1)
        try network[1].proposeConfChange(ConfChange([.addVoter(4)]))
        network.stabilize()
        let node = network[2]
        let restarted = try RaftNode(
            config: node.config,
            restoring: PersistentState(
                hardState: HardState(term: node.term, vote: node.vote, commit: node.log.committed),
                snapshot: node.log.snapshot, entries: node.log.entries))
        #expect(restarted.membership == Membership(voters: [1, 2, 3, 4]))
    }
}
