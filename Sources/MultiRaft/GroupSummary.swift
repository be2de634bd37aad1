import RaftCore
import RaftWire

/// One group as `/api/v1/cluster` and `flotilla status` show it.
public struct GroupSummary: Sendable, Equatable {
    public var group: GroupID
    public var role: Role
    public var term: Term
    public var leader: NodeID?
    public var commit: LogIndex
    public var applied: LogIndex
    public var lastIndex: LogIndex
    public var voters: [NodeID]
    public var learners: [NodeID]
    /// Idle: the group does not tick until a message or request wakes it.
    public var quiet: Bool
    /// The state machine's checksum (equal on caught-up replicas), when it is cheap to give (see
    /// `StateMachine.checksumIfCheap`); nil for a vnode whose checksum would mean reading its data.
    public var checksum: UInt64?
}

/// A read-only view of the host, handed to `inspect` closures on the loop thread.
public struct HostView {
    /// `nil` once the host stopped: the view is then empty (the loop thread may still be finishing).
    let host: MultiRaftHost?

    /// Every hosted group, by id.
    public var groups: [GroupSummary] {
        guard let host else { return [] }
        return host.slots.keys.sorted().map { id in
            let slot = host.slots[id]!
            let membership = slot.node.membership
            return GroupSummary(
                group: id, role: slot.node.role, term: slot.node.term, leader: slot.node.leader,
                commit: slot.node.log.committed, applied: slot.machineApplied, lastIndex: slot.node.log.lastIndex,
                voters: membership.allVoters.sorted(),
                learners: membership.learners.union(membership.learnersNext).sorted(),
                quiet: slot.quiet, checksum: slot.machine.checksumIfCheap)
        }
    }

    /// The leader this node knows of in `group`, if it hosts it.
    public func leader(of group: GroupID) -> NodeID? { host?.slots[group]?.node.leader }

    /// This node's role in `group`, if it hosts it.
    public func role(of group: GroupID) -> Role? { host?.slots[group]?.node.role }

    /// Peers heard from within an election timeout.
    public var livePeers: Set<NodeID> { host?.livePeers ?? [] }

    /// Why this node stopped taking part in its groups (its WAL failed), if it did.
    public var storageError: String? { host?.storageFailure?.message }

    /// The same, typed: the errno of the failed system call (`ENOSPC` for a full disk), when there is one.
    public var storageFailure: StorageFailure? { host?.storageFailure }

    /// Number of groups that are not quiet.
    public var awakeGroups: Int { host?.awake.count ?? 0 }
}
