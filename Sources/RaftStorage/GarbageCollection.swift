import RaftCore

/// What one `WriteAheadLog.collectGarbage()` did.
public struct GarbageCollection: Sendable, Equatable {
    /// Segment files deleted.
    public var deletedSegments: Int = 0
    /// Their total size in bytes.
    public var freedBytes: Int = 0
    /// Live records (latest hard states, latest snapshot marks) copied from the deleted segments into the
    /// current one first.
    public var rewrittenRecords: Int = 0
    /// The size of those copies in bytes (always at most half of `freedBytes`).
    public var rewrittenBytes: Int = 0
    /// The groups whose live (not yet compacted) entries keep the oldest remaining segment, and so every later
    /// one: compacting them (taking a snapshot) lets the next collection free more.
    public var pinningGroups: [GroupID] = []

    public init() {}
}
