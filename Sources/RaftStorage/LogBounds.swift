import RaftCore

/// The index range of one group's log (`snapshotIndex` < stored indexes <= `lastIndex`): enough to check that
/// a record keeps the log contiguous. The writer checks records before writing; recovery checks them again.
struct LogBounds: Sendable, Equatable {
    var snapshotIndex: LogIndex = .zero
    var lastIndex: LogIndex = .zero
    /// True after a `removeGroup` record: every entry written before is dead.
    var removed = false

    /// Applies `record`, or returns why it would break the log (and leaves the bounds unchanged).
    mutating func apply(_ record: WALRecord) -> String? {
        if case .removeGroup = record {
            self = LogBounds(snapshotIndex: .zero, lastIndex: .zero, removed: true)
            return nil
        }
        switch record {
        case .entries(_, let entries):
            if let problem = Self.runProblem(entries) { return problem }
            let (first, last) = (entries[0].index, entries[entries.count - 1].index)
            guard first > snapshotIndex, first <= lastIndex + 1 else {
                return "entries start at \(first) but the log holds \(snapshotIndex + 1) through \(lastIndex)"
            }
            lastIndex = last
        case .hardState:
            break
        case .snapshot(_, let metadata):
            snapshotIndex = metadata.index
            lastIndex = metadata.index
        case .compact(_, let metadata):
            guard metadata.index >= snapshotIndex, metadata.index <= lastIndex else {
                return "compaction through \(metadata.index) but the log holds \(snapshotIndex) through \(lastIndex)"
            }
            snapshotIndex = metadata.index
        case .truncate(_, let lastKept):
            guard lastKept >= snapshotIndex else {
                return "truncation after \(lastKept) reaches into the snapshot at \(snapshotIndex)"
            }
            lastIndex = min(lastIndex, lastKept)
        case .removeGroup:
            break
        }
        removed = false
        return nil
    }

    /// Why `entries` cannot be one entries record (empty, or indexes not consecutive), whatever the log holds.
    static func runProblem(_ entries: [Entry]) -> String? {
        guard !entries.isEmpty else { return "an entries record must hold at least one entry" }
        for k in entries.indices.dropFirst() where entries[k].index != entries[k - 1].index + 1 {
            return "entries are not consecutive (\(entries[k - 1].index) then \(entries[k].index))"
        }
        return nil
    }
}
