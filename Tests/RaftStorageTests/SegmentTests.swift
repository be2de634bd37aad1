import RaftCore
import Testing

@testable import RaftStorage

/// Segment files: names, header, group commit into one write, rotation, input checks.
@Suite struct SegmentTests {
    @Test func fileNamesAreSixteenHexDigits() {
        #expect(Segment.fileName(firstSequence: 0) == "wal-0000000000000000.log")
        #expect(Segment.fileName(firstSequence: 0xAB_CDEF) == "wal-0000000000abcdef.log")
        #expect(Segment.firstSequence(fileName: "wal-0000000000abcdef.log") == 0xAB_CDEF)
        #expect(Segment.firstSequence(fileName: "wal-0000000000ABCDEF.log") == nil)
        #expect(Segment.firstSequence(fileName: "wal-00.log") == nil)
        #expect(Segment.firstSequence(fileName: "wal-0000000000000000.log.tmp") == nil)
    }

    @Test func newLogStartsWithHeaderOnly() throws {
        try withTemporaryDirectory { dir in
            let (log, recovery) = try WriteAheadLog.open(directory: dir)
            #expect(recovery.groups.isEmpty && recovery.truncatedTail == nil)
            #expect(try segmentNames(dir) == ["wal-0000000000000000.log"])
            #expect(hex(try readFile(log.currentSegment)) == "464c57414c0100")  // "FLWAL", version 1
        }
    }

    @Test(arguments: [FsyncPolicy.always, .off]) func oneAppendOfManyGroupsIsOneContiguousWrite(
        policy: FsyncPolicy
    ) throws {
        try withTemporaryDirectory { dir in
            let (log, _) = try WriteAheadLog.open(directory: dir, options: WALOptions(fsync: policy))
            let records = (1...50).flatMap { g in sampleRecords(group: UInt64(g), first: 1, count: 3) }
            try log.append(records)
            var expected = Segment.header
            for record in records { WALFrame.append(record, to: &expected) }
            #expect(try readFile(log.currentSegment) == expected)
            #expect(log.nextSequence == 150)
        }
    }

    @Test func rotatesAtTheSizeLimitAndNamesSegmentsBySequence() throws {
        try withTemporaryDirectory { dir in
            let (log, _) = try WriteAheadLog.open(directory: dir, options: WALOptions(segmentSizeLimit: 100))
            for k in UInt64(0)..<10 { try log.append(sampleRecords(group: 1, first: 2 * k + 1, count: 3)) }
            let names = try segmentNames(dir)
            #expect(names.count > 2)
            #expect(names.first == "wal-0000000000000000.log")
            var sequence: UInt64 = 0
            for name in names {
                #expect(Segment.firstSequence(fileName: name) == sequence)
                let bytes = try readFile(dir + "/" + name)
                var offset = Segment.headerSize
                while offset < bytes.count {
                    offset = try WALFrame.decode(bytes, at: offset).end
                    sequence += 1
                }
            }
            #expect(sequence == 30)
        }
    }

    @Test func invalidBatchWritesNothing() throws {
        try withTemporaryDirectory { dir in
            let (log, _) = try WriteAheadLog.open(directory: dir)
            try log.append([.entries(GroupID(1), [data(1, term: 1), data(2, term: 1)])])
            let before = try readFile(log.currentSegment)
            let bad: [[WALRecord]] = [
                [.hardState(GroupID(2), HardState(term: Term(1))), .entries(GroupID(1), [data(4, term: 1)])],  // gap
                [.entries(GroupID(1), [data(3, term: 1), data(5, term: 1)])],  // not consecutive
                [.entries(GroupID(1), [])],
                [.compact(GroupID(1), SnapshotMetadata(index: LogIndex(3), term: Term(1), membership: .empty))],
            ]
            for batch in bad {
                #expect(throws: WALError.self) { try log.append(batch) }
            }
            #expect(try readFile(log.currentSegment) == before)
            try log.append([.entries(GroupID(1), [data(2, term: 2)])])  // overwriting a suffix is fine
        }
    }

    @Test func reopenAppendsToTheLastSegment() throws {
        try withTemporaryDirectory { dir in
            do {
                let (log, _) = try WriteAheadLog.open(directory: dir)
                try log.append(sampleRecords(group: 1, first: 1, count: 3))
            }
            let (log, recovery) = try WriteAheadLog.open(directory: dir)
            #expect(recovery.recordCount == 3 && log.nextSequence == 3)
            try log.append([.entries(GroupID(1), [data(3, term: 2)])])
            let (_, again) = try WriteAheadLog.open(directory: dir)
            #expect(again.groups[GroupID(1)]?.entries.map(\.term) == [Term(1), Term(1), Term(2)])
            #expect(try segmentNames(dir).count == 1)
        }
    }
}
