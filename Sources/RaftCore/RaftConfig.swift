/// How linearizable reads are confirmed.
public enum ReadMode: Sendable, Equatable {
    /// ReadIndex (thesis §6.4): the leader confirms its leadership with a heartbeat round per batch of reads.
    case readIndex
    /// Leader lease (thesis §6.4.1): the leader answers at once while a quorum acknowledged a heartbeat
    /// sent less than `electionTicks - clockDriftTicks` ago. Needs `checkQuorum`.
    case lease(clockDriftTicks: Int)
}

/// The settings of one Raft member. Times are in ticks: the shell calls `tick()` at a fixed interval.
public struct RaftConfig: Sendable, Equatable {
    /// This member's id.
    public var id: NodeID
    /// Minimum election timeout; the real one is drawn from [electionTicks, 2 × electionTicks).
    public var electionTicks: Int = 10
    /// The leader sends heartbeats this often.
    public var heartbeatTicks: Int = 1
    /// Pre-vote (thesis §9.6): a member asks whether it could win before it raises its term.
    public var preVote: Bool = true
    /// Check-quorum: a leader that hears from no quorum within an election timeout steps down, and
    /// followers ignore vote requests while they have heard from a leader within the election timeout.
    public var checkQuorum: Bool = true
    /// How reads are confirmed.
    public var readMode: ReadMode = .readIndex
    /// At most this many AppendEntries in flight per follower in the replicate state.
    public var maxInflightMessages: Int = 256
    /// The entries of one AppendEntries add up to at most this many bytes (at least one entry is sent).
    /// A proposal larger than this is refused.
    public var maxMessageBytes: Int = 1 << 20
    /// The leader refuses proposals while its uncommitted entries exceed this many bytes.
    public var maxUncommittedBytes: Int = 64 << 20
    /// A follower forwards proposals to the leader instead of answering `notLeader`.
    public var forwardProposalsToLeader: Bool = false
    /// Seeds the generator of randomized election timeouts.
    public var seed: UInt64 = 0

    public init(id: NodeID) { self.id = id }

    /// Checks the settings; a bad config is a programming error of the shell, reported as a value.
    public func validate() throws(RaftConfigError) {
        if id == .zero { throw .invalid("id must not be 0") }
        if heartbeatTicks <= 0 { throw .invalid("heartbeatTicks must be positive") }
        if electionTicks <= heartbeatTicks { throw .invalid("electionTicks must exceed heartbeatTicks") }
        if maxInflightMessages <= 0 { throw .invalid("maxInflightMessages must be positive") }
        if maxMessageBytes <= 0 || maxUncommittedBytes <= 0 { throw .invalid("size limits must be positive") }
        if case .lease(let drift) = readMode {
            if !checkQuorum { throw .invalid("lease reads need checkQuorum") }
            if drift < 0 || drift >= electionTicks { throw .invalid("clockDriftTicks must be in [0, electionTicks)") }
        }
    }
}

/// A configuration that cannot work, with the reason.
public enum RaftConfigError: Error, Sendable, Equatable {
    case invalid(String)
}
