import Synchronization

/// The groups this node became leader of since the last report, for the meta group's leader hints (so that
/// routing reaches leaders without retries in the steady state). Written on the Raft loop thread, read by the
/// maintenance task.
final class LeaderHints: Sendable {
    private let pending = Mutex<[UInt64: UInt64]>([:])

    func record(replicaSet: UInt64, leader: UInt64) {
        pending.withLock { $0[replicaSet] = leader }
    }

    func take() -> [UInt64: UInt64] {
        pending.withLock { hints in
            defer { hints = [:] }
            return hints
        }
    }
}
