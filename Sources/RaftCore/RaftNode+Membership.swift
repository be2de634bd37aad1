// MARK: - Membership changes (§6, thesis §4.3 joint consensus) and leadership transfer (thesis §3.10)

extension RaftNode {
    /// Proposes a membership change. Only one may be uncommitted at a time; a change of the voter set enters
    /// joint consensus, which the leader leaves on its own once the joint entry is committed.
    @discardableResult
    public mutating func proposeConfChange(_ change: ConfChange) throws(RaftError) -> ProposalOutcome {
        guard role == .leader else { throw .notLeader(leaderHint: leader) }
        guard leadTransferee == nil else { throw .transferInProgress }
        guard pendingConfIndex <= log.committed else { throw .confChangePending }
        do {
            _ = try membership.applying(change)
        } catch {
            throw .invalidConfChange(error)
        }
        let outcome = try propose(payload: .confChange(change))
        pendingConfIndex = log.lastIndex
        return outcome
    }

    /// Applies a committed membership change. Invalid changes are no-ops on every member alike.
    mutating func applyConfChange(_ change: ConfChange, at index: LogIndex) {
        guard let next = try? membership.applying(change) else { return }
        formerVoters = change.operations.isEmpty ? membership.outgoingVoters.subtracting(next.allVoters) : []
        membership = next
        membershipHistory.append((index, next))
        membershipChanged = true
        guard role == .leader else { return }
        for member in next.allMembers where progress[member] == nil {
            var entry = Progress(next: log.lastIndex + 1, maxInflight: config.maxInflightMessages)
            entry.recentActive = true
            progress[member] = entry
        }
        for member in progress.keys where !next.allMembers.contains(member) && member != id {
            progress[member] = nil
        }
        if let target = leadTransferee, !next.isVoter(target) { leadTransferee = nil }
        needsBroadcast = true
        _ = maybeCommit()
        if role == .leader, !membership.isVoter(id), leadTransferee == nil {
            // The leader left the voters (§6). It keeps leading, without counting itself, until a voter of
            // the new configuration has caught up (and so knows this change is committed); then it hands
            // over with TimeoutNow. Stepping down at once could leave the new voters unable to elect anyone
            // when they lag behind members that no longer vote.
            handOverLeadership()
        }
    }

    /// Starts (or restarts) a transfer to the most up-to-date voter; used when the leader is not a voter.
    mutating func handOverLeadership() {
        leadTransferee = nil
        let successor = membership.allVoters.sorted().max { a, b in
            (progress[a]?.match ?? .zero) < (progress[b]?.match ?? .zero)
        }
        guard let successor, progress[successor] != nil else { return }
        leadTransferee = successor
        if progress[successor]!.match == log.lastIndex {
            sendTimeoutNow(to: successor)
        } else {
            sendAppend(to: successor, evenIfEmpty: true)
        }
    }

    /// Leaves a joint configuration once the entry that entered it is committed.
    mutating func maybeLeaveJoint() {
        guard role == .leader, membership.isJoint, pendingConfIndex <= log.committed, leadTransferee == nil else {
            return
        }
        appendEntry(.confChange(.leaveJoint))
        pendingConfIndex = log.lastIndex
    }

    /// Hands leadership to `target`: replicates to it until it is caught up, then sends TimeoutNow.
    /// Proposals are refused until the transfer completes or an election timeout passes.
    public mutating func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leaderHint: leader) }
        if target == id { return }
        guard membership.isVoter(target), progress[target] != nil else { throw .notAVoter(target) }
        if leadTransferee == target { return }
        leadTransferee = target
        electionElapsed = 0
        if progress[target]!.match == log.lastIndex {
            sendTimeoutNow(to: target)
        } else {
            sendAppend(to: target, evenIfEmpty: true)
        }
    }

    mutating func sendTimeoutNow(to target: NodeID) {
        // The target will campaign past the voters' leases; this leader's lease is void from now on.
        leaseDisabledThisTerm = true
        formerVoters = []  // the target holds this log: this member need not campaign to hand over again
        send(.timeoutNow, to: target)
    }

    /// The membership in effect at `index` (which must not precede the snapshot).
    func membership(at index: LogIndex) -> Membership {
        var result = log.snapshot.membership
        for (changedAt, value) in membershipHistory where changedAt <= index { result = value }
        return result
    }
}

// MARK: - Snapshots and compaction (§7)

extension RaftNode {
    /// Records that the state machine has a snapshot of everything up to `index` (at most the applied
    /// index) and drops the log up to it.
    /// - Returns: the metadata to store beside the snapshot's bytes, or `nil` if `index` is not after the
    ///   current snapshot or not yet applied.
    public mutating func compactLog(through index: LogIndex) -> SnapshotMetadata? {
        guard let metadata = snapshotMetadata(through: index) else { return nil }
        log.compact(to: metadata)
        membershipHistory.removeAll { $0.0 <= index }
        return metadata
    }

