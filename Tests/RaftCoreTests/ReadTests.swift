import Testing

@testable import RaftCore

/// Linearizable reads (thesis §6.4): ReadIndex and leases.
@Suite struct ReadTests {
    /// A leader of {1, 2, 3} whose no-op member 2 acknowledged (committed in its term), drained.
    private func committedLeader(config: RaftConfig = testConfig(1)) throws -> RaftNode {
        var leader = try makeLeader(1, voters: [1, 2, 3], config: config)
        leader.step(msg(2, 1, term: 1, .appendResponse(AppendResponse(index: 1))))
        _ = leader.drainMessages()
        #expect(leader.log.committed == 1)
        return leader
    }

    @Test func readIndexWaitsForHeartbeatQuorum() throws {
        var leader = try committedLeader()
        try leader.readIndex(context: 7)
        let ready = leader.drain()
        #expect(ready.readStates.isEmpty, "no read before a quorum confirms leadership")
        let heartbeats = ready.messages.filter { $0.kind == "heartbeat" }
        #expect(heartbeats.map(\.to) == [2, 3])
        guard case .heartbeat(let heartbeat) = heartbeats.first?.body else { return }

        // Member 2 answers: with the leader that is a quorum.
        leader.step(msg(2, 1, term: 1, .heartbeatResponse(heartbeat.context)))
        #expect(leader.drain().readStates == [ReadState(context: 7, index: 1)])
    }

    @Test func staleHeartbeatAnswerDoesNotConfirmANewerRead() throws {
        var leader = try committedLeader()
        leader.tick()
        let first = leader.drain().messages.compactMap { message -> HeartbeatContext? in
            if case .heartbeat(let heartbeat) = message.body { return heartbeat.context }
            return nil
        }
        let oldContext = try #require(first.first)
        try leader.readIndex(context: 8)
        _ = leader.drain()
        leader.step(msg(2, 1, term: 1, .heartbeatResponse(oldContext)))
        leader.step(msg(3, 1, term: 1, .heartbeatResponse(oldContext)))
        #expect(leader.drain().readStates.isEmpty, "answers to a round sent before the read prove nothing")
    }

    @Test func readIndexWaitsForCommitInLeadersTerm() throws {
        var leader = try makeLeader(1, voters: [1, 2, 3])
        #expect(leader.log.committed == 0)
        try leader.readIndex(context: 9)
        let ready = leader.drain()
        #expect(ready.readStates.isEmpty)
        #expect(!ready.messages.contains { $0.kind == "heartbeat" }, "no round before the term's first commit")

        leader.step(msg(2, 1, term: 1, .appendResponse(AppendResponse(index: 1))))
        let afterCommit = leader.drain()
        #expect(afterCommit.readStates.isEmpty)
        let heartbeat = try #require(afterCommit.messages.first { $0.kind == "heartbeat" && $0.to == 3 })
        guard case .heartbeat(let body) = heartbeat.body else { return }
        leader.step(msg(3, 1, term: 1, .heartbeatResponse(body.context)))
        #expect(leader.drain().readStates == [ReadState(context: 9, index: 1)])
    }

    @Test func singleVoterServesReadAtOnce() throws {
        var node = try newNode(testConfig(1), voters: [1])
        node.campaign()
        _ = node.drainMessages()
        #expect(node.role == .leader && node.log.committed == 1)
        try node.readIndex(context: 3)
        #expect(node.drain().readStates == [ReadState(context: 3, index: 1)])
    }

    @Test func followerReadIsForwardedToLeader() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        try network.propose(1, [1])
        let commit = network[1].log.committed
        try network[2].readIndex(context: 11)
        network.stabilize()
        #expect(network.readStates[2] == [ReadState(context: 11, index: commit)])
        #expect(network.readStates[1, default: []].isEmpty)
    }

    @Test func readWithoutKnownLeaderIsRefused() throws {
        var node = try newNode(testConfig(1), voters: [1, 2, 3])
        #expect(throws: RaftError.notLeader(leaderHint: nil)) { try node.readIndex(context: 1) }
    }

    @Test func readIndexIsNotConfirmedByMinority() throws {
        var network = try Network(voters: [1, 2, 3, 4, 5])
        network.elect(1)
        network.isolate(3)
        network.isolate(4)
        network.isolate(5)
        try network[1].readIndex(context: 1)
        network.stabilize()
        #expect(network.readStates[1, default: []].isEmpty)
        network.heal()
        network.tickAll()
        #expect(network.readStates[1, default: []].map(\.context) == [1])
    }

    // MARK: Leases

    private func leaseNetwork() throws -> Network {
        var network = try Network(voters: [1, 2, 3]) {
            $0.checkQuorum = true
            $0.preVote = true
            $0.readMode = .lease(clockDriftTicks: 2)
        }
        network.elect(1)
        // One acknowledged heartbeat round starts the lease.
        network.tick(1)
        return network
    }

    @Test func leaseReadIsServedImmediately() throws {
        var network = try leaseNetwork()
        try network[1].readIndex(context: 5)
        let ready = network.process(1)
        #expect(ready.readStates == [ReadState(context: 5, index: network[1].log.committed)])
        #expect(!ready.messages.contains { $0.kind == "heartbeat" }, "a lease read needs no heartbeat round")
    }

    @Test func leaseReadFallsBackToHeartbeatsWithoutAcknowledgement() throws {
        var network = try Network(voters: [1, 2, 3]) {
            $0.checkQuorum = true
            $0.readMode = .lease(clockDriftTicks: 2)
        }
        network.elect(1)
        try network[1].readIndex(context: 5)
        let ready = network.process(1)
        #expect(ready.readStates.isEmpty, "no heartbeat acknowledged yet: no lease")
        #expect(ready.messages.contains { $0.kind == "heartbeat" })
        network.stabilize()
        #expect(network.readStates[1]?.map(\.context) == [5])
    }

    @Test func leaseExpiresWithoutAcknowledgements() throws {
        var network = try leaseNetwork()
        network.isolate(2)
        network.isolate(3)
        // The lease lasts electionTicks - clockDriftTicks = 8 ticks from the acknowledged heartbeat.
        network.tick(1, times: 8)
        #expect(network[1].role == .leader, "check-quorum has not stepped it down yet")
        try network[1].readIndex(context: 6)
        let ready = network.process(1)
        #expect(ready.readStates.isEmpty)
        #expect(ready.messages.contains { $0.kind == "heartbeat" })
    }

    @Test func leaseIsOffAfterTransferStarts() throws {
        var network = try leaseNetwork()
        // Member 2 is caught up: TimeoutNow goes out at once (and is lost here).
        network.isolate(2)
        try network[1].transferLeadership(to: 2)
        try network[1].readIndex(context: 1)
        var ready = network.process(1)
        #expect(ready.readStates.isEmpty, "a transfer may elect a new leader inside the lease")
        #expect(ready.messages.contains { $0.kind == "timeoutNow" })
        network.stabilize()

        // The transfer times out; the lease stays off for the rest of the term.
        network.heal()
        network.tick(1, times: 10)
        #expect(network[1].leadTransferee == nil)
        #expect(network[1].role == .leader)
        try network[1].readIndex(context: 2)
        ready = network.process(1)
        #expect(ready.readStates.isEmpty)
        #expect(ready.messages.contains { $0.kind == "heartbeat" })
        network.stabilize()
        #expect(network.readStates[1, default: []].map(\.context).contains(2), "served by ReadIndex instead")
    }
}
