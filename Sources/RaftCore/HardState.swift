/// The state a member MUST make durable before it sends any message that depends on it (Figure 2 of the
/// Raft paper: `currentTerm`, `votedFor`; plus the commit index, so that a restart re-applies no less).
public struct HardState: Sendable, Equatable {
    /// The latest term this member has seen.
    public var term: Term
    /// The candidate this member voted for in `term`, or `nil`.
    public var vote: NodeID?
    /// The highest index known to be committed. Persisting it is an optimisation, not a safety need.
    public var commit: LogIndex

    public init(term: Term = .zero, vote: NodeID? = nil, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

/// Volatile facts about a member that a shell may want to show or route by; never persisted.
public struct SoftState: Sendable, Equatable {
    public var role: Role
    public var leader: NodeID?
    public init(role: Role, leader: NodeID?) {
        self.role = role
        self.leader = leader
    }
}

/// The role of a member (§5.1), with pre-vote's extra state (§9.6 of Ongaro's thesis).
public enum Role: String, Sendable, Equatable {
    case follower
    case preCandidate
    case candidate
    case leader
}

/// The state machine snapshot's identity: the last entry it includes and the membership at that entry.
/// The snapshot's bytes never pass through the core; the shells move them, in chunks.
public struct SnapshotMetadata: Sendable, Equatable {
    public var index: LogIndex
    public var term: Term
    public var membership: Membership
    public init(index: LogIndex, term: Term, membership: Membership) {
        self.index = index
        self.term = term
        self.membership = membership
    }
}
