/// Everything the shell must do after feeding events into a `RaftNode`: the core's only output.
///
/// The shell handles a `Ready` in this order, then calls `RaftNode.advance(_:)` with it:
/// 1. It MUST make `snapshot` (if any, with the state machine's bytes it received), `entries` and
///    `hardState` durable (fsync) before it sends any of `messages`. `entries` replace every stored entry at
///    or after `entries.first.index` (a conflicting suffix is truncated).
/// 2. It MAY then send `messages`, in any order, over an unreliable network. (A leader's `append`,
///    `heartbeat`, `snapshot` and `timeoutNow` messages do not depend on this Ready's persistence and MAY be
///    sent before it; the leader counts its own entries only once `advance` reports them durable.)
/// 3. It MUST apply `committedEntries` to the state machine in order, only after step 1, and MUST NOT
///    acknowledge a client's proposal before its entry appears here. A `snapshot`, if present, is installed
///    into the state machine before any of them.
/// 4. It MAY serve each of `readStates` once the state machine has applied the read's index.
/// 5. It calls `advance(_:)` with this value. Readies are handled and advanced in the order they were made.
public struct Ready: Sendable {
    /// The role and leader, when they changed.
    public var softState: SoftState?
    /// Term, vote and commit, when they changed: MUST be durable before `messages` are sent.
    public var hardState: HardState?
    /// A snapshot from the leader to install: MUST be durable (and the log before it dropped) before
    /// `messages` are sent.
    public var snapshot: SnapshotMetadata?
    /// New log entries: MUST be durable before `messages` are sent.
    public var entries: [Entry] = []
    /// Entries that are committed: apply them in order, after persisting.
    public var committedEntries: [Entry] = []
    /// Messages to send after persisting.
    public var messages: [Message] = []
    /// Linearizable reads that may be served once their index is applied.
    public var readStates: [ReadState] = []
    /// The membership, when a committed change (or a snapshot) altered it.
    public var membership: Membership?

    public init() {}

    /// True if nothing needs doing.
    public var isEmpty: Bool {
        softState == nil && hardState == nil && snapshot == nil && entries.isEmpty && committedEntries.isEmpty
            && messages.isEmpty && readStates.isEmpty && membership == nil
    }
}

/// The state a restarting member recovers from its storage.
public struct PersistentState: Sendable {
    public var hardState: HardState
    /// The latest snapshot's metadata (index 0 with the initial membership for a new group).
    public var snapshot: SnapshotMetadata
    /// The durable entries after the snapshot, in order.
    public var entries: [Entry]
    public init(hardState: HardState, snapshot: SnapshotMetadata, entries: [Entry]) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }
}

/// What became of a proposal.
public enum ProposalOutcome: Sendable, Equatable {
    /// Appended to the leader's log at this position; it is committed when an entry with this index and
    /// term appears in `Ready.committedEntries`, and lost if another term's entry appears there instead.
    case appended(LogPosition)
    /// Sent to the leader (`RaftConfig.forwardProposalsToLeader`); the core tracks it no further.
    case forwarded(to: NodeID)
}

/// Why a proposal, read or transfer was refused.
public enum RaftError: Error, Sendable, Equatable {
    /// This member is not the leader; `leaderHint` is the leader it knows of, if any.
    case notLeader(leaderHint: NodeID?)
    /// A leadership transfer is under way; retry once it completes or times out.
    case transferInProgress
    /// The entry is larger than `RaftConfig.maxMessageBytes`.
    case entryTooLarge(bytes: Int, limit: Int)
    /// The leader's uncommitted entries exceed `RaftConfig.maxUncommittedBytes`; retry later.
    case uncommittedLimitExceeded(limit: Int)
    /// A membership change is still uncommitted; only one may be pending.
    case confChangePending
    /// The membership change cannot be applied to the current membership.
    case invalidConfChange(ConfChangeError)
    /// The transfer target is not a voter of the group.
    case notAVoter(NodeID)
}

/// A read-only view of a member for status pages and tests.
public struct RaftStatus: Sendable {
    public var id: NodeID
    public var term: Term
    public var vote: NodeID?
    public var role: Role
    public var leader: NodeID?
    public var commit: LogIndex
    public var applied: LogIndex
    public var lastIndex: LogIndex
    public var membership: Membership
    /// The leader's view of each member (empty unless leader).
    public var progress: [NodeID: Progress]
}
