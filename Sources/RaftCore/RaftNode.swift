/// One member of one Raft group: the whole Raft algorithm as a deterministic value.
///
/// `RaftNode` does no I/O, reads no clock, starts no thread and draws randomness only from the seeded
/// generator it holds. Events come in as mutating calls (`tick()`, `step(_:)`, `propose(_:)`,
/// `proposeConfChange(_:)`, `readIndex(context:)`, `transferLeadership(to:)`, `reportSnapshot(to:succeeded:)`,
/// `compactLog(through:)`); what must happen as a result comes out of `ready()` as a `Ready` value, whose
/// documentation states the contract the shell must keep. After handling a Ready the shell calls
/// `advance(_:)`. The same events in the same order always produce the same Readies.
///
/// Implements the Raft paper (Ongaro & Ousterhout 2014) §5–§8 and from Ongaro's thesis: pre-vote (§9.6),
/// check-quorum and leases (§6.4), ReadIndex (§6.4), leadership transfer (§3.10) and joint consensus (§4.3).
public struct RaftNode: Sendable {
    public let config: RaftConfig
    public var id: NodeID { config.id }

    /// The latest term seen (persistent).
    public internal(set) var term: Term = .zero
    /// The vote cast in `term` (persistent).
    public internal(set) var vote: NodeID?
    public internal(set) var role: Role = .follower
    /// The leader of `term`, once known.
    public internal(set) var leader: NodeID?
    /// The log, with its commit and apply positions.
    public internal(set) var log: RaftLog
    /// The membership in effect: the snapshot's, changed by every committed membership change.
    public internal(set) var membership: Membership
    /// Committed membership changes after the snapshot: (index, membership from then on).
    var membershipHistory: [(LogIndex, Membership)] = []

    /// Voters of the joint configuration most recently left that vote no more. They may still campaign, to
    /// hand over at once: they can hold entries the new voters lack (see `isPromotable`).
    var formerVoters: Set<NodeID> = []
    /// The leader's view of every member (self included); empty unless leader.
    var progress: [NodeID: Progress] = [:]
    /// Votes received in the current (pre-)campaign.
    var votes: [NodeID: Bool] = [:]

    /// Ticks since the last election timeout reset (followers, candidates) or check-quorum round (leader).
    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    /// This member's own tick count: the clock of leases.
    var now: UInt64 = 0
    var random: SplitMix64
    /// Set when the shell could not persist: this member takes no further part until it restarts.
    public internal(set) var storageFailed = false
    /// Set from start until one election timeout has passed: a restarted member does not help elect a
    /// new leader while an old leader's lease may still hold.
    var recentlyStarted = true

    /// The target of a leadership transfer under way.
    public internal(set) var leadTransferee: NodeID?
    /// A TimeoutNow was sent in this term: leases may be broken by it, so lease reads are off.
    var leaseDisabledThisTerm = false
    /// The index of the latest membership change in the log; a new one waits until it is committed.
    var pendingConfIndex: LogIndex = .zero
    /// Bytes of entries appended by this leader and not yet committed.
    var uncommittedBytes = 0

    /// The leader's latest heartbeat round.
    var heartbeatRound: UInt64 = 0
    /// Reads waiting for a heartbeat round to confirm leadership, in round order.
    var pendingReads: [PendingRead] = []
    /// Reads that arrived before the leader committed an entry of its term.
    var readsAwaitingTermCommit: [PendingRead] = []

    // Outputs collected until the next `ready()`.
    var messages: [Message] = []
    var readStates: [ReadState] = []
    var lastHardState: HardState
    var lastSoftState: SoftState
    var membershipChanged = false
    var needsBroadcast = false

    /// A read request waiting for confirmation.
    struct PendingRead: Sendable {
        var context: UInt64
        var index: LogIndex
        var round: UInt64
        var from: NodeID
    }

    /// Starts a member of a new group.
    ///
    /// Founders pass the founding membership: every founder writes the same first entry (index 1, term 1),
    /// a committed membership change that adds the founders, so that a member added later learns the whole
    /// membership history from the log alone. A member that will be added to an existing group passes an
    /// empty membership and waits to hear from the leader. The first `Ready` holds what must be persisted.
    public init(config: RaftConfig, membership: Membership) throws(RaftConfigError) {
        let empty = SnapshotMetadata(index: .zero, term: .zero, membership: .empty)
        guard !membership.voters.isEmpty else {
            try self.init(
                config: config, restoring: PersistentState(hardState: HardState(), snapshot: empty, entries: []))
            return
        }
        let founding = ConfChange(
            membership.voters.sorted().map { .addVoter($0) } + membership.learners.sorted().map { .addLearner($0) })
        let first = Entry(term: Term(1), index: LogIndex(1), payload: .confChange(founding))
        try self.init(
            config: config,
            restoring: PersistentState(
                hardState: HardState(term: Term(1), vote: nil, commit: LogIndex(1)), snapshot: empty, entries: [first]))
        // Nothing of this is on disk yet: hand it all out in the first Ready.
        log.unstableFrom = LogIndex(1)
        log.persisted = .zero
        lastHardState = HardState()
    }

