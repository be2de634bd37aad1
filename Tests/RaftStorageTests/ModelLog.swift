import RaftCore

@testable import RaftStorage

/// One group in the in-memory model: written independently of `GroupReplay`, by filtering whole arrays.
struct ModelGroup {
    var hardState = HardState()
    var snapshot = SnapshotMetadata(index: .zero, term: .zero, membership: .empty)
    var entries: [Entry] = []
    var lastIndex: LogIndex { entries.last?.index ?? snapshot.index }
}

/// The model of what the WAL should recover: the meaning of each record, stated as simply as possible.
struct ModelLog {
    var groups: [GroupID: ModelGroup] = [:]

    mutating func apply(_ record: WALRecord) {
        if case .removeGroup = record {
            groups[record.group] = nil
            return
        }
        var group = groups[record.group] ?? ModelGroup()
        switch record {
        case .entries(_, let new): group.entries = group.entries.filter { $0.index < new[0].index } + new
        case .hardState(_, let state): group.hardState = state
        case .snapshot(_, let metadata):
            group.snapshot = metadata
            group.entries = []
        case .compact(_, let metadata):
            group.snapshot = metadata
            group.entries = group.entries.filter { $0.index > metadata.index }
        case .truncate(_, let lastKept): group.entries = group.entries.filter { $0.index <= lastKept }
        case .removeGroup: break
        }
        groups[record.group] = group
    }
}
