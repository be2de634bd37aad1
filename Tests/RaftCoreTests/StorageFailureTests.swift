import Testing

@testable import RaftCore

/// A member whose storage failed stops: a leader steps down, and the others carry on without it.
@Suite struct StorageFailureTests {
    @Test func leaderThatCannotPersistStepsDownAndOthersTakeOver() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        #expect(network.leaders == [1])
        let term = network[1].term

        network[1].reportStorageFailure()
        #expect(network[1].role == .follower)
        #expect(throws: RaftError.notLeader(leaderHint: nil)) { try network[1].propose([7]) }

        network.tickAll(times: 60)
        network.stabilize()
        let leader = try #require(network.leaders.first)
        #expect(leader != 1)
        #expect(network[leader].term > term)
        #expect(network[1].role == .follower, "a failed member never campaigns")
        #expect(network[1].term == term, "a failed member ignores messages, even of higher terms")
        _ = try network.propose(leader, [9])
        network.stabilize()
        #expect(network.appliedData(leader).last == [9])
    }
}