    /// Restarts a member from what its storage recovered.
    public init(config: RaftConfig, restoring state: PersistentState) throws(RaftConfigError) {
        try config.validate()
        self.config = config
        random = SplitMix64(seed: config.seed ^ (config.id.rawValue &* 0x9E37_79B9_7F4A_7C15))
        log = RaftLog(snapshot: state.snapshot, entries: state.entries, committed: state.hardState.commit)
        term = state.hardState.term
        vote = state.hardState.vote
        membership = state.snapshot.membership
        lastHardState = HardState(term: state.hardState.term, vote: state.hardState.vote, commit: log.committed)
        lastSoftState = SoftState(role: .follower, leader: nil)
        // Committed membership changes take effect again at once.
        var index = log.firstIndex
        while index <= log.committed {
            if let entry = log.entry(at: index), case .confChange(let change) = entry.payload {
                applyConfChange(change, at: index)
            }
            index += 1
        }
        membershipChanged = false
        resetRandomizedElectionTimeout()
    }

    // MARK: - Inspection

    /// The member's state at a glance.
    public var status: RaftStatus {
        RaftStatus(
            id: id, term: term, vote: vote, role: role, leader: leader, commit: log.committed,
            applied: log.applied, lastIndex: log.lastIndex, membership: membership,
            progress: role == .leader ? progress : [:])
    }

    /// True if this member may campaign: it is a voter, or it just left the voters through joint consensus.
    ///
    /// The second case keeps a group live: members that left with the leave-joint entry may hold later
    /// entries that the new voters lack, and the new voters, still in the joint configuration as far as they
    /// know, need one of them to vote, which the up-to-date rule (§5.4.1) forbids. Such a member may win
    /// with the new voters' votes; as a leader outside the voters it only replicates and hands over.
    public var isPromotable: Bool { !storageFailed && (membership.isVoter(id) || formerVoters.contains(id)) }

    /// The shell could not make a Ready durable (full disk, I/O error). Nothing may be acknowledged that was
    /// not persisted, so the member stops: a leader steps down at once (its followers elect another after an
    /// election timeout), and from now on the member ignores messages and ticks, votes for no one and
    /// campaigns never. Restarting from storage is the only way back.
    public mutating func reportStorageFailure() {
        storageFailed = true
        if role != .follower { becomeFollower(term: term, leader: nil) }
        messages = []
        readStates = []
    }

    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    var softState: SoftState { SoftState(role: role, leader: leader) }

    /// True if the leader has committed an entry of its own term (required before serving reads, §8).
    var hasCommittedInCurrentTerm: Bool { log.term(at: log.committed) == term }

    /// True on a leader whose `membership` is committed: it has committed an entry of its own term and no
    /// membership change in its log is still uncommitted. Only then does `membership` say for certain who is a
    /// member of the group (a follower's, or a new leader's, may be behind or ahead of what committed).
    public var leadsWithCommittedMembership: Bool {
        role == .leader && hasCommittedInCurrentTerm && pendingConfIndex <= log.committed
    }

    // MARK: - Ready / advance

    /// True if `ready()` would return something to do.
    ///
    /// Performance note for shells: reading this through an array or dictionary subscript copies the whole
    /// value first; keep nodes where they can be read in place (a local `var`, or `withUnsafeMutablePointer`).
    public var hasReady: Bool {
        if !messages.isEmpty || !readStates.isEmpty || needsBroadcast || membershipChanged { return true }
        if log.hasUnstable || log.applicableIndex > log.applied { return true }
        if hardState != lastHardState || softState != lastSoftState { return true }
        if role == .leader, let last = pendingReads.last, last.round > heartbeatRound { return true }
        return false
    }

    /// Collects what the shell must do now. See `Ready` for the contract.
    public mutating func ready() -> Ready {
        if role == .leader {
            if needsBroadcast { broadcastAppend() }
            if let last = pendingReads.last, last.round > heartbeatRound { broadcastHeartbeat() }
        }
        needsBroadcast = false
        var ready = Ready()
        let soft = softState
        if soft != lastSoftState {
            ready.softState = soft
            lastSoftState = soft
        }
        ready.snapshot = log.unstableSnapshot
        log.unstableSnapshot = nil
        ready.entries = log.takeUnstable()
        let hard = hardState
        if hard != lastHardState {
            ready.hardState = hard
            lastHardState = hard
        }
        ready.committedEntries = log.takeCommitted()
        swap(&ready.messages, &messages)
        swap(&ready.readStates, &readStates)
        if membershipChanged {
            ready.membership = membership
            membershipChanged = false
        }
        return ready
    }

    /// Tells the core that `ready` has been handled: its entries and snapshot are durable.
    public mutating func advance(_ ready: Ready) {
        if let snapshot = ready.snapshot, snapshot.index > log.persisted, snapshot.index <= log.lastIndex {
            log.persisted = snapshot.index
        }
        if let last = ready.entries.last, log.term(at: last.index) == last.term, last.index > log.persisted {
            log.persisted = last.index
        }
        if role == .leader, var own = progress[id] {
            if own.maybeUpdate(log.persisted) {
                progress[id] = own
                if maybeCommit() { needsBroadcast = true }
            }
        }
    }

