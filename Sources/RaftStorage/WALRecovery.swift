import RaftCore

/// What opening a `WriteAheadLog` recovered: every group's durable state, rebuilt by replaying all segments.
public struct WALRecovery: Sendable {
    /// Each group that has any record in the log: its hard state, latest snapshot mark and the entries after it.
    /// Feed each to `RaftNode(config:restoring:)`.
    public var groups: [GroupID: PersistentState]
    /// The damaged tail cut off the last segment, if there was one (what a crash mid-write leaves behind).
    public var truncatedTail: TailTruncation?
    /// The segment files replayed, oldest first.
    public var segmentFiles: [String]
    /// The number of records replayed.
    public var recordCount: Int
    /// Set when `WALOptions.repair` dropped a damaged record in the middle of the log and everything after
    /// it: what was dropped, for the owner to report loudly. Acknowledged writes may have been lost.
    public var repaired: String? = nil
}

/// A torn or corrupt tail that recovery removed from the last segment with `ftruncate` and `fsync`.
public struct TailTruncation: Sendable, Equatable {
    /// The segment's path.
    public var file: String
    /// The offset the segment was cut at: the start of the first bad record.
    public var offset: Int
    /// How many bytes were dropped.
    public var droppedBytes: Int
    /// What was wrong with the record at `offset`.
    public var cause: RecordDecodeError
}
