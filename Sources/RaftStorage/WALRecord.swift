import RaftCore

/// One record of the write-ahead log: a change to one Raft group's durable state.
///
/// Records of many groups interleave in the one log; replaying them in order rebuilds each group's
/// `PersistentState` (see `WALRecovery`). The encoding is fixed by `docs/wal-format.md` and golden tests.
public enum WALRecord: Sendable, Equatable {
    /// A run of consecutive entries. They replace every stored entry of the group at or after the first
    /// one's index (a conflicting suffix is truncated), as `Ready.entries` requires.
    case entries(GroupID, [Entry])
    /// The group's latest term, vote and commit index (Figure 2 of the Raft paper): replaces the previous one.
    case hardState(GroupID, HardState)
    /// A snapshot received from the leader was installed: the group's whole log is replaced by it (§7).
    case snapshot(GroupID, SnapshotMetadata)
    /// The group compacted its log into a local snapshot: entries up to `index` are dropped, later ones kept.
    case compact(GroupID, SnapshotMetadata)
    /// Entries after `lastKept` are dropped (an explicit truncation, without new entries to replace them).
    case truncate(GroupID, lastKept: LogIndex)
    /// The group was destroyed on this node (its replica removed, its bucket dropped): every earlier record of
    /// the group is dead, and recovery does not rebuild it.
    case removeGroup(GroupID)

    /// The group the record belongs to.
    public var group: GroupID {
        switch self {
        case .entries(let g, _), .hardState(let g, _), .snapshot(let g, _), .compact(let g, _), .truncate(let g, _),
            .removeGroup(let g):
            return g
        }
    }

    /// The type byte that identifies the record on disk. These values never change.
    public enum Kind: UInt8, Sendable, CaseIterable {
        case entries = 1
        case hardState = 2
        case snapshot = 3
        case compact = 4
        case truncate = 5
        case removeGroup = 6
    }

    /// The record's type byte.
    public var kind: Kind {
        switch self {
        case .entries: return .entries
        case .hardState: return .hardState
        case .snapshot: return .snapshot
        case .compact: return .compact
        case .truncate: return .truncate
        case .removeGroup: return .removeGroup
        }
    }
}
