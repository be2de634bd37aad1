import RaftCore
import Testing

@testable import RaftStorage

/// Random batches for several groups, mirrored in `ModelLog`; reopening the WAL must recover the model.
@Suite struct PropertyTests {
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8]) func recoveryMatchesModel(seed: UInt64) throws {
        try withTemporaryDirectory { dir in
            var random = SplitMix64(seed: seed)
            var model = ModelLog()
            var wal = try WriteAheadLog.open(directory: dir, options: WALOptions(segmentSizeLimit: 700, fsync: .off)).0
            for step in 0..<300 {
                var batch: [WALRecord] = []
                for _ in 0..<(random.next() % 6 + 1) {
                    let group = GroupID(random.next() % 4 + 1)
                    let record = Self.randomRecord(for: group, model.groups[group] ?? ModelGroup(), &random)
                    model.apply(record)
                    batch.append(record)
                }
                try wal.append(batch)
                if random.next() % 25 == 0 || step == 299 {
                    let (reopened, recovery) = try WriteAheadLog.open(directory: dir, options: wal.options)
                    wal = reopened
                    try Self.check(recovery, against: model, seed: seed, step: step)
                }
            }
            #expect(try segmentNames(dir).count > 3, "seed \(seed): segments rotated")
        }
    }

    /// A record that is valid for `group` in its current state.
    static func randomRecord(for id: GroupID, _ group: ModelGroup, _ random: inout SplitMix64) -> WALRecord {
        let first = group.snapshot.index.rawValue
        let last = group.lastIndex.rawValue
        func index(_ range: ClosedRange<UInt64>) -> UInt64 { range.lowerBound + random.next() % UInt64(range.count) }
        switch random.next() % 20 {
        case 0..<10:
            let start = index((first + 1)...(last + 1))
            let term = Term(max(group.hardState.term.rawValue, 1))
            let entries = (0..<(random.next() % 4 + 1)).map { k in
                Entry(term: term, index: LogIndex(start + k), payload: RandomRecords.payload(&random))
            }
            return .entries(id, entries)
        case 10..<14:
            let vote = random.next() % 4
            return .hardState(
                id,
                HardState(
                    term: group.hardState.term.next, vote: vote == 0 ? nil : NodeID(vote),
                    commit: LogIndex(index(first...last))))
        case 14..<16: return .truncate(id, lastKept: LogIndex(index(first...last)))
        case 16..<19:
            var metadata = RandomRecords.metadata(&random)
            metadata.index = LogIndex(index(first...last))
            return .compact(id, metadata)
        default:
            if random.next() % 4 == 0 { return .removeGroup(id) }
            var metadata = RandomRecords.metadata(&random)
            metadata.index = LogIndex(index(first...(last + 20)))
            return .snapshot(id, metadata)
        }
    }

    static func check(_ recovery: WALRecovery, against model: ModelLog, seed: UInt64, step: Int) throws {
        #expect(recovery.truncatedTail == nil)
        #expect(Set(recovery.groups.keys) == Set(model.groups.keys), "seed \(seed) step \(step)")
        for (id, expected) in model.groups {
            let state = try #require(recovery.groups[id], "seed \(seed) step \(step) group \(id)")
            #expect(state.hardState == expected.hardState, "seed \(seed) step \(step) group \(id)")
            #expect(state.snapshot == expected.snapshot, "seed \(seed) step \(step) group \(id)")
            #expect(state.entries == expected.entries, "seed \(seed) step \(step) group \(id)")
        }
    }
}
