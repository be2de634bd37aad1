import RaftCore

/// What `SnapshotStore.choose(group:usable:)` did with the files `open` found for a group.
public struct SnapshotChoice: Sendable, Equatable {
    /// The snapshot that is now the group's latest, or `nil` if no found file was usable.
    public var chosen: SnapshotMetadata?
    /// Files deleted, unread, because the log cannot continue from them: newer than the log (a received snapshot
    /// whose WAL record never became durable, a file of an earlier replica of the group) or older than its
    /// snapshot mark.
    public var unusable: [String]
    /// Files deleted because they are older than the chosen one.
    public var superseded: [String]

    public init(chosen: SnapshotMetadata?, unusable: [String], superseded: [String]) {
        self.chosen = chosen
        self.unusable = unusable
        self.superseded = superseded
    }
}

extension SnapshotStore {
    /// The index and term of each `.snap` file of `group` that `open` found and `choose` has not settled yet,
    /// newest first.
    public func candidates(group: GroupID) -> [(index: LogIndex, term: Term)] {
        (found[group] ?? []).map { ($0.index, $0.term) }
    }

    /// Settles `group` after `open`: the newest found file that `usable` accepts (given the index and term its
    /// name says) is verified (header, name, checksum) and becomes the group's latest snapshot; only then are the
    /// group's other found files deleted, those `usable` refused and those older than the chosen one, and the
    /// directory synced. Call it once for each group the log knows, before using the group's snapshots.
    /// - Parameter usable: whether the log can go on from a snapshot through this index and term (the WAL's
    ///   snapshot mark names it, or the log holds that very entry). Asked newest first, until it says yes.
    /// - Returns: what was chosen and deleted (for the owner's log); `chosen` is `nil`, and every found file
    ///   deleted, if `usable` accepted none.
    /// - Throws: `.corrupt` naming the file if the chosen file is damaged (a file the log needs: nothing is
    ///   deleted, the operator decides); `.io` on I/O failure.
    public func choose(
        group: GroupID, usable: (LogIndex, Term) -> Bool
    ) throws(SnapshotError) -> SnapshotChoice {
        guard let list = found[group] else {
            return SnapshotChoice(chosen: latestMetadata(group: group), unusable: [], superseded: [])
        }
        var choice = SnapshotChoice(chosen: nil, unusable: [], superseded: [])
        var file: SnapshotFile?
        for candidate in list {
            if file != nil {
                choice.superseded.append(candidate.name)
            } else if usable(candidate.index, candidate.term) {
                file = try verifiedFile(candidate, of: group)
            } else {
                choice.unusable.append(candidate.name)
            }
        }
        found[group] = nil
        if let file {
            files[group] = file
            choice.chosen = file.header.metadata
        }
        try remove(choice.unusable + choice.superseded, of: group)
        return choice
    }
}
