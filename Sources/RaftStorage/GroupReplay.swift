import RaftCore

/// One group's state as recovery rebuilds it, record by record: what becomes its `PersistentState`.
struct GroupReplay {
    var bounds = LogBounds()
    var hardState = HardState()
    var snapshot = SnapshotMetadata(index: .zero, term: .zero, membership: .empty)
    /// `entries[k].index == snapshot.index + 1 + k`.
    var entries: [Entry] = []

    /// Applies `record`, or returns why it breaks the log (leaving the state unchanged).
    mutating func apply(_ record: WALRecord) -> String? {
        if let problem = bounds.apply(record) { return problem }
        switch record {
        case .entries(_, let new):
            keep(through: new[0].index - 1)
            entries.append(contentsOf: new)
        case .hardState(_, let state):
            hardState = state
        case .snapshot(_, let metadata):
            snapshot = metadata
            entries = []
        case .compact(_, let metadata):
            entries.removeFirst(min(entries.count, Int(metadata.index.distance(from: snapshot.index))))
            snapshot = metadata
        case .truncate(_, let lastKept):
            keep(through: lastKept)
        }
        return nil
    }

    /// Drops entries after `index`.
    private mutating func keep(through index: LogIndex) {
        let count = Int(index.distance(from: snapshot.index))
        if count < entries.count { entries.removeSubrange(count...) }
    }

    var persistentState: PersistentState {
        PersistentState(hardState: hardState, snapshot: snapshot, entries: entries)
    }
}
