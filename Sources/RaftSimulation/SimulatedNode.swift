import RaftCore

/// One simulated member: a `RaftNode` in memory, a disk that keeps only what was persisted, and the
/// state machine it applies to.
struct SimulatedNode {
    let id: NodeID
    /// `nil` while crashed.
    var core: RaftNode?
    /// Bumped at every crash, so that persist completions scheduled before it are ignored.
    var generation = 0
    /// The Ready being persisted (the shell handles one at a time).
    var persisting: Ready?

    // The disk: survives crashes.
    var diskHardState = HardState()
    var diskSnapshot: SnapshotMetadata
    var diskSnapshotState = KeyValueState()
    var diskEntries: [Entry] = []

    // Memory: lost at a crash.
    var state = KeyValueState()
    var appliedIndex: LogIndex = .zero
    var receivedSnapshots: [LogIndex: KeyValueState] = [:]
    var nextCompactionAt: UInt64 = 0

    init(id: NodeID, membership: Membership) {
        self.id = id
        diskSnapshot = SnapshotMetadata(index: .zero, term: .zero, membership: membership)
    }

    var isUp: Bool { core != nil }

    /// Makes a Ready durable. `entryPrefix` < entries.count models a torn write cut short by a crash
    /// (then the hard state, written after the entries, is lost too).
    mutating func persist(_ ready: Ready, snapshotState: KeyValueState?, entryPrefix: Int? = nil) {
        if let snapshot = ready.snapshot, let snapshotState {
            diskSnapshot = snapshot
            diskSnapshotState = snapshotState
            diskEntries = []
        }
        if let first = ready.entries.first {
            let count = entryPrefix ?? ready.entries.count
            diskEntries.removeAll { $0.index >= first.index }
            diskEntries.append(contentsOf: ready.entries.prefix(count))
            if count < ready.entries.count { return }
        }
        if let hard = ready.hardState { diskHardState = hard }
    }

    /// Drops disk entries covered by a new snapshot.
    mutating func compact(to snapshot: SnapshotMetadata, state snapshotState: KeyValueState) {
        diskSnapshot = snapshot
        diskSnapshotState = snapshotState
        diskEntries.removeAll { $0.index <= snapshot.index }
    }

    var recoveredState: PersistentState {
        PersistentState(hardState: diskHardState, snapshot: diskSnapshot, entries: diskEntries)
    }
}
