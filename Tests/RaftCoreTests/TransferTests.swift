import Testing

@testable import RaftCore

/// Leadership transfer (thesis §3.10).
@Suite struct TransferTests {
    /// Default config: pre-vote and check-quorum on, so the transfer must get past the voters' leases.
    private func network() throws -> Network {
        var network = try Network(voters: [1, 2, 3]) {
            $0.preVote = true
            $0.checkQuorum = true
        }
        network.elect(1)
        return network
    }

    @Test func transferToCaughtUpTargetSendsTimeoutNowAndTargetWins() throws {
        var network = try network()
        let term = network[1].term
        try network[1].transferLeadership(to: 2)
        #expect(network[1].leadTransferee == 2)
        #expect(throws: RaftError.transferInProgress) { try network[1].propose([1]) }
        #expect(throws: RaftError.transferInProgress) { try network[1].propose(batch: [[1]]) }
        #expect(throws: RaftError.transferInProgress) {
            try network[1].proposeConfChange(ConfChange([.addLearner(4)]))
        }
        let ready = network.process(1)
        #expect(ready.messages.map(\.kind) == ["timeoutNow"])
        #expect(ready.messages.first?.to == 2)

        network.stabilize()
        #expect(network.leaders == [2])
        #expect(network[2].term == term.next)
        #expect(network[1].role == .follower)
        #expect(network[1].leader == 2)
        #expect(throws: RaftError.notLeader(leaderHint: 2)) { try network[1].propose([1]) }
        try network.propose(2, [9])
        for id in network.ids { #expect(network.appliedData(id) == [[9]]) }
    }

    @Test func transferToLaggingTargetCatchesItUpFirst() throws {
        var network = try network()
        network.isolate(3)
        try network.propose(1, [1])
        try network.propose(1, [2])
        network.heal()
        try network[1].transferLeadership(to: 3)
        let ready = network.process(1)
        #expect(!ready.messages.contains { $0.kind == "timeoutNow" }, "3 lacks entries: replicate first")
        // A heartbeat round unpauses the probe to 3, which then catches up.
        network.tickAll()
        #expect(network.leaders == [3])
        #expect(network.appliedData(3) == [[1], [2]])
        let timeoutNow = network.delivered.firstIndex { $0.kind == "timeoutNow" }
        let lastAppendTo3 = network.delivered.lastIndex { $0.kind == "append" && $0.to == 3 && $0.from == 1 }
        if let timeoutNow, let lastAppendTo3 { #expect(lastAppendTo3 < timeoutNow) }
    }

    @Test func transferTimesOutAfterElectionTimeout() throws {
        var network = try network()
        network.dropFilter = { $0.kind == "timeoutNow" }
        try network[1].transferLeadership(to: 2)
        network.stabilize()
        #expect(throws: RaftError.transferInProgress) { try network[1].propose([1]) }
        network.tickAll(times: 10)
        #expect(network.leaders == [1])
        #expect(network[1].leadTransferee == nil)
        try network.propose(1, [1])
        #expect(network.appliedData(2) == [[1]])
    }

    @Test func invalidTransfersAreRefused() throws {
        var network = try Network(voters: [1, 2, 3], learners: [4])
        network.elect(1)
        #expect(throws: RaftError.notAVoter(4)) { try network[1].transferLeadership(to: 4) }
        #expect(throws: RaftError.notAVoter(9)) { try network[1].transferLeadership(to: 9) }
        #expect(throws: RaftError.notLeader(leaderHint: 1)) { try network[2].transferLeadership(to: 3) }
        try network[1].transferLeadership(to: 1)
        #expect(network[1].leadTransferee == nil, "a transfer to itself is a no-op")
        try network.propose(1, [1])
    }

    @Test func timeoutNowBypassesVoterLease() throws {
        // Without the transfer flag, a campaign is ignored by members that hear from the leader.
        var network = try network()
        let term = network[1].term
        network[2].campaign(.election)
        network.stabilize()
        #expect(network.leaders == [1])
        #expect(network[3].term == term, "3 ignored the higher-term vote request")

        var fresh = try self.network()
        fresh.deliver(msg(1, 3, term: fresh[1].term.rawValue, .timeoutNow))
        fresh.stabilize()
        #expect(fresh.leaders == [3])
    }

    @Test func followerIgnoresTimeoutNowAsLearner() throws {
        var network = try Network(voters: [1, 2], learners: [3])
        network.elect(1)
        network.deliver(msg(1, 3, term: network[1].term.rawValue, .timeoutNow))
        network.stabilize()
        #expect(network.leaders == [1])
        #expect(network[3].role == .follower)
    }
}
