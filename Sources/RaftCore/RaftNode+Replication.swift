// MARK: - Log replication (§5.3) and commitment (§5.4.2)

extension RaftNode {
    /// Proposes one entry for the state machine.
    /// - Returns: where the entry was appended, or where it was forwarded.
    /// - Throws: `RaftError` when this member cannot take it now.
    @discardableResult
    public mutating func propose(_ data: [UInt8]) throws(RaftError) -> ProposalOutcome {
        try propose(payload: .data(data))
    }

    /// Proposes many entries at once; they travel in the same AppendEntries messages.
    /// - Returns: the position of the last one (the others precede it, one index apart).
    @discardableResult
    public mutating func propose(batch: [[UInt8]]) throws(RaftError) -> ProposalOutcome {
        guard role == .leader else { return try forwardOrRefuse(batch.map { .data($0) }) }
        guard leadTransferee == nil else { throw .transferInProgress }
        var total = 0
        for data in batch {
            if data.count > config.maxMessageBytes {
                throw .entryTooLarge(bytes: data.count, limit: config.maxMessageBytes)
            }
            total += data.count
        }
        if uncommittedBytes > 0 && uncommittedBytes + total > config.maxUncommittedBytes {
            throw .uncommittedLimitExceeded(limit: config.maxUncommittedBytes)
        }
        for data in batch { appendEntry(.data(data)) }
        return .appended(LogPosition(index: log.lastIndex, term: term))
    }

    mutating func propose(payload: Entry.Payload) throws(RaftError) -> ProposalOutcome {
        guard role == .leader else { return try forwardOrRefuse([payload]) }
        guard leadTransferee == nil else { throw .transferInProgress }
        let size = Entry(term: term, index: .zero, payload: payload).byteCount
        if size > config.maxMessageBytes { throw .entryTooLarge(bytes: size, limit: config.maxMessageBytes) }
        if uncommittedBytes > 0 && uncommittedBytes + size > config.maxUncommittedBytes {
            throw .uncommittedLimitExceeded(limit: config.maxUncommittedBytes)
        }
        appendEntry(payload)
        return .appended(LogPosition(index: log.lastIndex, term: term))
    }

    private mutating func forwardOrRefuse(_ payloads: [Entry.Payload]) throws(RaftError) -> ProposalOutcome {
        if config.forwardProposalsToLeader, let leader, role == .follower {
            send(.forwardedProposals(payloads), to: leader)
            return .forwarded(to: leader)
        }
        throw .notLeader(leaderHint: leader)
    }

    /// Appends an entry of the current term to the leader's log; it is sent at the next `ready()`.
    mutating func appendEntry(_ payload: Entry.Payload) {
        let entry = Entry(term: term, index: log.lastIndex + 1, payload: payload)
        uncommittedBytes += entry.byteCount
        log.appendLocal(entry)
        needsBroadcast = true
    }

    /// Sends whatever each member lacks, or at least the commit index.
    mutating func broadcastAppend() {
        for member in progress.keys.sorted() where member != id {
            _ = sendAppend(to: member, evenIfEmpty: true)
        }
    }

    /// Sends one AppendEntries to `member` if its progress allows; a snapshot if the entries it needs are
    /// compacted away. Returns true if a message was sent.
    @discardableResult
    mutating func sendAppend(to member: NodeID, evenIfEmpty: Bool) -> Bool {
        // Read the fields into locals rather than copying the Progress: a live copy would make the in-flight
        // window below copy itself on write.
        guard let next = progress[member]?.next, let state = progress[member]?.state,
            progress[member]?.isPaused == false
        else { return false }
        let prevIndex = next - 1
        guard let prevTerm = log.term(at: prevIndex),
            let entries = log.entries(from: next, through: log.lastIndex, maxBytes: config.maxMessageBytes)
        else {
            return sendSnapshot(to: member)
        }
        if entries.isEmpty && !evenIfEmpty { return false }
        if let last = entries.last {
            switch state {
            case .replicate:
                progress[member]!.next = last.index + 1
                progress[member]!.inflights.add(last.index)
            case .probe:
                progress[member]!.probeSent = true
            case .snapshot:
                preconditionFailure("sending entries in the snapshot state")
            }
        } else if state == .probe {
            progress[member]!.probeSent = true
        }
        send(
            .append(AppendEntries(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: log.committed)),
            to: member)
        return true
    }

    private mutating func sendSnapshot(to member: NodeID) -> Bool {
        guard var entry = progress[member], entry.recentActive else { return false }
        let snapshot = log.snapshot
        entry.becomeSnapshot(snapshot.index)
        progress[member] = entry
        send(.snapshot(snapshot), to: member)
        return true
    }

