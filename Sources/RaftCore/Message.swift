/// One message between two members of a Raft group. The multi-Raft host adds the group id on the wire.
public struct Message: Sendable, Equatable {
    public var from: NodeID
    public var to: NodeID
    /// The sender's term. Every receiver applies the term rules of §5.1 before looking at the body.
    public var term: Term
    public var body: Body

    public init(from: NodeID, to: NodeID, term: Term, body: Body) {
        self.from = from
        self.to = to
        self.term = term
        self.body = body
    }

    /// What a message says.
    public enum Body: Sendable, Equatable {
        /// AppendEntries (§5.3), also used to carry the commit index.
        case append(AppendEntries)
        case appendResponse(AppendResponse)
        /// RequestVote (§5.2), or a pre-vote (thesis §9.6) when `preVote` is set.
        case vote(VoteRequest)
        case voteResponse(VoteResponse)
        /// A heartbeat: commit index and the context that ReadIndex and leases count on.
        case heartbeat(Heartbeat)
        case heartbeatResponse(HeartbeatContext)
        /// InstallSnapshot (§7). Only the metadata: the shells move the bytes, in chunks, and step this
        /// message into the receiving core once the whole snapshot has arrived and been verified.
        case snapshot(SnapshotMetadata)
        /// Leadership transfer (thesis §3.10): the receiver campaigns at once, bypassing leases.
        case timeoutNow
        /// Proposals forwarded by a follower to its leader.
        case forwardedProposals([Entry.Payload])
        /// A ReadIndex request forwarded by a follower to its leader.
        case readIndex(context: UInt64)
        /// The leader's answer to a forwarded ReadIndex request.
        case readIndexResponse(ReadState)
    }

    /// A short name of the body's kind, for traces.
    public var kind: String {
        switch body {
        case .append: return "append"
        case .appendResponse: return "appendResponse"
        case .vote(let v): return v.preVote ? "preVote" : "vote"
        case .voteResponse(let v): return v.preVote ? "preVoteResponse" : "voteResponse"
        case .heartbeat: return "heartbeat"
        case .heartbeatResponse: return "heartbeatResponse"
        case .snapshot: return "snapshot"
        case .timeoutNow: return "timeoutNow"
        case .forwardedProposals: return "forwardedProposals"
        case .readIndex: return "readIndex"
        case .readIndexResponse: return "readIndexResponse"
        }
    }
}

/// The body of AppendEntries (Figure 2).
public struct AppendEntries: Sendable, Equatable {
    public var prevIndex: LogIndex
    public var prevTerm: Term
    public var entries: [Entry]
    public var commit: LogIndex
    public init(prevIndex: LogIndex, prevTerm: Term, entries: [Entry], commit: LogIndex) {
        self.prevIndex = prevIndex
        self.prevTerm = prevTerm
        self.entries = entries
        self.commit = commit
    }
}

/// A follower's answer to AppendEntries or to a snapshot.
public struct AppendResponse: Sendable, Equatable {
    /// On success, the index up to which the follower's log now matches the leader's. On rejection,
    /// the `prevIndex` that was rejected.
    public var index: LogIndex
    public var reject: Bool
    /// On rejection: the follower's best guess of the last index that may match (fast backtracking).
    public var hintIndex: LogIndex
    /// On rejection: the term of the follower's entry at `hintIndex`.
    public var hintTerm: Term
    public init(index: LogIndex, reject: Bool = false, hintIndex: LogIndex = .zero, hintTerm: Term = .zero) {
        self.index = index
        self.reject = reject
        self.hintIndex = hintIndex
        self.hintTerm = hintTerm
    }
}

/// The body of RequestVote.
public struct VoteRequest: Sendable, Equatable {
    public var preVote: Bool
    public var lastIndex: LogIndex
    public var lastTerm: Term
    /// Set when the campaign follows a TimeoutNow: voters ignore their leader lease.
    public var transfer: Bool
    public init(preVote: Bool, lastIndex: LogIndex, lastTerm: Term, transfer: Bool = false) {
        self.preVote = preVote
        self.lastIndex = lastIndex
        self.lastTerm = lastTerm
        self.transfer = transfer
    }
}

/// The answer to RequestVote.
public struct VoteResponse: Sendable, Equatable {
    public var preVote: Bool
    public var granted: Bool
    public init(preVote: Bool, granted: Bool) {
        self.preVote = preVote
        self.granted = granted
    }
}

/// What a heartbeat carries back and forth: the leader's heartbeat round (for ReadIndex) and the leader's
/// tick count when it was sent (for leases).
public struct HeartbeatContext: Sendable, Equatable {
    public var round: UInt64
    public var sentAt: UInt64
    public init(round: UInt64, sentAt: UInt64) {
        self.round = round
        self.sentAt = sentAt
    }
}

/// The body of a heartbeat.
public struct Heartbeat: Sendable, Equatable {
    /// The leader's commit index, capped at what the receiver is known to hold.
    public var commit: LogIndex
    public var context: HeartbeatContext
    public init(commit: LogIndex, context: HeartbeatContext) {
        self.commit = commit
        self.context = context
    }
}

/// A linearizable read that may be served: once the local state machine has applied `index`, a read
/// tagged `context` sees every write committed before the read was requested.
public struct ReadState: Sendable, Equatable {
    public var context: UInt64
    public var index: LogIndex
    public init(context: UInt64, index: LogIndex) {
        self.context = context
        self.index = index
    }
}
