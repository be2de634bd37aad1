import Testing

@testable import RaftCore

/// Leader election: §5.1, §5.2 and §5.4.1 of the Raft paper, pre-vote (thesis §9.6) and check-quorum.
@Suite struct ElectionTests {
    // MARK: §5.1 terms

    @Test func startsAsFollower() throws {
        var node = try RaftNode(config: testConfig(1), membership: Membership(voters: [1, 2, 3]))
        #expect(node.role == .follower)
        #expect(node.leader == nil)
        #expect(node.vote == nil)
        #expect(node.drainMessages().isEmpty)
        var blank = try newNode(testConfig(1), voters: [1, 2, 3])
        #expect(blank.role == .follower)
        #expect(blank.term == .zero)
        #expect(blank.drainMessages().isEmpty)
    }

    @Test func restartKeepsTermAndVoteAndStartsAsFollower() throws {
        let node = try restoredNode(testConfig(1), voters: [1, 2, 3], terms: [1, 2], term: 4, vote: 3)
        #expect(node.role == .follower)
        #expect(node.term == 4)
        #expect(node.vote == 3)
    }

    @Test(arguments: [Role.follower, .candidate, .leader])
    func higherTermAppendMakesFollowerOfThatTerm(start: Role) throws {
        var node = try nodeIn(role: start)
        #expect(node.role == start)
        node.step(msg(2, 1, term: 5, .append(AppendEntries(prevIndex: 0, prevTerm: 0, entries: [], commit: 0))))
        #expect(node.term == 5)
        #expect(node.role == .follower)
        #expect(node.leader == 2)
        #expect(node.vote == nil)
    }

    @Test(arguments: [Role.follower, .candidate, .leader])
    func higherTermVoteRequestMakesFollowerOfThatTerm(start: Role) throws {
        var node = try nodeIn(role: start)
        node.step(msg(3, 1, term: 5, .vote(VoteRequest(preVote: false, lastIndex: 10, lastTerm: 4))))
        #expect(node.term == 5)
        #expect(node.role == .follower)
        #expect(node.leader == nil)
        #expect(node.vote == 3, "an up-to-date candidate of a new term gets the vote")
        let ready = node.drain()
        #expect(ready.hardState?.term == 5)
        #expect(ready.hardState?.vote == 3)
    }

    @Test func leaderStepsDownOnHigherTermResponse() throws {
        var leader = try makeLeader()
        leader.step(msg(2, 1, term: 7, .appendResponse(AppendResponse(index: 0))))
        #expect(leader.role == .follower)
        #expect(leader.term == 7)
        #expect(throws: RaftError.notLeader(leaderHint: nil)) { try leader.propose([1]) }
    }

    @Test func staleTermMessagesAreIgnored() throws {
        var node = try restoredNode(testConfig(1), voters: [1, 2, 3], terms: [1, 1], term: 3)
        let stale = AppendEntries(prevIndex: 2, prevTerm: 1, entries: makeEntries(terms: [2], first: 3), commit: 3)
        node.step(msg(2, 1, term: 2, .append(stale)))
        node.step(msg(3, 1, term: 2, .vote(VoteRequest(preVote: false, lastIndex: 9, lastTerm: 2))))
        node.step(msg(2, 1, term: 2, .heartbeat(Heartbeat(commit: 2, context: HeartbeatContext(round: 1, sentAt: 1)))))
        #expect(node.term == 3)
        #expect(node.log.lastIndex == 2)
        #expect(node.log.committed == 0)
        #expect(node.leader == nil)
        #expect(node.vote == nil)
        // Plain Raft: the stale messages are dropped without an answer.
        #expect(node.drainMessages().isEmpty)
    }

    @Test func staleLeaderIsToldTheNewTermWithCheckQuorum() throws {
        var node = try restoredNode(testConfig(1, checkQuorum: true), voters: [1, 2, 3], terms: [1], term: 3)
        node.step(msg(2, 1, term: 2, .append(AppendEntries(prevIndex: 1, prevTerm: 1, entries: [], commit: 1))))
        let messages = node.drainMessages()
        #expect(messages.count == 1)
        #expect(messages.first?.to == 2)
        #expect(messages.first?.term == 3)
        #expect(messages.first?.kind == "appendResponse")
        #expect(node.log.committed == 0, "the stale leader's commit index is not taken")

        // The stale leader hears the newer term and steps down.
        var stale = try makeLeader(2)
        for message in messages { stale.step(message) }
        #expect(stale.role == .follower)
        #expect(stale.term == 3)
    }