    // MARK: - Time

    /// Counts `ticks` that passed while the shell did not call `tick()` (a quiet group, a stalled loop) against
    /// this member's lease clock, and nothing else: no election or heartbeat fires. A shell that leaves ticks
    /// out this way must report them before it hands this member a read, so that a lease never outlives the
    /// real time it stands for.
    public mutating func clockSkipped(ticks: UInt64) {
        now += ticks
    }

    /// Advances logical time by one tick: elections, heartbeats, check-quorum, transfer timeouts.
    public mutating func tick() {
        guard !storageFailed else { return }
        now += 1
        if role == .leader {
            tickLeader()
        } else {
            tickElection()
        }
    }

    private mutating func tickElection() {
        electionElapsed += 1
        if recentlyStarted && electionElapsed >= config.electionTicks { recentlyStarted = false }
        if isPromotable && electionElapsed >= randomizedElectionTimeout {
            electionElapsed = 0
            campaign(.preElection)
        }
    }

    private mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= config.electionTicks {
            electionElapsed = 0
            if config.checkQuorum {
                let active = Quorum.voteResult(membership) { node in
                    node == id || progress[node]?.recentActive == true ? true : nil
                }
                if active != .won {
                    becomeFollower(term: term, leader: nil)
                    return
                }
                for node in progress.keys where node != id { progress[node]!.recentActive = false }
            }
            if leadTransferee != nil { leadTransferee = nil }
            // A leader outside the voters keeps trying to hand over.
            if !membership.isVoter(id) { handOverLeadership() }
        }
        if heartbeatElapsed >= config.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }

    mutating func resetRandomizedElectionTimeout() {
        randomizedElectionTimeout = config.electionTicks + Int(random.next() % UInt64(config.electionTicks))
    }

    // MARK: - Role changes

    mutating func reset(term newTerm: Term) {
        if newTerm != term {
            term = newTerm
            vote = nil
            leaseDisabledThisTerm = false
        }
        leader = nil
        electionElapsed = 0
        heartbeatElapsed = 0
        resetRandomizedElectionTimeout()
        leadTransferee = nil
        votes = [:]
        progress = [:]
        pendingReads = []
        readsAwaitingTermCommit = []
        uncommittedBytes = 0
        needsBroadcast = false
    }

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID?) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    mutating func becomePreCandidate() {
        precondition(role != .leader, "a leader cannot become a pre-candidate")
        // Pre-vote changes neither term nor vote (thesis §9.6).
        votes = [:]
        leader = nil
        role = .preCandidate
    }

    mutating func becomeCandidate() {
        precondition(role != .leader, "a leader cannot become a candidate")
        reset(term: term.next)
        vote = id
        role = .candidate
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        reset(term: term)
        role = .leader
        leader = id
        recentlyStarted = false
        heartbeatRound = 0
        for member in membership.allMembers {
            var entry = Progress(next: log.lastIndex + 1, maxInflight: config.maxInflightMessages)
            entry.recentActive = true
            progress[member] = entry
        }
        if var own = progress[id] {
            _ = own.maybeUpdate(log.persisted)
            own.becomeReplicate()
            progress[id] = own
        }
        // Membership changes already in the log must commit before a new one is accepted.
        pendingConfIndex = log.lastIndex
        // A no-op of the new term lets the leader commit (and learn) everything before it (§5.4.2, §8).
        appendEntry(.data([]))
        if !membership.isVoter(id) { handOverLeadership() }
    }

    /// How a campaign starts.
    enum CampaignKind {
        /// Pre-vote round (when configured) before the real election.
        case preElection
        /// The real election (term raised, own vote cast).
        case election
        /// A real election after TimeoutNow: voters ignore their leader lease.
        case transfer
    }

    /// Starts an election now.
    mutating func campaign(_ kind: CampaignKind) {
        guard isPromotable else { return }
        let voteTerm: Term
        let preVote = kind == .preElection && config.preVote
        if preVote {
            becomePreCandidate()
            voteTerm = term.next
        } else {
            becomeCandidate()
            voteTerm = term
        }
        votes[id] = true
        if Quorum.voteResult(membership, answer: { votes[$0] }) == .won {
            winCampaign()
            return
        }
        let request = VoteRequest(
            preVote: preVote, lastIndex: log.lastIndex, lastTerm: log.lastTerm, transfer: kind == .transfer)
        for voter in membership.allVoters.sorted() where voter != id {
            messages.append(Message(from: id, to: voter, term: voteTerm, body: .vote(request)))
        }
    }

    mutating func winCampaign() {
        if role == .preCandidate {
            campaign(.election)
        } else {
            becomeLeader()
        }
    }

    /// Starts an election at once (for tests and for shells that know a group needs a leader now).
    public mutating func campaign() {
        if role != .leader { campaign(.preElection) }
    }

    mutating func send(_ body: Message.Body, to: NodeID) {
        messages.append(Message(from: id, to: to, term: term, body: body))
    }
}
