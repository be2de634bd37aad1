import RaftCore

/// What the writer keeps in memory about one group: its log bounds (to check new records) and its latest hard
/// state and snapshot mark with the sequence numbers of the records that hold them (for garbage collection,
/// which must keep or rewrite those records).
struct GroupTracker: Sendable {
    var bounds = LogBounds()
    var latestHardState: (state: HardState, sequence: UInt64)?
    var latestSnapshot: (metadata: SnapshotMetadata, sequence: UInt64)?

    /// Applies `record`, numbered `sequence`, or returns why it would break the log (and changes nothing).
    mutating func apply(_ record: WALRecord, sequence: UInt64) -> String? {
        if let problem = bounds.apply(record) { return problem }
        switch record {
        case .hardState(_, let state): latestHardState = (state, sequence)
        case .snapshot(_, let metadata), .compact(_, let metadata): latestSnapshot = (metadata, sequence)
        case .entries, .truncate: break
        case .removeGroup:
            latestHardState = nil
            latestSnapshot = nil
        }
        return nil
    }
}