    // MARK: §5.2 leader election

    @Test func leaderBroadcastsHeartbeatOnTick() throws {
        var leader = try makeLeader(1, voters: [1, 2, 3])
        leader.tick()
        let messages = leader.drainMessages()
        #expect(messages.map(\.kind) == ["heartbeat", "heartbeat"])
        #expect(Set(messages.map(\.to)) == [2, 3])
        #expect(messages.allSatisfy { $0.term == leader.term && $0.from == 1 })
    }

    @Test func leaderHeartbeatFollowsHeartbeatTicks() throws {
        var leader = try makeLeader(1, voters: [1, 2, 3], config: testConfig(1, heartbeatTicks: 3))
        leader.tick()
        leader.tick()
        #expect(leader.drainMessages().isEmpty)
        leader.tick()
        #expect(leader.drainMessages().map(\.kind) == ["heartbeat", "heartbeat"])
    }

    @Test func followerStartsElectionAfterTimeout() throws {
        var node = try newNode(testConfig(1), voters: [1, 2, 3])
        let ticks = node.ticksUntilRoleChanges()
        #expect((10..<20).contains(ticks))
        #expect(node.role == .candidate)
        #expect(node.term == 1)
        #expect(node.vote == 1)
        let ready = node.drain()
        #expect(ready.hardState == HardState(term: 1, vote: 1, commit: 0))
        #expect(ready.messages.map(\.to) == [2, 3])
        #expect(ready.messages.allSatisfy { $0.term == 1 && $0.kind == "vote" })
    }

    @Test func candidateRestartsElectionAfterTimeout() throws {
        var node = try newNode(testConfig(1), voters: [1, 2, 3])
        _ = node.ticksUntilRoleChanges()
        _ = node.drainMessages()
        #expect(node.role == .candidate && node.term == 1)
        var ticks = 0
        while node.term == 1 && ticks < 100 {
            node.tick()
            ticks += 1
        }
        #expect((10..<20).contains(ticks))
        #expect(node.role == .candidate)
        #expect(node.term == 2)
        #expect(node.vote == 1)
        #expect(node.drainMessages().filter { $0.kind == "vote" && $0.term == 2 }.map(\.to) == [2, 3])
    }

    @Test func electionTimeoutsAreRandomizedWithinRange() throws {
        var timeouts: [Int] = []
        for seed in UInt64(0)..<30 {
            var node = try newNode(testConfig(1, seed: seed), voters: [1, 2, 3])
            timeouts.append(node.ticksUntilRoleChanges())
        }
        #expect(timeouts.allSatisfy { (10..<20).contains($0) })
        #expect(Set(timeouts).count > 3, "timeouts should spread over the range, got \(timeouts)")
    }

    @Test func membersOfOneGroupHaveDistinctTimeouts() throws {
        let voters: Set<NodeID> = [1, 2, 3, 4, 5]
        var timeouts: [NodeID: Int] = [:]
        for id in voters {
            var node = try newNode(testConfig(id), voters: voters)
            timeouts[id] = node.ticksUntilRoleChanges()
        }
        #expect(Set(timeouts.values).count > 1, "same seed, different ids must not share a timeout: \(timeouts)")
    }

    @Test func timeoutIsRedrawnAfterEachElection() throws {
        var node = try newNode(testConfig(1), voters: [1, 2, 3])
        var timeouts: [Int] = []
        for _ in 0..<10 {
            timeouts.append(node.ticksUntilRoleChanges())
            node.becomeFollower(term: node.term, leader: nil)
        }
        #expect(Set(timeouts).count > 1, "every election should draw a new timeout: \(timeouts)")
    }

    struct ElectionCase: Sendable, CustomTestStringConvertible {
        var size: UInt64
        var granted: [NodeID]
        var rejected: [NodeID]
        var expected: Role
        var testDescription: String { "\(size) voters, yes \(granted), no \(rejected) -> \(expected)" }
    }

