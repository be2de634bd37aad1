/// When the log forces appended records to stable storage.
public enum FsyncPolicy: Sendable, Equatable {
    /// One `fdatasync` per `append` call (group commit): records are durable when `append` returns. The
    /// only policy under which Raft's "persist before send" rule holds across power loss.
    case always
    /// Never sync; the OS writes back when it likes. For tests and benchmarks only: a crash may lose or tear
    /// any recent record, and a torn record in an older segment then stops recovery.
    case off
}

/// How a `WriteAheadLog` lays out and syncs its segments.
public struct WALOptions: Sendable {
    /// A segment that has reached this many bytes is closed, and the next append starts a new one. A single
    /// append is never split, so a segment may exceed the limit by one batch.
    public var segmentSizeLimit: Int
    /// When appended records are synced.
    public var fsync: FsyncPolicy

    /// Instead of refusing to start on a damaged record before the tail, drop it and everything after it
    /// (later segments included). Data that was acknowledged may be lost: for an operator who chose to, and
    /// reported in `WALRecovery.repaired`.
    public var repair: Bool

    public init(segmentSizeLimit: Int = 64 << 20, fsync: FsyncPolicy = .always, repair: Bool = false) {
        self.segmentSizeLimit = segmentSizeLimit
        self.fsync = fsync
        self.repair = repair
    }
}
