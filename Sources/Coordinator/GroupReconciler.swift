import Meta
import MultiRaft
import RaftCore

/// Keeps the Raft groups a node hosts in step with the metadata: a group for every replica set with a vnode on
/// the node, none for any other.
///
/// Creation follows the meta state (also after a restore). Destruction follows only the commands that remove a
/// vnode (DROP DATABASE/TENANT, TTL expiry, REPLICA REMOVE/DESTROY, ...), judged by the states just before and
/// just after the command: a restored snapshot, or a node replaying an older meta log, must never be read as
/// "this group is gone" (destroying a voter's data would break Raft's safety). `sweep` removes what a crash
/// left behind, against a meta state known to be current.
public enum GroupReconciler {
    /// What a meta change does to the hosted groups.
    public enum Action: Sendable, Equatable {
        /// Nothing yet: an entry replayed after a restart (a later replayed entry may undo it), or a snapshot
        /// restored while the node recovers (entries after it follow).
        case nothing
        /// Create the groups the state places here, destroy none: the end of the replay, or a snapshot received
        /// from the leader (neither may be read as "whatever it lacks is gone").
        case ensure
        /// Create and destroy by the command's before/after diff: a live command.
        case reconcile
    }

    /// Judges a meta change applied at `index` (`nil` for a snapshot restore) on a node whose meta replica had
    /// committed `recoveredCommit` when it started; `running`: the node finished its start (recovery).
    ///
    /// Replayed entries are judged by the replayed end state only: creating a group for a replayed `createBucket`
    /// that a later replayed entry removed would bring back a zombie replica of a destroyed vnode, which could
    /// vote and acknowledge in a group it no longer belongs to.
    public static func action(index: LogIndex?, recoveredCommit: LogIndex, running: Bool) -> Action {
        guard let index else { return running ? .ensure : .nothing }
        if index < recoveredCommit { return .nothing }
        if index == recoveredCommit { return .ensure }
        return .reconcile
    }

    /// Loop thread only: creates the groups `state` places on `node` (the end state of a replay).
    public static func ensure(state: MetaState, node: UInt64, host: MultiRaftHost) {
        for set in state.replicaSets(on: node) {
            host.ensureGroupFromLoopThread(GroupID(set.id), membership: membership(of: set, on: node))
            setIncarnations(of: set, on: node, host: host)
        }
    }

    /// Tells the host which incarnation (vnode id) each member's replica of `set` is, so that a replica destroyed
    /// and created again on a node is a new member to the leader, never one holding the old replica's data.
    static func setIncarnations(of set: ReplicaSetInfo, on node: UInt64, host: MultiRaftHost) {
        guard let own = set.vnodes.first(where: { $0.node == node }) else { return }
        var members: [NodeID: UInt64] = [:]
        for vnode in set.vnodes { members[NodeID(vnode.node)] = vnode.id }
        host.setIncarnationsFromLoopThread(GroupID(set.id), own: own.id, members: members)
    }

    /// Loop thread only: called as a meta command applies (or a snapshot is restored, `before == nil`).
    public static func apply(
        _ command: MetaCommand?, before: MetaState?, after: MetaState, node: UInt64, host: MultiRaftHost
    ) {
        if let command, !changesPlacement(command) { return }
        let mine = after.replicaSets(on: node)
        for set in mine {
            host.ensureGroupFromLoopThread(GroupID(set.id), membership: membership(of: set, on: node))
            setIncarnations(of: set, on: node, host: host)
        }
        guard let before else { return }
        let kept = Set(mine.map(\.id))
        for set in before.replicaSets(on: node) where !kept.contains(set.id) {
            host.removeGroupFromLoopThread(GroupID(set.id))
        }
    }

    /// Loop thread only, with `state` current (read after a linearizable meta read): destroys hosted data
    /// groups that meta no longer places here. Ids below `state.nextID` were handed out already, so a group
    /// among them that meta does not list here was removed; ids are never reused.
    public static func sweep(state: MetaState, node: UInt64, host: MultiRaftHost) -> [GroupID] {
        let wanted = Set(state.replicaSets(on: node).map(\.id))
        var removed: [GroupID] = []
        for group in host.hostedGroupsFromLoopThread
        where group.rawValue >= MetaState.firstID && group.rawValue < state.nextID && !wanted.contains(group.rawValue) {
            host.removeGroupFromLoopThread(group)
            removed.append(group)
        }
        return removed
    }

    /// The membership a new replica starts with: the founders' voter set for a founding vnode (every founder
    /// writes the same first entry), empty for a vnode that joins later (the leader sends it the log).
    static func membership(of set: ReplicaSetInfo, on node: UInt64) -> Membership {
        let vnode = set.vnodes.first { $0.node == node }
        if vnode?.joined == true { return .empty }
        return Membership(voters: Set(set.foundingVoters.map { NodeID($0) }))
    }

    static func changesPlacement(_ command: MetaCommand) -> Bool {
        switch command {
        case .createBucket, .addVnode, .removeVnode, .destroyReplicaSet, .dropBucket, .dropDatabase, .dropTenant:
            return true
        default:
            return false
        }
    }
}
