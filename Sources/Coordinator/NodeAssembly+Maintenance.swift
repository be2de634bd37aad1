import Foundation
import Meta
import MultiRaft
import RaftCore
import Synchronization

/// The node's housekeeping, one round a second (the server's maintenance task and the node-level simulation run
/// the same rounds).
extension NodeAssembly {
    /// One round: report the leader hints gathered since the last one; every 5th round, remove groups that meta
    /// no longer places here (what a crash left) and, on the meta leader, expire buckets past their TTL; every
    /// 15th, on the meta leader, finish membership changes left pending.
    /// - Returns: a line for the log per thing done.
    public func maintain(round: Int) async -> [String] {
        var lines: [String] = []
        await reportLeaderHints()
        guard round % 5 == 0 else { return lines }
        lines += await sweepOrphanGroups()
        guard await host.isLeader(of: coordinator.metaGroup) else { return lines }
        let now = host.environment.wallNanoseconds()
        lines += await coordinator.expireBuckets(now: now).map { "TTL expired: \($0)" }
        if round % 15 == 0 { lines += await coordinator.finishPendingChanges().map { "pending change: \($0)" } }
        return lines
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
    func sweepOrphanGroups() async -> [String] {
        guard await coordinator.metaIsCurrent() else { return [] }
        let (host, meta, nodeID) = (self.host, self.meta, coordinator.nodeID)
        let removed = Mutex<[GroupID]>([])
        await host.onLoopThread {
            let groups = GroupReconciler.sweep(state: meta.current, node: nodeID, host: host)
            removed.withLock { $0 = groups }
        }
        return removed.withLock { $0 }.map { "removed group \($0): meta no longer places a vnode of it on this node" }
    }
}
