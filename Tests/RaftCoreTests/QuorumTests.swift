import Testing

@testable import RaftCore

/// Majority arithmetic, membership algebra and flow-control helpers.
@Suite struct QuorumTests {
    private func voters(_ ids: ClosedRange<UInt64>) -> Set<NodeID> { Set(ids.map { NodeID($0) }) }

    @Test(
        arguments: [
            ([UInt64](), UInt64.max),
            ([5], 5),
            ([5, 1], 1),
            ([1, 2, 3], 2),
            ([3, 1, 2, 4], 2),
            ([5, 4, 3, 2, 1], 3),
            ([9, 9, 1, 1, 1, 1, 1], 1),
            ([9, 9, 9, 9, 1, 1, 1], 9),
            ([10, 9, 8, 7, 6, 5, 4, 3, 2], 6),
        ] as [([UInt64], UInt64)])
    func quorumValueIsWhatAMajorityReached(values: [UInt64], expected: UInt64) {
        let members = Set((0..<values.count).map { NodeID(UInt64($0 + 1)) })
        let value = Quorum.quorumValue(voters: members) { values[Int($0.rawValue - 1)] }
        #expect(value == expected)
    }

    @Test func jointCommitIsMinimumOfBothHalves() {
        let match: [NodeID: LogIndex] = [1: 10, 2: 10, 3: 2, 4: 1, 5: 1]
        let joint = Membership(voters: [1, 4, 5], outgoingVoters: [1, 2, 3])
        #expect(Quorum.committedIndex(joint) { match[$0]! } == 1)
        let simple = Membership(voters: [1, 2, 3])
        #expect(Quorum.committedIndex(simple) { match[$0]! } == 10)
        #expect(Quorum.committedIndex(Membership(voters: [3, 4, 5])) { match[$0]! } == 1)
    }

    @Test func voteResultCountsYesNoAndMissing() {
        let five = voters(1...5)
        func result(_ answers: [NodeID: Bool]) -> VoteResult {
            Quorum.voteResult(voters: five) { answers[$0] }
        }
        #expect(result([1: true, 2: true, 3: true]) == .won)
        #expect(result([1: true, 2: true]) == .pending)
        #expect(result([1: true, 2: false, 3: false]) == .pending)
        #expect(result([1: true, 2: false, 3: false, 4: false]) == .lost)
        #expect(Quorum.voteResult(voters: []) { _ in nil } == .won)
    }

    @Test func jointVoteNeedsBothHalves() {
        let joint = Membership(voters: [1, 4, 5], outgoingVoters: [1, 2, 3])
        #expect(Quorum.voteResult(joint) { [1: true, 2: true, 3: true][$0] } == .pending)
        #expect(Quorum.voteResult(joint) { [1: true, 2: true, 4: true][$0] } == .won)
        #expect(Quorum.voteResult(joint) { [1: true, 4: false, 5: false][$0] } == .lost)
        #expect(Quorum.voteResult(joint) { [1: true, 2: false, 3: false, 4: true][$0] } == .lost)
    }

    @Test func addingVoterEntersJoint() throws {
        let base = Membership(voters: [1, 2, 3], learners: [4])
        let joint = try base.applying(ConfChange([.addVoter(4)]))
        #expect(joint == Membership(voters: [1, 2, 3, 4], outgoingVoters: [1, 2, 3]))
        #expect(joint.isJoint)
        #expect(joint.isVoter(4) && joint.isVoter(1))
        let left = try joint.applying(.leaveJoint)
        #expect(left == Membership(voters: [1, 2, 3, 4]))
    }

    @Test func learnerOnlyChangeTakesEffectDirectly() throws {
        let base = Membership(voters: [1, 2, 3])
        let next = try base.applying(ConfChange([.addLearner(4)]))
        #expect(next == Membership(voters: [1, 2, 3], learners: [4]))
        #expect(!next.isJoint)
        #expect(try next.applying(ConfChange([.remove(4)])) == base)
    }

    @Test func demotionKeepsOutgoingVoteUntilLeave() throws {
        let base = Membership(voters: [1, 2, 3])
        let joint = try base.applying(ConfChange([.addLearner(3)]))
        #expect(joint == Membership(voters: [1, 2], outgoingVoters: [1, 2, 3], learnersNext: [3]))
        #expect(joint.isVoter(3))
        #expect(joint.allMembers == [1, 2, 3])
        let left = try joint.applying(.leaveJoint)
        #expect(left == Membership(voters: [1, 2], learners: [3]))
        #expect(!left.isVoter(3))
    }

    @Test func invalidChangesThrow() {
        let base = Membership(voters: [1])
        #expect(throws: ConfChangeError.noVotersLeft) { try base.applying(ConfChange([.remove(1)])) }
        #expect(throws: ConfChangeError.notJoint) { try base.applying(.leaveJoint) }
        let joint = Membership(voters: [1, 2], outgoingVoters: [1])
        #expect(throws: ConfChangeError.alreadyJoint) { try joint.applying(ConfChange([.addVoter(3)])) }
    }

    @Test func inflightsFreeInOrder() {
        var inflights = Inflights(capacity: 3)
        inflights.add(2)
        inflights.add(4)
        inflights.add(6)
        #expect(inflights.isFull)
        inflights.free(through: 4)
        #expect(inflights.count == 1)
        #expect(!inflights.isFull)
        inflights.add(8)
        inflights.add(9)
        #expect(inflights.isFull)
        inflights.free(through: 100)
        #expect(inflights.count == 0)
    }

    @Test func progressProbeBacksOffWithHint() {
        var progress = Progress(next: 11, maxInflight: 4)
        #expect(progress.state == .probe)
        var changed = progress.maybeDecrease(rejected: 5, hint: 3)
        #expect(!changed, "a rejection of an index not sent is stale")
        changed = progress.maybeDecrease(rejected: 10, hint: 6)
        #expect(changed)
        #expect(progress.next == 7)
        changed = progress.maybeUpdate(6)
        #expect(changed)
        progress.becomeReplicate()
        #expect(progress.next == 7 && progress.match == 6)
        changed = progress.maybeDecrease(rejected: 5, hint: 0)
        #expect(!changed, "below match: stale")
        changed = progress.maybeUpdate(6)
        #expect(!changed, "nothing new")
    }

    @Test func upToDateComparison() throws {
        let node = try restoredNode(testConfig(1), voters: [1], terms: [1, 2, 2])
        #expect(node.log.isUpToDate(lastIndex: 3, lastTerm: 2))
        #expect(node.log.isUpToDate(lastIndex: 1, lastTerm: 3))
        #expect(!node.log.isUpToDate(lastIndex: 2, lastTerm: 2))
        #expect(!node.log.isUpToDate(lastIndex: 9, lastTerm: 1))
    }
}
