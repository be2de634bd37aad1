import Foundation
import Meta
import MultiRaft
import RaftCore
import RaftWire
import TSDB

/// One row of `CHECKSUM GROUP`: a vnode's checksum of its applied data.
public struct VnodeChecksumRow: Sendable, Equatable {
    public var vnode: UInt64
    public var node: UInt64
    public var checksum: UInt64
    public var points: UInt64
}

/// The replica-group commands (docs/replicas.md), online and under load.
///
/// Meta and the group's membership change in an order that a crash can interrupt anywhere: an addition is
/// recorded in meta first (the new vnode, and a pending `add`), then the group adds a learner, lets it catch up
/// and promotes it through joint consensus, then the pending mark is cleared. A removal marks a pending
/// `remove`, moves leadership away from the leaving node if it leads, takes it out of the group, and only then
/// drops the vnode from meta (which destroys its data on that node). Every step is idempotent; the meta leader
/// finishes pending changes that a crash left behind (`finishPendingChanges`).
extension Coordinator {
    /// How long a learner may take to catch up (a snapshot of a large vnode).
    static let catchUpTimeoutMilliseconds = 600_000
    static let adminTimeoutMilliseconds = 30_000

    /// The meta state after a linearizable read of the local meta replica: it holds every change committed
    /// before the call.
    public func freshState() async -> MetaState {
        _ = await metaIsCurrent()
        return meta.current
    }

    /// True once the local meta replica has applied everything committed before the call (a ReadIndex round).
    public func metaIsCurrent() async -> Bool {
        (try? await awaitCurrentMeta()) != nil
    }

    func replicaSet(_ id: UInt64) async throws(CoordinatorError) -> ReplicaSetInfo {
        guard let location = await freshState().replicaSet(id) else {
            throw CoordinatorError(.notFound, "meta.replica_set_not_found", "replica set \(id) does not exist")
        }
        return location.set
    }

    /// Runs a meta command of the replica changes, retrying while meta is unavailable (its leader may have just
    /// died with the proposal): these commands are idempotent, so a retry of one that did commit is harmless.
    /// - Returns: whether an earlier attempt may have committed (a retry happened).
    @discardableResult
    func executeOrThrow(_ command: MetaCommand) async throws(CoordinatorError) -> Bool {
        let clock = host.environment
        let deadline = clock.monotonicNanoseconds() + UInt64(Self.adminTimeoutMilliseconds) * 1_000_000
        var retried = false
        while true {
            let result: MetaResult
            do {
                result = try await execute(command)
            } catch {
                guard error.kind == .unavailable, clock.monotonicNanoseconds() < deadline else { throw error }
                retried = true
                await clock.sleep(milliseconds: 200)
                continue
            }
            guard result.ok else { throw CoordinatorError(refused: result) }
            return retried
        }
    }

    /// `REPLICA ADD`: a new vnode on `node` joins as a learner, catches up, and becomes a voter.
    public func addReplica(_ setID: UInt64, node: UInt64) async throws(CoordinatorError) {
        let set = try await replicaSet(setID)
        if set.nodes.contains(node) && set.pending == nil {
            throw CoordinatorError(
                .conflict, "meta.vnode_exists", "replica set \(setID) already has a vnode on node \(node)")
        }
        do {
            try await executeOrThrow(.addVnode(replicaSet: setID, node: node))
        } catch  where error.code == "meta.vnode_exists" {
            // A retried addition whose first attempt committed and was already finished by the meta leader.
            guard try await replicaSet(setID).nodes.contains(node) else { throw error }
        }
        try await finishAdd(setID, node: node)
    }

    func finishAdd(_ setID: UInt64, node: UInt64) async throws(CoordinatorError) {
        let set = try await replicaSet(setID)
        try await administer(
            .addLearner(NodeID(node)), set: set, timeoutMilliseconds: Self.catchUpTimeoutMilliseconds)
        try await administer(.promote(NodeID(node)), set: set, timeoutMilliseconds: Self.adminTimeoutMilliseconds)
        try await executeOrThrow(.setPending(replicaSet: setID, change: nil))
    }

    /// `REPLICA REMOVE`: the vnode on `node` leaves the group (leadership moves first if it leads), then its data
    /// is deleted. The last replica cannot be removed.
    public func removeReplica(_ setID: UInt64, node: UInt64) async throws(CoordinatorError) {
        let set = try await replicaSet(setID)
        guard set.nodes.contains(node) else {
            throw CoordinatorError(
                .notFound, "meta.vnode_not_found", "replica set \(setID) has no vnode on node \(node)")
        }
        guard set.nodes.count > 1 else {
            throw CoordinatorError(
                .badRequest, "meta.last_replica", "node \(node) holds the last replica of replica set \(setID)")
        }
        if let pending = set.pending, pending != PendingChange(kind: .remove, node: node) {
            throw CoordinatorError(
                .conflict, "meta.change_pending",
                "replica set \(setID) is still changing (\(pending.kind.rawValue) node \(pending.node)); retry later")
        }
        try await executeOrThrow(.setPending(replicaSet: setID, change: PendingChange(kind: .remove, node: node)))
        try await finishRemove(setID, node: node)
    }

