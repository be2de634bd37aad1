import RaftCore

@testable import RaftStorage

/// Seeded random records of every kind, for round-trip tests.
enum RandomRecords {
    static func record(_ random: inout SplitMix64) -> WALRecord {
        let group = GroupID(random.next() % 5)
        switch random.next() % 6 {
        case 0:
            let first = random.next() % 1000 + 1
            let entries = (0..<(random.next() % 4 + 1)).map { k in
                Entry(term: Term(random.next() % 9), index: LogIndex(first + k), payload: payload(&random))
            }
            return .entries(group, entries)
        case 1:
            let vote = random.next() % 4
            return .hardState(
                group,
                HardState(
                    term: Term(random.next()), vote: vote == 0 ? nil : NodeID(vote), commit: LogIndex(random.next())))
        case 2: return .snapshot(group, metadata(&random))
        case 3: return .compact(group, metadata(&random))
        case 4: return .removeGroup(group)
        default: return .truncate(group, lastKept: LogIndex(random.next()))
        }
    }

    static func payload(_ random: inout SplitMix64) -> Entry.Payload {
        if random.next() % 4 == 0 {
            let operations: [ConfChange.Operation] = (0..<(random.next() % 4)).map { _ in
                let node = NodeID(random.next() % 9 + 1)
                switch random.next() % 3 {
                case 0: return .addVoter(node)
                case 1: return .addLearner(node)
                default: return .remove(node)
                }
            }
            return .confChange(ConfChange(operations, context: bytes(&random, max: 8)))
        }
        return .data(bytes(&random, max: 40))
    }

    static func metadata(_ random: inout SplitMix64) -> SnapshotMetadata {
        func nodes() -> Set<NodeID> { Set((0..<(random.next() % 4)).map { _ in NodeID(random.next() % 9 + 1) }) }
        return SnapshotMetadata(
            index: LogIndex(random.next() % 1000), term: Term(random.next() % 9),
            membership: Membership(voters: nodes(), outgoingVoters: nodes(), learners: nodes(), learnersNext: nodes()))
    }

    static func bytes(_ random: inout SplitMix64, max: UInt64) -> [UInt8] {
        (0..<(random.next() % (max + 1))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }
}
