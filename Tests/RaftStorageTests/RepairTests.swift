import Foundation
import RaftCore
import Testing

@testable import RaftStorage

/// `WALOptions.repair`: an operator's choice to drop a damaged middle record and everything after it.
@Suite struct RepairTests {
    @Test func repairDropsTheDamagedRecordAndEverythingAfterItLoudly() throws {
        try withTemporaryDirectory { dir in
            let (log, _) = try WriteAheadLog.open(directory: dir, options: WALOptions(segmentSizeLimit: 1))
            try log.append(sampleRecords(group: 1, first: 1, count: 3))
            try log.append(sampleRecords(group: 1, first: 3, count: 3))
            try log.append(sampleRecords(group: 1, first: 5, count: 3))
            let names = try segmentNames(dir)
            #expect(names.count == 3)
            // Damage the second segment's first record: the log refuses to open without repair...
            let middle = dir + "/" + names[1]
            var bytes = try readFile(middle)
            bytes[Segment.headerSize + 9] ^= 0x10
            try writeFile(middle, bytes)
            #expect { try WriteAheadLog.open(directory: dir) } throws: { ($0 as? WALError)?.code == .corruptRecord }
            // ...and with repair keeps only what precedes the damage, saying so.
            let (repairedLog, recovery) = try WriteAheadLog.open(directory: dir, options: WALOptions(repair: true))
            let message = try #require(recovery.repaired)
            #expect(message.contains(middle) && message.contains("offset \(Segment.headerSize)"))
            #expect(recovery.groups[GroupID(1)]?.entries.last?.index == LogIndex(2))
            #expect(try segmentNames(dir).count == 2, "the segment after the damage is deleted")
            // The repaired log takes appends again and reopens cleanly.
            try repairedLog.append(sampleRecords(group: 1, first: 3, count: 2))
            let (_, reopened) = try WriteAheadLog.open(directory: dir)
            #expect(reopened.repaired == nil)
            #expect(reopened.groups[GroupID(1)]?.entries.last?.index == LogIndex(4))
        }
    }
}