    func finishRemove(_ setID: UInt64, node: UInt64) async throws(CoordinatorError) {
        let set = try await replicaSet(setID)
        if await leader(of: set) == node, let successor = set.nodes.first(where: { $0 != node }) {
            try await administer(
                .transferLeadership(NodeID(successor)), set: set, timeoutMilliseconds: Self.adminTimeoutMilliseconds)
        }
        try await administer(.remove(NodeID(node)), set: set, timeoutMilliseconds: Self.adminTimeoutMilliseconds)
        try await executeOrThrow(.removeVnode(replicaSet: setID, node: node))
    }

    /// Replaces this node's replica of `setID` whose data was found damaged: it leaves the set, and a fresh vnode
    /// on the same node joins as a learner, takes a snapshot from a healthy replica, and becomes a voter — what
    /// `REPLICA REMOVE` then `REPLICA ADD` do, online. Retried (every second, up to a minute) while the set is busy
    /// or leaderless. A set whose only replica is damaged cannot be repaired from another: it stays out of
    /// service, and its reads fail naming the damaged file.
    public func replaceDamagedReplica(_ setID: UInt64, node: UInt64) async -> String {
        for _ in 0..<60 {
            do {
                let set = try await replicaSet(setID)
                if set.nodes.contains(node) {
                    guard set.nodes.count > 1 else {
                        return "replica set \(setID): its only replica, on node \(node), is damaged"
                    }
                    try await removeReplica(setID, node: node)
                }
                try await addReplica(setID, node: node)
                return "replica set \(setID): the damaged replica on node \(node) was replaced"
            } catch {
                await host.environment.sleep(milliseconds: 1_000)
            }
        }
        return "replica set \(setID): the damaged replica on node \(node) could not be replaced in a minute"
    }

    /// `REPLICA PROMOTE`: a leadership transfer to the vnode on `node`; the voter set does not change.
    public func promoteReplica(_ setID: UInt64, node: UInt64) async throws(CoordinatorError) {
        let set = try await replicaSet(setID)
        guard set.nodes.contains(node) else {
            throw CoordinatorError(
                .notFound, "meta.vnode_not_found", "replica set \(setID) has no vnode on node \(node)")
        }
        try await administer(
            .transferLeadership(NodeID(node)), set: set, timeoutMilliseconds: Self.adminTimeoutMilliseconds)
        _ = try? await execute(.leaderHint(replicaSet: setID, node: node))
    }

    /// `REPLICA DESTROY`: the whole group and its data go.
    public func destroyReplicaSet(_ setID: UInt64) async throws(CoordinatorError) {
        _ = try await replicaSet(setID)
        try await executeOrThrow(.destroyReplicaSet(setID))
    }

    /// The vnode `id`: its replica set and node.
    func vnode(_ id: UInt64) async throws(CoordinatorError) -> (set: ReplicaSetInfo, node: UInt64) {
        for location in await freshState().allReplicaSets {
            if let vnode = location.set.vnodes.first(where: { $0.id == id }) { return (location.set, vnode.node) }
        }
        throw CoordinatorError(.notFound, "meta.vnode_not_found", "vnode \(id) does not exist")
    }

    /// `MOVE VNODE v TO NODE n`: a copy on `n` first (learner, catch-up, voter), then the old vnode leaves.
    public func moveVnode(_ id: UInt64, to node: UInt64) async throws(CoordinatorError) {
        let (set, from) = try await vnode(id)
        guard from != node else { return }
        // Repeating a move cut short is safe: a copy already complete on `node` is not added again.
        if !set.nodes.contains(node) || set.pending == PendingChange(kind: .add, node: node) {
            try await addReplica(set.id, node: node)
        }
        try await removeReplica(set.id, node: from)
    }

    /// `COPY VNODE v TO NODE n`: one more replica of the vnode's group, on `n`.
    public func copyVnode(_ id: UInt64, to node: UInt64) async throws(CoordinatorError) {
        try await addReplica(try await vnode(id).set.id, node: node)
    }

    /// `DROP VNODE v`: the vnode leaves its group (as `REPLICA REMOVE`).
    public func dropVnode(_ id: UInt64) async throws(CoordinatorError) {
        let (set, node) = try await vnode(id)
        try await removeReplica(set.id, node: node)
    }

    /// `CHECKSUM GROUP`: every vnode's checksum, each read after a ReadIndex round on its own replica (so every
    /// replica has applied at least what was committed when the command started).
    public func checksums(_ setID: UInt64) async throws(CoordinatorError) -> [VnodeChecksumRow] {
        let set = try await replicaSet(setID)
        var rows: [VnodeChecksumRow] = []
        for vnode in set.vnodes {
            do {
                let answer = try await host.read(
                    GroupID(setID), via: NodeID(vnode.node), linearizable: true, request: VnodeQuery.checksum.bytes,
                    timeoutMilliseconds: writeTimeoutMilliseconds)
                let value = try VnodeChecksum(answer: answer)
                rows.append(
                    VnodeChecksumRow(vnode: vnode.id, node: vnode.node, checksum: value.checksum, points: value.points))
            } catch {
                throw Self.unavailable(error, what: "vnode \(vnode.id) on node \(vnode.node)")
            }
        }
        return rows
    }

