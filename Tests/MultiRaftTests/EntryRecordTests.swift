import RaftCore
import RaftStorage
import Testing

@testable import MultiRaft

/// A member catching up takes in more entries in one round than one WAL record may hold (found moving a 1 GB
/// vnode: the learner's WAL refused a 193 MB record and the node stopped).
@Suite struct EntryRecordTests {
    @Test func entriesOfOneRoundAreSplitIntoRecordsUnderTheLimit() throws {
        let payload = [UInt8](repeating: 7, count: 1 << 20)
        let entries = (1...100).map { Entry(term: Term(1), index: LogIndex(UInt64($0)), data: payload) }
        var records: [WALRecord] = []
        MultiRaftHost.appendEntryRecords(GroupID(5), entries, to: &records)
        #expect(records.count == 4, "100 MiB in records of at most 32 MiB")
        var next = LogIndex(1)
        for record in records {
            guard case .entries(let group, let run) = record else {
                Issue.record("not an entries record")
                continue
            }
            #expect(group == GroupID(5))
            #expect(run.first?.index == next, "contiguous, in order")
            #expect(run.reduce(0) { $0 + $1.byteCount } <= MultiRaftHost.entryRecordBytes)
            next = run.last!.index + 1
        }
        #expect(next == LogIndex(101))
        var small: [WALRecord] = []
        MultiRaftHost.appendEntryRecords(GroupID(5), Array(entries.prefix(3)), to: &small)
        #expect(small.count == 1)
    }
}
