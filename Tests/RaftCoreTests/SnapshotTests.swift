import Testing

@testable import RaftCore

/// Log compaction and snapshots (§7).
@Suite struct SnapshotTests {
    @Test func compactLogDropsAppliedPrefix() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        for value in UInt8(1)...4 { try network.propose(1, [value]) }
        let applied = network[1].log.applied
        let early = network[1].compactLog(through: applied + 1)
        #expect(early == nil, "not applied yet")
        let through = applied - 1
        let compacted = network[1].compactLog(through: through)
        let metadata = try #require(compacted)
        #expect(metadata.index == through)
        #expect(metadata.term == network[1].term)
        #expect(metadata.membership == Membership(voters: [1, 2, 3]))
        #expect(network[1].log.firstIndex == through + 1)
        #expect(network[1].log.entry(at: through) == nil)
        #expect(network[1].log.term(at: through) == metadata.term)
        #expect(network[1].log.lastIndex == applied)
        let again = network[1].compactLog(through: through)
        #expect(again == nil, "already compacted")
    }

    @Test func laggingFollowerReceivesAndInstallsSnapshot() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        network.isolate(3)
        for value in UInt8(1)...5 { try network.propose(1, [value]) }
        let snapshotIndex = network[1].log.applied
        let compacted = network[1].compactLog(through: snapshotIndex)
        let metadata = try #require(compacted)
        network.heal()
        network.tickAll()
        try network.propose(1, [6])

        #expect(network.delivered.contains { $0.to == 3 && $0.body == .snapshot(metadata) })
        #expect(network.installedSnapshots[3] == [metadata])
        #expect(network[3].log.snapshot == metadata)
        #expect(network[3].log.lastIndex == network[1].log.lastIndex)
        #expect(network[3].log.committed == network[1].log.committed)
        #expect(network[3].log.entries == network[1].log.entries)
        #expect(network[3].membership == Membership(voters: [1, 2, 3]))
        // Entries in the snapshot are not handed out again: the state machine gets them with the snapshot.
        #expect(network.appliedData(3) == [[6]])
        #expect(network[1].status.progress[3]?.state == .replicate)
    }

    @Test func failedSnapshotIsSentAgain() throws {
        var network = try Network(voters: [1, 2, 3])
        network.elect(1)
        network.isolate(3)
        for value in UInt8(1)...3 { try network.propose(1, [value]) }
        let compacted = network[1].compactLog(through: network[1].log.applied)
        _ = try #require(compacted)
        network.heal()
        network.dropFilter = { $0.kind == "snapshot" }
        network.tickAll()
        try network.propose(1, [4])
        #expect(network.dropped.filter { $0.kind == "snapshot" }.count == 1)
        #expect(network[1].status.progress[3]?.state == .snapshot)
        // Paused in the snapshot state: no more appends to 3.
        network.tickAll(times: 3)
        #expect(network.dropped.filter { $0.kind == "snapshot" }.count == 1)

        network.dropFilter = nil
        network[1].reportSnapshot(to: 3, succeeded: false)
        network.tickAll(times: 2)
        #expect(network.delivered.contains { $0.kind == "snapshot" && $0.to == 3 })
        #expect(network[3].log.lastIndex == network[1].log.lastIndex)
        #expect(network.appliedData(3) == [[4]])
    }

    @Test func followerInstallsSnapshotReplacingItsLog() throws {
        var follower = try restoredNode(testConfig(2), voters: [1, 2, 3], terms: [1, 1, 1], term: 2, commit: 1)
        let metadata = SnapshotMetadata(index: 10, term: 2, membership: Membership(voters: [1, 2, 3, 4]))
        follower.step(msg(1, 2, term: 2, .snapshot(metadata)))
        #expect(follower.log.snapshot == metadata)
        #expect(follower.log.entries.isEmpty)
        #expect(follower.log.committed == 10)
        #expect(follower.membership == Membership(voters: [1, 2, 3, 4]))
        let ready = follower.drain()
        #expect(ready.snapshot == metadata)
        #expect(ready.membership == Membership(voters: [1, 2, 3, 4]))
        #expect(ready.committedEntries.isEmpty)
        #expect(ready.messages == [msg(2, 1, term: 2, .appendResponse(AppendResponse(index: 10)))])
    }

    @Test func staleSnapshotIsIgnored() throws {
        var follower = try restoredNode(testConfig(2), voters: [1, 2, 3], terms: [1, 1, 1], term: 2, commit: 3)
        follower.step(
            msg(
                1, 2, term: 2,
                .snapshot(
                    SnapshotMetadata(index: 2, term: 1, membership: Membership(voters: [1, 2, 3])))))
        #expect(follower.log.snapshot.index == 0)
        #expect(follower.logTerms == [1, 1, 1])
        #expect(follower.drain().messages == [msg(2, 1, term: 2, .appendResponse(AppendResponse(index: 3)))])
    }

    @Test func snapshotMatchingLogFastForwardsCommit() throws {
        var follower = try restoredNode(testConfig(2), voters: [1, 2, 3], terms: [1, 1, 1, 2], term: 2, commit: 1)
        follower.step(
            msg(
                1, 2, term: 2,
                .snapshot(
                    SnapshotMetadata(index: 3, term: 1, membership: Membership(voters: [1, 2, 3])))))
        #expect(follower.log.snapshot.index == 0, "the log is kept")
        #expect(follower.logTerms == [1, 1, 1, 2])
        #expect(follower.log.committed == 3)
    }

    @Test func restartFromSnapshot() throws {
        let metadata = SnapshotMetadata(index: 5, term: 2, membership: Membership(voters: [1, 2, 3]))
        var node = try RaftNode(
            config: testConfig(1),
            restoring: PersistentState(
                hardState: HardState(term: 3, vote: 1, commit: 6), snapshot: metadata,
                entries: makeEntries(terms: [2, 3], first: 6)))
        #expect(node.log.firstIndex == 6)
        #expect(node.log.lastIndex == 7)
        #expect(node.log.committed == 6)
        #expect(node.log.applied == 5)
        #expect(node.membership == metadata.membership)
        let ready = node.drain()
        #expect(ready.committedEntries.map(\.index) == [6], "only what follows the snapshot is applied")
        #expect(ready.entries.isEmpty, "restored entries are already durable")
        node.campaign()
        let votes = node.drainMessages()
        #expect(votes.allSatisfy { $0.body == .vote(VoteRequest(preVote: false, lastIndex: 7, lastTerm: 3)) })
    }

    @Test func newLeaderSendsSnapshotToEmptyMember() throws {
        // A member added after compaction gets the snapshot, membership included.
        var network = try Network(voters: [1, 2, 3], extra: [4])
        network.elect(1)
        for value in UInt8(1)...3 { try network.propose(1, [value]) }
        let compacted = network[1].compactLog(through: network[1].log.applied)
        _ = try #require(compacted)
        try network[1].proposeConfChange(ConfChange([.addLearner(4)]))
        network.stabilize()
        network.tickAll()
        #expect(network.installedSnapshots[4]?.count == 1)
        #expect(network[4].log.lastIndex == network[1].log.lastIndex)
        #expect(network[4].membership == Membership(voters: [1, 2, 3], learners: [4]))
    }
}