    @Test(arguments: [
        ElectionCase(size: 1, granted: [], rejected: [], expected: .leader),
        ElectionCase(size: 3, granted: [2], rejected: [], expected: .leader),
        ElectionCase(size: 3, granted: [], rejected: [], expected: .candidate),
        ElectionCase(size: 3, granted: [], rejected: [2, 3], expected: .follower),
        ElectionCase(size: 5, granted: [2, 3], rejected: [], expected: .leader),
        ElectionCase(size: 5, granted: [2], rejected: [3], expected: .candidate),
        ElectionCase(size: 5, granted: [2], rejected: [3, 4, 5], expected: .follower),
        ElectionCase(size: 5, granted: [], rejected: [2, 3, 4], expected: .follower),
    ])
    func electionWonInOneRound(_ test: ElectionCase) throws {
        let voters = Set((1...test.size).map { NodeID($0) })
        var node = try newNode(testConfig(1), voters: voters)
        node.campaign()
        for voter in test.granted {
            node.step(msg(voter, 1, term: 1, .voteResponse(VoteResponse(preVote: false, granted: true))))
        }
        for voter in test.rejected {
            node.step(msg(voter, 1, term: 1, .voteResponse(VoteResponse(preVote: false, granted: false))))
        }
        #expect(node.role == test.expected)
        #expect(node.term == 1)
        if test.expected == .leader { #expect(node.leader == 1) }
    }

    @Test func oneVotePerTerm() throws {
        var node = try newNode(testConfig(1), voters: [1, 2, 3])
        func ask(_ from: NodeID, term: UInt64) -> Bool? {
            node.step(msg(from, 1, term: term, .vote(VoteRequest(preVote: false, lastIndex: 0, lastTerm: 0))))
            let answers = node.drainMessages().compactMap { message -> Bool? in
                guard case .voteResponse(let response) = message.body, message.to == from else { return nil }
                return response.granted
            }
            return answers.count == 1 ? answers[0] : nil
        }
        #expect(ask(2, term: 1) == true)
        #expect(node.vote == 2)
        #expect(ask(3, term: 1) == false, "a second candidate of the same term is refused")
        #expect(ask(2, term: 1) == true, "a repeated request of the same candidate is granted again")
        #expect(ask(3, term: 2) == true, "a new term frees the vote")
        #expect(node.vote == 3)
    }

    @Test func voteIsPersistedBeforeTheGrantIsSent() throws {
        var node = try newNode(testConfig(1), voters: [1, 2, 3])
        node.step(msg(2, 1, term: 1, .vote(VoteRequest(preVote: false, lastIndex: 0, lastTerm: 0))))
        let ready = node.drain()
        #expect(ready.hardState == HardState(term: 1, vote: 2, commit: 0))
        #expect(ready.messages.count == 1)
    }

    @Test(arguments: [
        Message.Body.append(AppendEntries(prevIndex: 0, prevTerm: 0, entries: [], commit: 0)),
        .heartbeat(Heartbeat(commit: 0, context: HeartbeatContext(round: 1, sentAt: 1))),
    ])
    func candidateFallsBackToFollowerOnLeaderOfItsTerm(_ body: Message.Body) throws {
        var node = try newNode(testConfig(1), voters: [1, 2, 3])
        node.campaign()
        #expect(node.role == .candidate)
        node.step(msg(2, 1, term: 1, body))
        #expect(node.role == .follower)
        #expect(node.term == 1)
        #expect(node.leader == 2)
    }

    @Test func candidateIgnoresLeaderOfOlderTerm() throws {
        var node = try restoredNode(testConfig(1), voters: [1, 2, 3], terms: [], term: 2)
        node.campaign()
        #expect(node.role == .candidate && node.term == 3)
        node.step(msg(2, 1, term: 2, .append(AppendEntries(prevIndex: 0, prevTerm: 0, entries: [], commit: 0))))
        #expect(node.role == .candidate)
        #expect(node.term == 3)
    }

    @Test func freshGroupElectsOneLeaderByTicking() throws {
        // Default config: pre-vote and check-quorum on, as a real deployment runs.
        var network = try Network(voters: [1, 2, 3]) {
            $0.preVote = true
            $0.checkQuorum = true
        }
        var rounds = 0
        while network.leaders.isEmpty && rounds < 200 {
            network.tickAll()
            rounds += 1
        }
        #expect(network.leaders.count == 1)
        let leader = try #require(network.leaders.first)
        let term = network[leader].term
        for id in network.ids {
            #expect(network[id].term == term)
            #expect(network[id].leader == leader)
        }
    }

    // MARK: §5.4.1 election restriction

    @Test func voteRequestCarriesLastIndexAndTerm() throws {
        var node = try restoredNode(testConfig(1), voters: [1, 2, 3], terms: [1, 1, 2], term: 2)
        node.campaign()
        let votes = node.drainMessages()
        #expect(votes.count == 2)
        for message in votes {
            #expect(message.term == 3)
            #expect(message.body == .vote(VoteRequest(preVote: false, lastIndex: 3, lastTerm: 2)))
        }
    }

    @Test func preVoteRequestCarriesNextTermWithoutRaisingOwn() throws {
        var node = try restoredNode(testConfig(1, preVote: true), voters: [1, 2, 3], terms: [1, 1, 2], term: 2)
        node.campaign()
        #expect(node.role == .preCandidate)
        #expect(node.term == 2)
        let votes = node.drainMessages()
        #expect(votes.count == 2)
        for message in votes {
            #expect(message.term == 3)
            #expect(message.body == .vote(VoteRequest(preVote: true, lastIndex: 3, lastTerm: 2)))
        }
    }

    struct UpToDateCase: Sendable, CustomTestStringConvertible {
        var lastIndex: LogIndex
        var lastTerm: Term
        var granted: Bool
        var testDescription: String { "candidate last \(lastIndex)@\(lastTerm) -> \(granted ? "grant" : "reject")" }
    }

    /// The voter's log is [1, 1, 2]: last entry 3@2.
    @Test(arguments: [
        UpToDateCase(lastIndex: 2, lastTerm: 1, granted: false),
        UpToDateCase(lastIndex: 3, lastTerm: 1, granted: false),
        UpToDateCase(lastIndex: 4, lastTerm: 1, granted: false),
        UpToDateCase(lastIndex: 2, lastTerm: 2, granted: false),
        UpToDateCase(lastIndex: 3, lastTerm: 2, granted: true),
        UpToDateCase(lastIndex: 4, lastTerm: 2, granted: true),
        UpToDateCase(lastIndex: 1, lastTerm: 3, granted: true),
        UpToDateCase(lastIndex: 0, lastTerm: 0, granted: false),
    ])
    func voterGrantsOnlyAnUpToDateCandidate(_ test: UpToDateCase) throws {
        var node = try restoredNode(testConfig(1), voters: [1, 2, 3], terms: [1, 1, 2], term: 2)
        node.step(
            msg(2, 1, term: 3, .vote(VoteRequest(preVote: false, lastIndex: test.lastIndex, lastTerm: test.lastTerm))))
        let answers = node.drainMessages()
        #expect(answers.count == 1)
        #expect(answers.first?.body == .voteResponse(VoteResponse(preVote: false, granted: test.granted)))
        #expect(node.vote == (test.granted ? 2 : nil))
        #expect(node.term == 3)
    }

    @Test func candidateWithStaleLogCannotWin() throws {
        // Members 2 and 3 hold an entry of term 2 that member 1 lacks: 1 cannot be elected, 2 can.
        var network = Network([
            try restoredNode(testConfig(1), voters: [1, 2, 3], terms: [1], term: 2),
            try restoredNode(testConfig(2), voters: [1, 2, 3], terms: [1, 2], term: 2),
            try restoredNode(testConfig(3), voters: [1, 2, 3], terms: [1, 2], term: 2),
        ])
        network.elect(1)
        #expect(network.leaders.isEmpty)
        network.elect(2)
        #expect(network.leaders == [2])
        #expect(network[1].logTerms == network[2].logTerms)
    }

    // MARK: Pre-vote and check-quorum

    @Test func rejoiningPartitionedMemberDoesNotDisruptWithPreVote() throws {
        var network = try Network(voters: [1, 2, 3]) {
            $0.preVote = true
            $0.checkQuorum = true
        }
        network.elect(1)
        #expect(network.leaders == [1])
        let term = network[1].term

        network.isolate(3)
        network.tickAll(times: 100)
        #expect(network[3].term == term, "pre-vote never won, so the isolated member kept its term")
        #expect(network[3].role != .leader)
        #expect(network[3].role != .candidate)

        network.heal()
        network.tickAll(times: 5)
        #expect(network.leaders == [1])
        for id in network.ids {
            #expect(network[id].term == term)
            #expect(network[id].leader == 1)
        }
        try network.propose(1, [42])
        #expect(network.appliedData(3) == [[42]])
    }

    @Test func rejoiningPartitionedMemberDisruptsWithoutPreVote() throws {
        // The contrast that motivates pre-vote: without it the isolated member's term runs ahead and its
        // return deposes the leader.
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        let term = network[1].term
        network.isolate(3)
        network.tickAll(times: 100)
        #expect(network[3].term > term)
        network.heal()
        // The stale heartbeats get no answer in plain Raft; the member's next campaign raises everyone's term.
        network.tickAll(times: 30)
        #expect(network[1].term > term)
    }

    @Test func preVoteRefusedWhileFollowerHearsFromLeader() throws {
        var network = try Network(voters: [1, 2, 3]) {
            $0.preVote = true
            $0.checkQuorum = true
        }
        network.elect(1)
        let term = network[1].term
        // Member 2 campaigns although the leader is alive: member 3 is in the leader's lease and ignores it.
        network[2].campaign()
        network.stabilize()
        #expect(network.leaders == [1])
        #expect(network[2].term == term)
        #expect(network[3].term == term)
    }

    @Test func isolatedLeaderStepsDownWithCheckQuorum() throws {
        var network = try Network(voters: [1, 2, 3]) {
            $0.preVote = true
            $0.checkQuorum = true
        }
        network.elect(1)
        network.isolate(1)
        var ticks = 0
        while network[1].role == .leader && ticks < 100 {
            network.tick(1)
            ticks += 1
        }
        #expect(network[1].role == .follower)
        #expect(ticks <= 2 * 10, "it should step down within two election timeouts, took \(ticks)")
        #expect(ticks >= 10, "it should not step down before an election timeout, took \(ticks)")
    }

    @Test func connectedLeaderKeepsLeadershipWithCheckQuorum() throws {
        var network = try Network(voters: [1, 2, 3]) {
            $0.preVote = true
            $0.checkQuorum = true
        }
        network.elect(1)
        let term = network[1].term
        network.tickAll(times: 100)
        #expect(network.leaders == [1])
        #expect(network[1].term == term)
    }

    @Test func leaderWithoutCheckQuorumStaysLeaderWhenIsolated() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        network.isolate(1)
        network.tick(1, times: 100)
        #expect(network[1].role == .leader)
    }

    @Test func remainingMembersElectNewLeaderAfterLeaderIsolated() throws {
        var network = try Network(voters: [1, 2, 3]) {
            $0.preVote = true
            $0.checkQuorum = true
        }
        network.elect(1)
        let term = network[1].term
        network.isolate(1)
        network.tickAll(times: 60)
        let leaders = network.leaders.filter { $0 != 1 }
        #expect(leaders.count == 1)
        #expect(network[1].role != .leader)
        if let leader = leaders.first { #expect(network[leader].term > term) }
    }

    // MARK: Helpers

    /// Member 1 of {1, 2, 3} in the given role at term 1 (plain Raft).
    private func nodeIn(role: Role) throws -> RaftNode {
        switch role {
        case .leader:
            return try makeLeader()
        case .candidate:
            var node = try newNode(testConfig(1), voters: [1, 2, 3])
            node.campaign()
            _ = node.drainMessages()
            return node
        default:
            var node = try newNode(testConfig(1), voters: [1, 2, 3])
            node.step(msg(2, 1, term: 1, .append(AppendEntries(prevIndex: 0, prevTerm: 0, entries: [], commit: 0))))
            _ = node.drainMessages()
            return node
        }
    }
}
