import Foundation
import RaftCore
import Testing

@testable import RaftStorage

/// Segment garbage collection: recovery after it equals the model, disk use follows live data, crashes during
/// it and hand-deleted segments.
@Suite struct GarbageCollectionTests {
    static let options = WALOptions(segmentSizeLimit: 2048, fsync: .off)

    /// Many groups appending, voting and compacting over many small segments, collected every few batches.
    @Test(arguments: [UInt64(1), 2, 3, 4]) func manyGroupsStayBoundedAndRecoverTheModel(seed: UInt64) throws {
        try withTemporaryDirectory { dir in
            var random = SplitMix64(seed: seed)
            var model = ModelLog()
            var wal = try WriteAheadLog.open(directory: dir, options: Self.options).0
            var total = GarbageCollection()
            var worst = 0.0
            // A removed group's id is retired, as the node never reuses one: the slot goes on under a new id.
            var generations = [UInt64](repeating: 0, count: 40)
            for step in 0..<1500 {
                var batch: [WALRecord] = []
                for _ in 0..<(random.next() % 8 + 1) {
                    let slot = Int(random.next() % 40)
                    let group = GroupID(UInt64(slot) + 1 + 1000 * generations[slot])
                    let record = Self.workloadRecord(for: group, model.groups[group] ?? ModelGroup(), &random)
                    if case .removeGroup = record { generations[slot] += 1 }
                    model.apply(record)
                    batch.append(record)
                }
                try wal.append(batch)
                if step % 10 == 9 {
                    let collected = try wal.collectGarbage()
                    total.deletedSegments += collected.deletedSegments
                    total.rewrittenRecords += collected.rewrittenRecords
                    #expect(collected.rewrittenBytes * 2 <= collected.freedBytes)
                    let onDisk = try Self.segmentBytes(dir)
                    #expect(onDisk == wal.totalSegmentBytes, "seed \(seed) step \(step)")
                    let live = Self.liveBytes(model)
                    if step > 200 {
                        worst = max(worst, Double(onDisk) / Double(live))
                        #expect(
                            onDisk <= 6 * live + 4 * Self.options.segmentSizeLimit,
                            "seed \(seed) step \(step): \(onDisk) bytes on disk for \(live) live bytes")
                    }
                }
                if random.next() % 100 == 0 || step == 1499 {
                    let (reopened, recovery) = try WriteAheadLog.open(directory: dir, options: Self.options)
                    wal = reopened
                    Self.expect(recovery, matches: model, "seed \(seed) step \(step)")
                }
            }
            #expect(total.deletedSegments > 50, "seed \(seed): segments were collected")
            #expect(total.rewrittenRecords > 0, "seed \(seed): idle groups' records were copied forward")
            print("seed \(seed): worst disk/live ratio \(worst), \(total.deletedSegments) segments collected")
        }
    }

    /// The property test's adversarial records (truncations, snapshots, overwrites) with collection between.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6]) func randomRecordsWithCollectionRecoverTheModel(seed: UInt64) throws {
        try withTemporaryDirectory { dir in
            var random = SplitMix64(seed: seed)
            var model = ModelLog()
            let options = WALOptions(segmentSizeLimit: 700, fsync: .off)
            var wal = try WriteAheadLog.open(directory: dir, options: options).0
            for step in 0..<400 {
                var batch: [WALRecord] = []
                for _ in 0..<(random.next() % 6 + 1) {
                    let group = GroupID(random.next() % 4 + 1)
                    let record = PropertyTests.randomRecord(for: group, model.groups[group] ?? ModelGroup(), &random)
                    model.apply(record)
                    batch.append(record)
                }
                try wal.append(batch)
                if random.next() % 3 == 0 { _ = try wal.collectGarbage() }
                if random.next() % 20 == 0 || step == 399 {
                    let (reopened, recovery) = try WriteAheadLog.open(directory: dir, options: options)
                    wal = reopened
                    Self.expect(recovery, matches: model, "seed \(seed) step \(step)")
                }
            }
        }
    }

    /// A compact record whose index lies beyond every entry left on disk, and an idle group's hard state.
    @Test func compactBeyondTheRemainingSegmentsAndIdleHardState() throws {
        try withTemporaryDirectory { dir in
            let options = WALOptions(segmentSizeLimit: 1, fsync: .off)  // one segment per append
            var model = ModelLog()
            let (wal, _) = try WriteAheadLog.open(directory: dir, options: options)
            func append(_ records: [WALRecord]) throws {
                for record in records { model.apply(record) }
                try wal.append(records)
            }
            let idle = HardState(term: Term(7), vote: NodeID(2), commit: .zero)
            try append([.hardState(GroupID(1), idle)])
            try append([.entries(GroupID(2), (1...10).map { data($0, term: 1, [UInt8($0)]) })])
            try append([.entries(GroupID(2), (11...12).map { data($0, term: 1) })])
            let snapshot = SnapshotMetadata(index: LogIndex(12), term: Term(1), membership: Membership(voters: [1]))
            try append([.compact(GroupID(2), snapshot)])
            try append([.hardState(GroupID(2), HardState(term: Term(1), commit: LogIndex(12)))])
            let collected = try wal.collectGarbage()
            #expect(collected.deletedSegments == 5, "the first, empty segment and the next four")
            #expect(collected.rewrittenRecords == 2, "group 1's hard state and group 2's compact record")
            #expect(try segmentNames(dir).count == 2)
            let (reopened, recovery) = try WriteAheadLog.open(directory: dir, options: options)
            Self.expect(recovery, matches: model, "after collection")
            #expect(recovery.groups[GroupID(2)]?.entries.isEmpty == true)
            try reopened.append([.entries(GroupID(2), [data(13, term: 2)])])
            model.apply(.entries(GroupID(2), [data(13, term: 2)]))
            Self.expect(try WriteAheadLog.open(directory: dir, options: options).1, matches: model, "after append")
        }
    }

    /// A removed group is not recovered, and its entries no longer pin their segments.
    @Test func removedGroupIsGoneAndItsSegmentsAreCollected() throws {
        try withTemporaryDirectory { dir in
            let options = WALOptions(segmentSizeLimit: 1, fsync: .off)  // one segment per append
            let (wal, _) = try WriteAheadLog.open(directory: dir, options: options)
            try wal.append([.entries(GroupID(5), (1...10).map { data($0, term: 1, [UInt8($0)]) })])
            try wal.append([.hardState(GroupID(5), HardState(term: Term(1), commit: LogIndex(10)))])
            try wal.append([.entries(GroupID(6), [data(1, term: 1)])])
            #expect(try wal.collectGarbage().pinningGroups == [GroupID(5)], "group 5's live entries pin")
            try wal.append([.removeGroup(GroupID(5))])
            let collected = try wal.collectGarbage()
            #expect(collected.deletedSegments == 2, "both of group 5's segments (the empty first one went before)")
            #expect(collected.rewrittenRecords == 0, "nothing of a removed group is copied forward")
            let recovery = try WriteAheadLog.open(directory: dir, options: options).1
            #expect(recovery.groups[GroupID(5)] == nil)
            #expect(recovery.groups[GroupID(6)]?.entries.count == 1)
        }
    }

    /// Live entries pin their segment (and every later one); a segment deleted by hand is noticed.
    @Test func liveEntriesPinAndAHandDeletedSegmentIsAnError() throws {
        try withTemporaryDirectory { dir in
            let options = WALOptions(segmentSizeLimit: 1, fsync: .off)
            let (wal, _) = try WriteAheadLog.open(directory: dir, options: options)
            try wal.append([.entries(GroupID(1), [data(1, term: 1), data(2, term: 1)])])
            try wal.append([.entries(GroupID(2), [data(1, term: 1)])])
            try wal.append([
                .compact(GroupID(2), SnapshotMetadata(index: LogIndex(1), term: Term(1), membership: .empty))
            ])
            try wal.append([.entries(GroupID(1), [data(3, term: 1)])])
            let collected = try wal.collectGarbage()
            #expect(collected.deletedSegments == 1, "only the first, empty segment: group 1's entries 1, 2 are live")
            #expect(collected.pinningGroups == [GroupID(1)])
            let names = try segmentNames(dir)
            try FileManager.default.removeItem(atPath: dir + "/" + names[0])
            #expect { try WriteAheadLog.open(directory: dir, options: options) } throws: {
                ($0 as? WALError)?.code == .missingSegment
            }
        }
    }

    /// Deletion goes oldest first: a crash after the copies, or after any number of deletions, leaves a suffix
    /// of segments that recovers the same state.
    @Test func crashDuringCollectionRecoversTheSameState() throws {
        try withTemporaryDirectory { dir in
            var random = SplitMix64(seed: 99)
            var model = ModelLog()
            let (wal, _) = try WriteAheadLog.open(directory: dir, options: Self.options)
            for _ in 0..<300 {
                let group = GroupID(random.next() % 10 + 1)
                let record = Self.workloadRecord(for: group, model.groups[group] ?? ModelGroup(), &random)
                model.apply(record)
                try wal.append([record])
            }
            for (id, group) in model.groups.sorted(by: { $0.key < $1.key }) where group.lastIndex > group.snapshot.index
            {
                let record = WALRecord.compact(
                    id, SnapshotMetadata(index: group.lastIndex, term: Term(1), membership: .empty))
                model.apply(record)
                try wal.append([record])
            }
            let before = try segmentNames(dir)
            let saved = try before.map { try readFile(dir + "/" + $0) }
            let collected = try wal.collectGarbage()
            #expect(collected.deletedSegments > 1)
            let deleted = Array(before.prefix(collected.deletedSegments))
            for restored in 0...deleted.count {
                // The `restored` newest deleted segments are back: the crash came before their deletion.
                for (k, name) in deleted.enumerated() where k >= deleted.count - restored {
                    try writeFile(dir + "/" + name, saved[k])
                }
                let (_, recovery) = try WriteAheadLog.open(directory: dir, options: Self.options)
                Self.expect(recovery, matches: model, "\(restored) deleted segments restored")
                for name in deleted { try? FileManager.default.removeItem(atPath: dir + "/" + name) }
            }
        }
    }

    // MARK: - Support

    /// A plausible Raft workload for one group: appends at the end (sometimes replacing a suffix), hard state
    /// updates, compaction soon after more than 12 entries are live, and now and then an installed snapshot.
    static func workloadRecord(for id: GroupID, _ group: ModelGroup, _ random: inout SplitMix64) -> WALRecord {
        let first = group.snapshot.index.rawValue
        let last = group.lastIndex.rawValue
        let term = Term(max(group.hardState.term.rawValue, 1))
        if last - first > 12, random.next() % 3 == 0 {
            let through = LogIndex(last - random.next() % 4)
            return .compact(
                id, SnapshotMetadata(index: through, term: term, membership: Membership(voters: [1, 2, 3])))
        }
        switch random.next() % 100 {
        case 0..<60:
            let overwrite = last > first && random.next() % 10 == 0
            let start = overwrite ? last - random.next() % min(3, last - first) : last + 1
            let entries = (0..<(random.next() % 3 + 1)).map { k in
                Entry(term: term, index: LogIndex(start + k), data: RandomRecords.bytes(&random, max: 60))
            }
            return .entries(id, entries)
        case 97:
            return .removeGroup(id)
        case 60..<98:
            let next = random.next() % 5 == 0 ? term.next : term
            let vote = random.next() % 4
            return .hardState(
                id, HardState(term: next, vote: vote == 0 ? nil : NodeID(vote), commit: LogIndex(last)))
        default:
            let index = LogIndex(last + random.next() % 20 + 1)
            return .snapshot(id, SnapshotMetadata(index: index, term: term, membership: Membership(voters: [1, 2, 3])))
        }
    }

    /// The bytes recovery needs: each group's hard state and snapshot mark, and each live entry as a record.
    static func liveBytes(_ model: ModelLog) -> Int {
        model.groups.reduce(0) { sum, element in
            let (id, group) = element
            return sum + WALFrame.encode(.hardState(id, group.hardState)).count
                + WALFrame.encode(.compact(id, group.snapshot)).count
                + group.entries.reduce(0) { $0 + WALFrame.encode(.entries(id, [$1])).count }
        }
    }

    static func segmentBytes(_ dir: String) throws -> Int {
        try segmentNames(dir).reduce(0) { $0 + (try readFile(dir + "/" + $1)).count }
    }

    /// Recovery equals the model; a group absent on one side must be in the initial state on the other.
    static func expect(_ recovery: WALRecovery, matches model: ModelLog, _ context: String) {
        #expect(recovery.truncatedTail == nil, "\(context)")
        for id in Set(recovery.groups.keys).union(model.groups.keys) {
            let expected = model.groups[id] ?? ModelGroup()
            let state =
                recovery.groups[id]
                ?? PersistentState(hardState: HardState(), snapshot: ModelGroup().snapshot, entries: [])
            #expect(state.hardState == expected.hardState, "\(context) group \(id)")
            #expect(state.snapshot == expected.snapshot, "\(context) group \(id)")
            #expect(state.entries == expected.entries, "\(context) group \(id)")
        }
    }
}
