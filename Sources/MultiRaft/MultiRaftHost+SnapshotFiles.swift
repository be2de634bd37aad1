import RaftCore
import RaftStorage

/// The steps by which a new snapshot file becomes a group's, in order (`docs/multi-raft.md`, "Snapshots"); crash
/// tests observe them through `MultiRaftHost.snapshotFileObserver`.
enum SnapshotFileStep: Sendable, Hashable, CaseIterable {
    /// The file was renamed into place and the directory synced; the WAL record naming it is not appended yet.
    case installed
    /// The WAL record naming the file (`snapshot` or `compact`) is durable; the group's older files are still there.
    case recorded
    /// The group's older files were deleted.
    case released
}

extension MultiRaftHost {
    /// Called right after a WAL append: each `snapshot` or `compact` record in it is durable now, so recovery will
    /// rely on the file it names and no longer needs the group's older ones, which are deleted. Until this point
    /// they stayed (a crash after the new file was renamed in, before its record, recovers from them). A failed
    /// deletion is logged; the next release deletes the files left.
    func releaseSnapshots(recordedIn records: [WALRecord]) {
        for record in records {
            switch record {
            case .snapshot(let group, let metadata), .compact(let group, let metadata):
                snapshotFileObserver?(.recorded, group, metadata.index)
                guard slots[group] != nil else { continue }  // destroyed: `cleanUpRemovedGroups` deletes them all
                do {
                    let deleted = try snapshots.release(group: group, through: metadata)
                    if !deleted.isEmpty {
                        logger.debug(
                            "deleted superseded snapshot files",
                            metadata: ["raft.group": "\(group)", "files": "\(deleted.joined(separator: ", "))"])
                    }
                } catch {
                    logger.error("cannot delete the superseded snapshot files of group \(group): \(error)")
                }
                snapshotFileObserver?(.released, group, metadata.index)
            default:
                continue
            }
        }
    }
}