    /// The node that leads the replica set: from this node's own replica if it has one, else the leader hint
    /// (which follows elections). A stale answer costs only an extra step: a leader that is removed hands
    /// leadership over by itself (the core's joint-consensus rules).
    public func leader(of set: ReplicaSetInfo) async -> UInt64? {
        if set.nodes.contains(nodeID) {
            let group = GroupID(set.id)
            if let leader = await host.inspect({ view in view.leader(of: group) }) {
                return leader.rawValue
            }
        }
        return set.leaderHint
    }

    /// Runs `operation` on the set's leader, following leader hints and waiting out elections.
    func administer(
        _ operation: AdminOperation, set: ReplicaSetInfo, timeoutMilliseconds: Int
    ) async throws(CoordinatorError) {
        var candidates = set.nodes.map { NodeID($0) }
        if let hint = set.leaderHint, let index = candidates.firstIndex(of: NodeID(hint)) {
            candidates.swapAt(0, index)
        }
        try await administer(
            operation, group: GroupID(set.id), candidates: candidates, what: "replica set \(set.id)",
            timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Runs `operation` on `group`'s leader, starting with `candidates[0]`, following the hints of the nodes
    /// asked and waiting out elections. One attempt waits at most `attemptMilliseconds` (by default 8 s, 15 s
    /// for a learner's catch-up).
    func administer(
        _ operation: AdminOperation, group: GroupID, candidates: [NodeID], what: String, timeoutMilliseconds: Int,
        attemptMilliseconds: Int? = nil
    ) async throws(CoordinatorError) {
        let clock = host.environment
        let deadline = clock.monotonicNanoseconds() + UInt64(timeoutMilliseconds) * 1_000_000
        var target = candidates[0]
        var next = 1
        var lastError: (any Error)?
        while clock.monotonicNanoseconds() < deadline {
            // A leader that died with the request, or a request or answer lost on the way, is given up on soon
            // and the next node asked. An attempt waits longer while a learner catches up, but not for the whole
            // operation: every step is idempotent, so the next attempt carries on with the catch-up.
            let remaining = Int((deadline - min(deadline, clock.monotonicNanoseconds())) / 1_000_000)
            let attempt: Int
            if let attemptMilliseconds {
                attempt = min(remaining, attemptMilliseconds)
            } else if case .addLearner = operation {
                attempt = min(remaining, 15_000)
            } else {
                attempt = min(remaining, 8_000)
            }
            do {
                try await host.administer(operation, group: group, via: target, timeoutMilliseconds: max(attempt, 100))
                return
            } catch HostError.noLeader(_, let hint) {
                lastError = HostError.noLeader(group, leaderHint: hint)
                if let hint, hint != target {
                    target = hint
                    continue
                }
            } catch HostError.rejected(let g, let rejection) {
                throw CoordinatorError(.badRequest, rejection.code, HostError.rejected(g, rejection).description)
            } catch {
                lastError = error
            }
            target = candidates[next % candidates.count]
            next += 1
            await clock.sleep(milliseconds: 100)
        }
        throw Self.unavailable(lastError, what: "\(what) (\(operation))")
    }

    // MARK: - Housekeeping, run by the meta leader

    /// Finishes membership changes that a crash (or a lost client) left pending in meta.
    public func finishPendingChanges() async -> [String] {
        var done: [String] = []
        for location in await freshState().allReplicaSets {
            guard let pending = location.set.pending else { continue }
            do {
                switch pending.kind {
                case .add: try await finishAdd(location.set.id, node: pending.node)
                case .remove: try await finishRemove(location.set.id, node: pending.node)
                }
                done.append("replica set \(location.set.id): \(pending.kind.rawValue) node \(pending.node) finished")
            } catch {
                done.append(
                    "replica set \(location.set.id): \(pending.kind.rawValue) node \(pending.node) failed: \(error)")
            }
        }
        return done
    }

    /// Drops the buckets whose whole time range lies before `now - TTL` of their database.
    public func expireBuckets(now: Int64) async -> [String] {
        var dropped: [String] = []
        for (tenantName, tenant) in await freshState().tenants {
            for (name, database) in tenant.databases {
                guard let ttl = database.options.ttl else { continue }
                for bucket in database.buckets where bucket.end <= now &- ttl {
                    if (try? await execute(.dropBucket(tenant: tenantName, database: name, bucket: bucket.id)))?.ok
                        == true
                    {
                        dropped.append("\(tenantName).\(name) bucket \(bucket.id) [\(bucket.start), \(bucket.end))")
                    }
                }
            }
        }
        return dropped
    }
}
