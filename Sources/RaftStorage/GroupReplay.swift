import RaftCore

/// One group's state as recovery rebuilds it, record by record: what becomes its `PersistentState`.
///
/// Every record acts on the log index by index (an entries record replaces indexes from its first on, compact
/// drops indexes up to its own, truncate drops those after its own, snapshot drops all), so replaying only a
/// suffix of the log gives the same result as replaying all of it whenever the records left out of the suffix
/// only touched indexes that are dead now: the guarantee garbage collection gives (`docs/wal-format.md`).
struct GroupReplay {
    var bounds = LogBounds()
    var hardState = HardState()
    var snapshot = SnapshotMetadata(index: .zero, term: .zero, membership: .empty)
    /// Ascending by index. Strictly replayed, `entries[k].index == snapshot.index + 1 + k`; leniently replayed,
    /// there may be holes until the end (`gapProblem` checks).
    var entries: [Entry] = []
    /// True when every record of the group is known to be in the replayed segments, so that each record must
    /// fit the log so far. False while earlier records may have been garbage collected (the oldest segment
    /// does not start at 0) and no `snapshot` record has reset the group's whole state yet.
    private(set) var strict: Bool
    /// The sequence number of the group's latest hardState record, if any.
    private(set) var latestHardStateSequence: UInt64?
    /// The sequence number of the group's latest snapshot or compact record, if any.
    private(set) var latestSnapshotSequence: UInt64?
    /// True after a `removeGroup` record (and no later record): the group is gone.
    private(set) var removed = false

    init(strict: Bool) { self.strict = strict }

    /// Applies `record` (with sequence number `sequence`), or returns why it breaks the log (leaving the state
    /// unchanged).
    mutating func apply(_ record: WALRecord, sequence: UInt64) -> String? {
        if case .removeGroup = record {
            self = GroupReplay(strict: true)
            _ = bounds.apply(record)
            removed = true
            return nil
        }
        removed = false
        if strict {
            if let problem = bounds.apply(record) { return problem }
        } else if case .entries(_, let run) = record, let problem = LogBounds.runProblem(run) {
            return problem
        } else if case .snapshot = record {
            _ = bounds.apply(record)  // sets both bounds: from here on every record of the group is present
            strict = true
        }
        switch record {
        case .entries(_, let new):
            dropEntries(from: new[0].index)
            entries.append(contentsOf: new)
        case .hardState(_, let state):
            hardState = state
            latestHardStateSequence = sequence
        case .snapshot(_, let metadata):
            snapshot = metadata
            entries = []
            latestSnapshotSequence = sequence
        case .compact(_, let metadata):
            entries.removeFirst(entries.prefix { $0.index <= metadata.index }.count)
            snapshot = metadata
            latestSnapshotSequence = sequence
        case .truncate(_, let lastKept):
            dropEntries(from: lastKept + 1)
        case .removeGroup:
            break
        }
        return nil
    }

    /// Drops entries at or after `index`.
    private mutating func dropEntries(from index: LogIndex) {
        var keep = entries.count
        while keep > 0, entries[keep - 1].index >= index { keep -= 1 }
        entries.removeSubrange(keep...)
    }

    /// After a lenient replay: why the entries are not a contiguous run right after the snapshot (records
    /// that are still needed are missing), or `nil`.
    var gapProblem: String? {
        guard !strict else { return nil }
        var expected = snapshot.index + 1
        for entry in entries {
            guard entry.index == expected else {
                return "its log continues at index \(entry.index) where \(expected) was expected (snapshot at "
                    + "\(snapshot.index))"
            }
            expected += 1
        }
        return nil
    }

    var persistentState: PersistentState {
        PersistentState(hardState: hardState, snapshot: snapshot, entries: entries)
    }
}