    mutating func handleAppendResponse(from member: NodeID, _ response: AppendResponse) {
        guard var entry = progress[member] else { return }
        entry.recentActive = true
        if response.reject {
            var hint = response.hintIndex
            if response.hintTerm > .zero {
                hint = log.lastIndex(atOrBefore: response.hintIndex, withTermAtMost: response.hintTerm).0
            }
            if entry.maybeDecrease(rejected: response.index, hint: hint) {
                if entry.state == .replicate { entry.becomeProbe() }
                progress[member] = entry
                sendAppend(to: member, evenIfEmpty: true)
            } else {
                progress[member] = entry
            }
            return
        }
        let wasPaused = entry.isPaused
        guard entry.maybeUpdate(response.index) else {
            progress[member] = entry
            return
        }
        switch entry.state {
        case .probe:
            entry.becomeReplicate()
        case .snapshot where entry.match >= entry.pendingSnapshot:
            entry.becomeProbe()
            entry.becomeReplicate()
        case .replicate:
            entry.inflights.free(through: response.index)
        case .snapshot:
            break
        }
        progress[member] = entry
        if maybeCommit() {
            needsBroadcast = true
        } else if wasPaused {
            sendAppend(to: member, evenIfEmpty: false)
        }
        while sendAppend(to: member, evenIfEmpty: false) {}
        if member == leadTransferee, progress[member]?.match == log.lastIndex {
            sendTimeoutNow(to: member)
        }
    }

    /// Sends a heartbeat to every member; a new round for ReadIndex.
    mutating func broadcastHeartbeat() {
        heartbeatRound += 1
        let context = HeartbeatContext(round: heartbeatRound, sentAt: now)
        for (member, entry) in progress.sorted(by: { $0.key < $1.key }) where member != id {
            send(.heartbeat(Heartbeat(commit: min(entry.match, log.committed), context: context)), to: member)
        }
        if progress[id] != nil {
            progress[id]!.acknowledgedRound = heartbeatRound
            progress[id]!.acknowledgedSentAt = now + 1
        }
        releaseConfirmedReads()
    }

    mutating func handleHeartbeatResponse(from member: NodeID, _ context: HeartbeatContext) {
        guard var entry = progress[member] else { return }
        entry.recentActive = true
        entry.probeSent = false
        entry.acknowledgedRound = max(entry.acknowledgedRound, context.round)
        entry.acknowledgedSentAt = max(entry.acknowledgedSentAt, context.sentAt + 1)
        // A full window may hold lost messages: let one more through per heartbeat, so that a lost
        // AppendEntries is detected (the member rejects the gap) instead of stalling replication forever.
        if entry.state == .replicate && entry.inflights.isFull { entry.inflights.freeFirst() }
        progress[member] = entry
        // Behind: (re)send. An empty append at a `next` past the member's log is rejected, which sends the
        // leader back to probing, so entries lost without a report are resent.
        if entry.match < log.lastIndex { sendAppend(to: member, evenIfEmpty: true) }
        releaseConfirmedReads()
    }

    /// Advances the commit index to what a quorum holds, counting only entries of the current term
    /// (Figure 8). Returns true if it advanced.
    mutating func maybeCommit() -> Bool {
        let index = Quorum.committedIndex(membership) { progress[$0]?.match ?? .zero }
        guard index > log.committed, log.term(at: index) == term else { return false }
        commit(to: index)
        return true
    }

    /// Raises the commit index and applies the membership changes that became committed.
    mutating func commit(to index: LogIndex) {
        let previous = log.committed
        guard log.commit(to: index) else { return }
        var position = previous + 1
        let wasCommittedInTerm = role == .leader && log.term(at: previous) == term
        while position <= log.committed {
            let slot = Int(position.rawValue - log.snapshot.index.rawValue - 1)
            if role == .leader && log.entries[slot].term == term { uncommittedBytes -= log.entries[slot].byteCount }
            if case .confChange(let change) = log.entries[slot].payload { applyConfChange(change, at: position) }
            position += 1
        }
        if uncommittedBytes < 0 { uncommittedBytes = 0 }
        if role == .leader {
            if !wasCommittedInTerm && hasCommittedInCurrentTerm {
                let waiting = readsAwaitingTermCommit
                readsAwaitingTermCommit = []
                for read in waiting { handleLeaderRead(context: read.context, from: read.from) }
            }
            maybeLeaveJoint()
        }
    }
}
