import Testing

@testable import RaftCore

/// Proposals at followers (refusal with a hint, forwarding) and the leader's size limits.
@Suite struct ProposalTests {
    @Test func followerRefusesWithLeaderHint() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        #expect(throws: RaftError.notLeader(leaderHint: 1)) { try network[2].propose([1]) }
        #expect(throws: RaftError.notLeader(leaderHint: 1)) { try network[2].propose(batch: [[1]]) }
        #expect(throws: RaftError.notLeader(leaderHint: 1)) {
            try network[2].proposeConfChange(ConfChange([.addLearner(4)]))
        }
    }

    @Test func memberWithoutLeaderRefusesWithoutHint() throws {
        var node = try newNode(testConfig(1), voters: [1, 2, 3])
        #expect(throws: RaftError.notLeader(leaderHint: nil)) { try node.propose([1]) }
        node.campaign()
        #expect(throws: RaftError.notLeader(leaderHint: nil)) { try node.propose([1]) }
    }

    @Test func followerForwardsProposalsWhenConfigured() throws {
        var network = try Network(voters: [1, 2, 3]) { $0.forwardProposalsToLeader = true }
        network.elect(1)
        let outcome = try network[2].propose([5])
        #expect(outcome == .forwarded(to: 1))
        let batch = try network[3].propose(batch: [[6], [7]])
        #expect(batch == .forwarded(to: 1))
        network.stabilize()
        #expect(network.delivered.contains { $0.kind == "forwardedProposals" && $0.to == 1 })
        for id in network.ids { #expect(network.appliedData(id) == [[5], [6], [7]]) }
    }

    @Test func candidateDoesNotForward() throws {
        var node = try newNode(testConfig(1) { $0.forwardProposalsToLeader = true }, voters: [1, 2, 3])
        node.campaign()
        #expect(throws: RaftError.notLeader(leaderHint: nil)) { try node.propose([1]) }
    }

    @Test func leaderDropsForwardedMembershipChanges() throws {
        var leader = try makeLeader()
        let before = leader.log.lastIndex
        leader.step(msg(2, 1, term: 1, .forwardedProposals([.confChange(ConfChange([.remove(3)])), .data([1])])))
        #expect(leader.log.lastIndex == before + 1)
        #expect(leader.log.entries.last?.data == [1])
    }

    @Test func entryTooLargeIsRefused() throws {
        var leader = try makeLeader(config: testConfig(1) { $0.maxMessageBytes = 8 })
        let before = leader.log.lastIndex
        #expect(throws: RaftError.entryTooLarge(bytes: 9, limit: 8)) {
            try leader.propose(Array(repeating: 0, count: 9))
        }
        #expect(throws: RaftError.entryTooLarge(bytes: 9, limit: 8)) {
            try leader.propose(batch: [[1], Array(repeating: 0, count: 9)])
        }
        #expect(leader.log.lastIndex == before, "a refused batch appends nothing")
        try leader.propose(Array(repeating: 0, count: 8))
        #expect(leader.log.lastIndex == before + 1)
    }

    @Test func uncommittedLimitRefusesUntilCommitted() throws {
        var network = try Network(voters: [1, 2, 3]) { $0.maxUncommittedBytes = 10 }
        network.elect(1)
        network.isolate(2)
        network.isolate(3)
        try network.propose(1, Array(repeating: 1, count: 6))
        #expect(throws: RaftError.uncommittedLimitExceeded(limit: 10)) {
            try network[1].propose(Array(repeating: 2, count: 6))
        }
        try network.propose(1, Array(repeating: 3, count: 4))
        #expect(throws: RaftError.uncommittedLimitExceeded(limit: 10)) { try network[1].propose([4]) }

        network.heal()
        network.tickAll()
        #expect(network.appliedData(1) == [Array(repeating: 1, count: 6), Array(repeating: 3, count: 4)])
        try network.propose(1, Array(repeating: 5, count: 6))
        #expect(network.appliedData(1).last == Array(repeating: 5, count: 6))
    }

    @Test func oneEntryAboveUncommittedLimitIsAcceptedWhenNothingIsPending() throws {
        var leader = try makeLeader(config: testConfig(1) { $0.maxUncommittedBytes = 4 })
        // Without this, an entry larger than the limit could never be proposed.
        try leader.propose(Array(repeating: 0, count: 6))
        #expect(throws: RaftError.uncommittedLimitExceeded(limit: 4)) { try leader.propose([1]) }
    }

    @Test func invalidConfigIsRefused() {
        #expect(throws: RaftConfigError.self) { try RaftNode(config: RaftConfig(id: 0), membership: .empty) }
        #expect(throws: RaftConfigError.self) {
            try RaftNode(config: testConfig(1, electionTicks: 1, heartbeatTicks: 1), membership: .empty)
        }
        #expect(throws: RaftConfigError.self) {
            try RaftNode(config: testConfig(1) { $0.readMode = .lease(clockDriftTicks: 1) }, membership: .empty)
        }
        #expect(throws: RaftConfigError.self) {
            try RaftNode(
                config: testConfig(1, checkQuorum: true) { $0.readMode = .lease(clockDriftTicks: 10) },
                membership: .empty)
        }
        #expect(throws: Never.self) {
            try RaftNode(
                config: testConfig(1, checkQuorum: true) { $0.readMode = .lease(clockDriftTicks: 2) },
                membership: .empty)
        }
    }
}
