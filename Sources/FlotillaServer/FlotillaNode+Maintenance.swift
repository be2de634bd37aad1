import Coordinator
import Foundation
import Meta
import MultiRaft
import RaftCore
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

extension FlotillaNode {
    /// The node's background duties, once a second: learn new nodes' addresses, report leader hints; every few seconds, remove groups that
    /// meta no longer places here (what a crash left), and, on the meta leader, expire buckets past their TTL
    /// and finish membership changes left pending.
    func runMaintenance() async {
        var round = 0
        while true {
            do {
                try await Task.sleep(for: .seconds(1))
            } catch {
                return
            }
            round += 1
            if let failure = await host.inspect({ $0.storageError }) {
                // Nothing else to do while the node cannot persist: wait for the disk, then start afresh.
                if StorageRecovery.probe(options.dataDirectory + "/wal") {
                    StorageRecovery.restartProcess(logger: logger)
                }
                if round % 10 == 1 { logger.warning("storage failed (\(failure)); waiting for the disk to work again") }
                continue
            }
            learnPeerAddresses()  // a registration applied before a restart restored meta from a snapshot
            await reportLeaderHints()
            guard round % 5 == 0 else { continue }
            await sweepOrphanGroups()
            guard await host.isLeader(of: NodeIdentity.metaGroup) else { continue }
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            for line in await coordinator.expireBuckets(now: now) { logger.info("TTL expired: \(line)") }
            if round % 15 == 0 {
                for line in await coordinator.finishPendingChanges() { logger.info("pending change: \(line)") }
            }
        }
    }

    /// Proposes the hints that differ from what meta holds, in one command.
    func reportLeaderHints() async {
        let hints = leaderHints.take()
        guard !hints.isEmpty else { return }
        let state = meta.current
        var changed: [UInt64: UInt64] = [:]
        for location in state.allReplicaSets {
            if let leader = hints[location.set.id], location.set.leaderHint != leader {
                changed[location.set.id] = leader
            }
        }
        guard !changed.isEmpty else { return }
        if (try? await coordinator.execute(.leaderHints(changed))) == nil {
            for (set, leader) in changed { leaderHints.record(replicaSet: set, leader: leader) }  // next round
        }
    }

    /// Destroys hosted data groups that a current meta state no longer places on this node. Runs only after a
    /// linearizable meta read succeeded (a node replaying an old meta log must not judge by it), and judges by
    /// the meta state on the loop thread itself, where groups are created as meta applies.
    func sweepOrphanGroups() async {
        guard await coordinator.metaIsCurrent() else { return }
        let (host, meta, nodeID, logger) = (self.host, self.meta, identity.nodeID, self.logger)
        await host.onLoopThread {
            for group in GroupReconciler.sweep(state: meta.current, node: nodeID, host: host) {
                logger.info("removed group \(group): meta no longer places a vnode of it on this node")
            }
        }
    }
}
