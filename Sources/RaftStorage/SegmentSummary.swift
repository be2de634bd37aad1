import RaftCore

/// What garbage collection needs to know about one segment: where it is, how big, and the highest entry index
/// it holds for each group (a segment whose entries are all compacted away holds no live entry).
struct SegmentSummary: Sendable {
    var path: String
    /// The sequence number of the segment's first record (its name).
    var firstSequence: UInt64
    /// The segment's size in bytes, header included.
    var byteCount: Int
    /// For each group with an entries record here, the highest index among them.
    var maxEntryIndex: [GroupID: LogIndex] = [:]

    /// Takes note of a record written to (or replayed from) this segment.
    mutating func note(_ record: WALRecord) {
        guard case .entries(let group, let entries) = record, let last = entries.last?.index else { return }
        if let known = maxEntryIndex[group], known >= last { return }
        maxEntryIndex[group] = last
    }

    /// True if every entry here is at or below its group's snapshot index now: compacted, hence dead.
    func entriesAreDead(_ groups: [GroupID: GroupTracker]) -> Bool {
        maxEntryIndex.allSatisfy { group, index in
            let bounds = groups[group, default: GroupTracker()].bounds
            return bounds.removed || index <= bounds.snapshotIndex
        }
    }
}
