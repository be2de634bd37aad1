import Foundation
import RaftCore
import Testing

@testable import RaftStorage

/// Recovery: replay into per-group state, torn tails cut away, corruption elsewhere reported.
@Suite struct RecoveryTests {
    /// Writes two segments (the second holding `tail`), returning the path and the offsets where records start.
    func writeLog(_ dir: String, tail: [WALRecord]) throws -> (path: String, starts: [Int]) {
        let (log, _) = try WriteAheadLog.open(directory: dir, options: WALOptions(segmentSizeLimit: 1))
        try log.append(sampleRecords(group: 1, first: 1, count: 3) + sampleRecords(group: 2, first: 1, count: 3))
        try log.append(tail)
        var starts = [Segment.headerSize]
        for record in tail { starts.append(starts.last! + WALFrame.encode(record).count) }
        return (log.currentSegment, starts)
    }

    static let tail: [WALRecord] = [
        .entries(GroupID(1), [data(3, term: 2, [1, 2, 3])]),
        .hardState(GroupID(2), HardState(term: Term(5), vote: NodeID(3), commit: LogIndex(2))),
        .entries(GroupID(2), [data(3, term: 5, Array(repeating: 7, count: 20)), data(4, term: 5)]),
        .truncate(GroupID(1), lastKept: LogIndex(2)),
    ]

    @Test func cutAtEveryByteOfTheLastRecordsRecoversAPrefix() throws {
        try withTemporaryDirectory { dir in
            let (path, starts) = try writeLog(dir, tail: Self.tail)
            let full = try readFile(path)
            for cut in starts[0]...full.count {
                try writeFile(path, Array(full[..<cut]))
                let kept = starts.lastIndex { $0 <= cut }!  // whole records before the cut
                let (_, recovery) = try WriteAheadLog.open(directory: dir)
                #expect(recovery.recordCount == 6 + kept, "cut \(cut)")
                #expect(try readFile(path).count == starts[kept], "cut \(cut): file truncated to the last whole record")
                if cut == starts[kept] {
                    #expect(recovery.truncatedTail == nil)
                } else {
                    #expect(recovery.truncatedTail?.offset == starts[kept])
                    #expect(recovery.truncatedTail?.droppedBytes == cut - starts[kept])
                }
                let expected = try expectedGroups(applying: Array(Self.tail[..<kept]))
                for group in [GroupID(1), GroupID(2)] {
                    #expect(recovery.groups[group]?.entries == expected[group]?.entries, "cut \(cut) group \(group)")
                    #expect(recovery.groups[group]?.hardState == expected[group]?.hardState, "cut \(cut)")
                }
            }
        }
    }

    @Test func corruptLastRecordIsCutAway() throws {
        try withTemporaryDirectory { dir in
            let (path, starts) = try writeLog(dir, tail: Self.tail)
            var bytes = try readFile(path)
            bytes[bytes.count - 2] ^= 0x10
            try writeFile(path, bytes)
            let (_, recovery) = try WriteAheadLog.open(directory: dir)
            #expect(recovery.truncatedTail?.offset == starts[3])
            #expect(recovery.recordCount == 9)
            guard case .corrupt(_, .checksumMismatch) = recovery.truncatedTail?.cause else {
                Issue.record("expected a checksum mismatch, got \(String(describing: recovery.truncatedTail))")
                return
            }
        }
    }

    @Test(arguments: [0, 4, 9, 20]) func bitFlipInAMiddleRecordNamesFileAndOffset(byteInRecord: Int) throws {
        try withTemporaryDirectory { dir in
            let (path, starts) = try writeLog(dir, tail: Self.tail)
            var bytes = try readFile(path)
            bytes[starts[1] + byteInRecord] ^= 0x04
            try writeFile(path, bytes)
            do throws(WALError) {
                _ = try WriteAheadLog.open(directory: dir)
                Issue.record("opened a log with a corrupt middle record")
            } catch {
                #expect(error.code == .corruptRecord)
                #expect(error.file == path)
                #expect(error.offset == starts[1])
                #expect(error.description.contains(path) && error.description.contains("offset \(starts[1])"))
            }
            #expect(try readFile(path) == bytes, "nothing is truncated when recovery refuses")
        }
    }

    @Test func corruptionInAnOlderSegmentIsAnError() throws {
        try withTemporaryDirectory { dir in
            _ = try writeLog(dir, tail: Self.tail)
            let first = dir + "/" + (try segmentNames(dir))[0]
            var bytes = try readFile(first)
            bytes.removeLast()  // a torn tail, but not in the last segment
            try writeFile(first, bytes)
            #expect { try WriteAheadLog.open(directory: dir) } throws: { ($0 as? WALError)?.code == .corruptRecord }
        }
    }

    @Test func missingMiddleSegmentAndBadHeaderAreErrors() throws {
        try withTemporaryDirectory { dir in
            do {
                let (log, _) = try WriteAheadLog.open(directory: dir, options: WALOptions(segmentSizeLimit: 1))
                for k in UInt64(0)..<3 { try log.append(sampleRecords(group: 1, first: 2 * k + 1, count: 3)) }
            }
            let names = try segmentNames(dir)
            #expect(names.count == 3)
            try FileManager.default.moveItem(atPath: dir + "/" + names[1], toPath: dir + "/old")
            #expect { try WriteAheadLog.open(directory: dir) } throws: { ($0 as? WALError)?.code == .missingSegment }
            try FileManager.default.moveItem(atPath: dir + "/old", toPath: dir + "/" + names[1])
            var bytes = try readFile(dir + "/" + names[2])
            bytes[0] = UInt8(ascii: "X")
            try writeFile(dir + "/" + names[2], bytes)
            #expect { try WriteAheadLog.open(directory: dir) } throws: { ($0 as? WALError)?.code == .badSegmentHeader }
        }
    }

    @Test func leftoverTemporarySegmentIsIgnoredAndRemoved() throws {
        try withTemporaryDirectory { dir in
            _ = try writeLog(dir, tail: Self.tail)
            try writeFile(dir + "/wal-00000000000000ff.log.tmp", [1, 2])
            let (_, recovery) = try WriteAheadLog.open(directory: dir)
            #expect(recovery.recordCount == 10)
            #expect(!FileManager.default.fileExists(atPath: dir + "/wal-00000000000000ff.log.tmp"))
        }
    }

    /// The groups' state after the first segment's records and then `tail`, by the independent model.
    func expectedGroups(applying tail: [WALRecord]) throws -> [GroupID: ModelGroup] {
        var model = ModelLog()
        for record in sampleRecords(group: 1, first: 1, count: 3) + sampleRecords(group: 2, first: 1, count: 3) + tail {
            model.apply(record)
        }
        return model.groups
    }
}
