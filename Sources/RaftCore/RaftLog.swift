/// The in-memory Raft log of one member: a snapshot (everything up to `snapshot.index`, compacted) and the
/// entries after it, with the commit index and how far entries have been handed out and persisted.
///
/// Invariants: `entries[k].index == snapshot.index + 1 + k`; `snapshot.index <= applied <= committed <=
/// lastIndex`; `persisted <= lastIndex`.
public struct RaftLog: Sendable {
    /// The latest snapshot; entries up to its index are gone.
    public private(set) var snapshot: SnapshotMetadata
    /// The entries after the snapshot.
    public private(set) var entries: [Entry]
    /// The highest index known to be committed.
    public internal(set) var committed: LogIndex
    /// The highest index handed to the shell to apply.
    public internal(set) var applied: LogIndex
    /// The highest index the shell has reported durable.
    public internal(set) var persisted: LogIndex
    /// The first index not yet handed to the shell for persistence.
    var unstableFrom: LogIndex
    /// A snapshot received from the leader that the shell has yet to install.
    var unstableSnapshot: SnapshotMetadata?

    init(snapshot: SnapshotMetadata, entries: [Entry], committed: LogIndex) {
        self.snapshot = snapshot
        self.entries = entries
        let last = entries.last?.index ?? snapshot.index
        self.committed = min(max(committed, snapshot.index), last)
        self.applied = snapshot.index
        self.persisted = last
        self.unstableFrom = last + 1
    }

    /// The first index still held (after the snapshot).
    public var firstIndex: LogIndex { snapshot.index + 1 }
    /// The last index in the log (the snapshot's index when there are no entries).
    public var lastIndex: LogIndex { entries.last?.index ?? snapshot.index }
    /// The term of the last entry.
    public var lastTerm: Term { entries.last?.term ?? snapshot.term }

    /// The term of the entry at `index`, or `nil` if it is compacted away or beyond the end.
    public func term(at index: LogIndex) -> Term? {
        if index == snapshot.index { return snapshot.term }
        if index < snapshot.index || index > lastIndex { return nil }
        return entries[Int(index.rawValue - snapshot.index.rawValue - 1)].term
    }

    /// The entry at `index`, if held.
    public func entry(at index: LogIndex) -> Entry? {
        if index <= snapshot.index || index > lastIndex { return nil }
        return entries[Int(index.rawValue - snapshot.index.rawValue - 1)]
    }

    /// True if the log holds an entry at `index` with `term` (index 0 always matches, §5.3).
    func matches(index: LogIndex, term: Term) -> Bool {
        self.term(at: index) == term
    }

    /// Raft's "at least as up-to-date" comparison (§5.4.1).
    func isUpToDate(lastIndex otherIndex: LogIndex, lastTerm otherTerm: Term) -> Bool {
        otherTerm > lastTerm || (otherTerm == lastTerm && otherIndex >= lastIndex)
    }

    /// Entries in `[from, through]`, at most `maxBytes` in total but at least one. `nil` if `from` is
    /// compacted away.
    func entries(from: LogIndex, through: LogIndex, maxBytes: Int) -> [Entry]? {
        if from <= snapshot.index { return nil }
        if from > through || from > lastIndex { return [] }
        let lower = Int(from.rawValue - snapshot.index.rawValue - 1)
        let upper = Int(min(through, lastIndex).rawValue - snapshot.index.rawValue - 1)
        var end = lower
        var bytes = 0
        while end <= upper {
            bytes += entries[end].byteCount
            if bytes > maxBytes && end > lower { break }
            end += 1
        }
        return Array(entries[lower..<end])
    }

    /// Walks back from `index` to the last entry whose term is at most `term`; used for fast backtracking.
    /// Returns that index and its term (stops at the snapshot).
    func lastIndex(atOrBefore index: LogIndex, withTermAtMost term: Term) -> (LogIndex, Term) {
        var i = min(index, lastIndex)
        while i > snapshot.index, let t = self.term(at: i), t > term {
            i = i - 1
        }
        return (i, self.term(at: i) ?? .zero)
    }

    /// Appends entries from the leader after `prevIndex` (which matched), truncating a conflicting suffix.
    /// Returns the index of the last new entry.
    mutating func appendFromLeader(_ newEntries: [Entry], after prevIndex: LogIndex) -> LogIndex {
        var firstNew = 0
        while firstNew < newEntries.count {
            let entry = newEntries[firstNew]
            guard let existing = term(at: entry.index) else { break }
            if existing != entry.term { break }
            firstNew += 1
        }
        if firstNew < newEntries.count {
            let start = newEntries[firstNew].index
            precondition(start > committed, "Raft safety: a committed entry at \(start) would be overwritten")
            truncate(after: start - 1)
            entries.append(contentsOf: newEntries[firstNew...])
        }
        return prevIndex + UInt64(newEntries.count)
    }

    /// Appends entries created by this member as leader (their indexes follow `lastIndex`).
    mutating func appendLocal(_ entry: Entry) {
        assert(entry.index == lastIndex + 1)
        entries.append(entry)
    }

    /// Drops entries after `index`.
    private mutating func truncate(after index: LogIndex) {
        let keep = Int(index.distance(from: snapshot.index))
        if keep < entries.count { entries.removeSubrange(keep...) }
        if unstableFrom > index + 1 { unstableFrom = index + 1 }
        if persisted > index { persisted = index }
    }

    /// Raises the commit index (never lowers it).
    mutating func commit(to index: LogIndex) -> Bool {
        let target = min(index, lastIndex)
        if target > committed {
            committed = target
            return true
        }
        return false
    }

    /// Replaces the whole log by a snapshot received from the leader.
    mutating func restore(_ snapshot: SnapshotMetadata) {
        self.snapshot = snapshot
        entries = []
        committed = snapshot.index
        applied = snapshot.index
        persisted = snapshot.index
        unstableFrom = snapshot.index + 1
        unstableSnapshot = snapshot
    }

    /// Drops entries up to `snapshot.index`, which the shell has captured in a state machine snapshot.
    mutating func compact(to snapshot: SnapshotMetadata) {
        let drop = Int(snapshot.index.distance(from: self.snapshot.index))
        if drop >= entries.count {
            entries.removeAll(keepingCapacity: true)
        } else {
            entries.removeFirst(drop)
        }
        self.snapshot = snapshot
        if unstableFrom <= snapshot.index { unstableFrom = snapshot.index + 1 }
    }

    /// Entries not yet handed out for persistence; marks them handed out.
    mutating func takeUnstable() -> [Entry] {
        guard unstableFrom <= lastIndex else { return [] }
        let lower = Int(unstableFrom.rawValue - snapshot.index.rawValue - 1)
        let result = Array(entries[lower...])
        unstableFrom = lastIndex + 1
        return result
    }

    /// True if entries wait to be handed out for persistence.
    var hasUnstable: Bool { unstableFrom <= lastIndex || unstableSnapshot != nil }

    /// The highest index that may be handed out for applying: committed, and handed out for persistence.
    var applicableIndex: LogIndex { min(committed, unstableFrom - 1) }

    /// Committed entries not yet handed out for applying; marks them handed out.
    mutating func takeCommitted() -> [Entry] {
        let upper = applicableIndex
        guard upper > applied else { return [] }
        let lower = Int(applied.rawValue - snapshot.index.rawValue)
        let count = Int(upper.rawValue - applied.rawValue)
        applied = upper
        return Array(entries[lower..<(lower + count)])
    }
}