    /// The metadata a snapshot of everything up to `index` would carry, without compacting anything: the
    /// shell writes a large snapshot in the background first and calls `compactLog(through:)` once it is
    /// durable.
    /// - Returns: `nil` if `index` is not after the current snapshot or not yet applied.
    public func snapshotMetadata(through index: LogIndex) -> SnapshotMetadata? {
        guard index > log.snapshot.index, index <= log.applied, let term = log.term(at: index) else { return nil }
        return SnapshotMetadata(index: index, term: term, membership: membership(at: index))
    }

    /// The shell reports whether a snapshot it was sending to `member` arrived. On failure the leader
    /// probes again; on success it waits for the member's answer.
    public mutating func reportSnapshot(to member: NodeID, succeeded: Bool) {
        guard role == .leader, var entry = progress[member], entry.state == .snapshot else { return }
        if !succeeded { entry.pendingSnapshot = .zero }
        entry.becomeProbe()
        entry.probeSent = true  // wait for the member's answer (or a heartbeat response) before probing
        progress[member] = entry
    }

    /// The shell reports that a message to `member` could not be delivered: stop pipelining to it.
    public mutating func reportUnreachable(_ member: NodeID) {
        guard role == .leader, var entry = progress[member], entry.state == .replicate else { return }
        entry.becomeProbe()
        progress[member] = entry
    }
}

// MARK: - Linearizable reads (thesis §6.4)

extension RaftNode {
    /// Asks for a linearizable read tagged `context`. A `ReadState` with this context comes out of a later
    /// `Ready` (on this member; a follower forwards the request to its leader); serve the read once the
    /// state machine has applied its index. Requests lost with a leader change produce nothing: the shell
    /// times them out.
    public mutating func readIndex(context: UInt64) throws(RaftError) {
        guard role == .leader else {
            if let leader, role == .follower {
                send(.readIndex(context: context), to: leader)
                return
            }
            throw .notLeader(leaderHint: leader)
        }
        handleLeaderRead(context: context, from: id)
    }

    /// The read states released so far on this member, taken now instead of with the next `Ready`: a leader
    /// whose lease holds (or a lone voter) releases a read at once, and the shell may serve it as soon as its
    /// state machine has applied the read's index, without waiting for the next round's persist and apply.
    public mutating func takeReadStates() -> [ReadState] {
        guard !readStates.isEmpty else { return [] }
        defer { readStates = [] }
        return readStates
    }

    mutating func handleLeaderRead(context: UInt64, from requester: NodeID) {
        guard hasCommittedInCurrentTerm else {
            readsAwaitingTermCommit.append(PendingRead(context: context, index: .zero, round: 0, from: requester))
            return
        }
        let index = log.committed
        if membership.allVoters == [id] || isLeaseValid {
            release(PendingRead(context: context, index: index, round: 0, from: requester))
            return
        }
        pendingReads.append(PendingRead(context: context, index: index, round: heartbeatRound + 1, from: requester))
    }

    /// True if lease reads are on and a quorum acknowledged a heartbeat recent enough that no other
    /// leader can have been elected since (given the configured clock drift bound).
    var isLeaseValid: Bool {
        guard role == .leader, case .lease(let drift) = config.readMode, !leaseDisabledThisTerm,
            leadTransferee == nil
        else { return false }
        let acknowledged = Quorum.quorumValue(membership) { member in
            member == id ? now + 1 : progress[member]?.acknowledgedSentAt ?? 0
        }
        guard acknowledged > 0 else { return false }
        return now + UInt64(drift) < (acknowledged - 1) + UInt64(config.electionTicks)
    }

    /// Releases the reads whose heartbeat round a quorum has acknowledged.
    mutating func releaseConfirmedReads() {
        guard !pendingReads.isEmpty else { return }
        let confirmed = Quorum.quorumValue(membership) { member in
            member == id ? heartbeatRound : progress[member]?.acknowledgedRound ?? 0
        }
        var released = 0
        while released < pendingReads.count && pendingReads[released].round <= confirmed {
            release(pendingReads[released])
            released += 1
        }
        if released > 0 { pendingReads.removeFirst(released) }
    }

    private mutating func release(_ read: PendingRead) {
        let state = ReadState(context: read.context, index: read.index)
        if read.from == id {
            readStates.append(state)
        } else {
            send(.readIndexResponse(state), to: read.from)
        }
    }
}

extension RaftNode {
    /// The shell learned that `member`'s replica was replaced by a new, empty one (destroyed and created again
    /// on the same node: a new incarnation). On a leader, the member's progress starts over — nothing is known
    /// to match, so the leader probes and, if the log is compacted, sends a snapshot — instead of trusting the
    /// old replica's `match`, under which the new replica's rejections would be ignored forever. A no-op
    /// elsewhere and for this node itself. The commit index never moves back.
    public mutating func memberReplaced(_ member: NodeID) {
        guard role == .leader, member != id, progress[member] != nil else { return }
        var entry = Progress(next: log.lastIndex + 1, maxInflight: config.maxInflightMessages)
        entry.recentActive = true
        progress[member] = entry
        if leadTransferee == member { leadTransferee = nil }
        needsBroadcast = true
    }
}
