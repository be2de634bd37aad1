// MARK: - Messages in

extension RaftNode {
    /// Handles one message from another member. Stale, duplicated and reordered messages are safe to step.
    public mutating func step(_ message: Message) {
        guard message.to == id, message.from != id, !storageFailed else { return }
        if message.term > term {
            if case .vote(let request) = message.body, !request.transfer, isInLease {
                // Check-quorum lease (thesis §4.2.3): a member that heard from a leader within the election
                // timeout ignores candidates, so that a partitioned member cannot depose a live leader.
                return
            }
            switch message.body {
            case .vote(let request) where request.preVote:
                break  // a pre-vote request changes no term
            case .voteResponse(let response) where response.preVote && response.granted:
                break  // granted pre-votes carry the future term
            case .append, .heartbeat, .snapshot:
                becomeFollower(term: message.term, leader: message.from)
            default:
                becomeFollower(term: message.term, leader: nil)
            }
        } else if message.term < term {
            switch message.body {
            case .append, .heartbeat:
                if config.checkQuorum || config.preVote {
                    // Tell a stale leader about the newer term, so that it steps down (a member cut off
                    // and back with pre-vote never raised its term to depose it).
                    send(.appendResponse(AppendResponse(index: .zero)), to: message.from)
                }
            case .vote(let request) where request.preVote:
                send(.voteResponse(VoteResponse(preVote: true, granted: false)), to: message.from)
            default:
                break
            }
            return
        }

        if case .vote(let request) = message.body {
            handleVoteRequest(message, request)
            return
        }
        switch role {
        case .follower: stepFollower(message)
        case .preCandidate, .candidate: stepCandidate(message)
        case .leader: stepLeader(message)
        }
    }

    /// True while a leader heard from within the election timeout may still hold its lease.
    var isInLease: Bool {
        config.checkQuorum && (leader != nil || recentlyStarted) && electionElapsed < config.electionTicks
    }

    // MARK: Voting (§5.2, §5.4.1)

    private mutating func handleVoteRequest(_ message: Message, _ request: VoteRequest) {
        let canVote =
            vote == message.from || (vote == nil && leader == nil) || (request.preVote && message.term > term)
        if canVote && log.isUpToDate(lastIndex: request.lastIndex, lastTerm: request.lastTerm) {
            // A granted answer carries the candidate's term; a real vote is persisted before it is sent.
            messages.append(
                Message(
                    from: id, to: message.from, term: message.term,
                    body: .voteResponse(VoteResponse(preVote: request.preVote, granted: true))))
            if !request.preVote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            send(.voteResponse(VoteResponse(preVote: request.preVote, granted: false)), to: message.from)
        }
    }

    // MARK: Follower

    private mutating func stepFollower(_ message: Message) {
        switch message.body {
        case .append(let append):
            electionElapsed = 0
            leader = message.from
            formerVoters = []  // a leader is replicating: nobody needs this member to campaign
            handleAppend(from: message.from, append)
        case .heartbeat(let heartbeat):
            electionElapsed = 0
            leader = message.from
            formerVoters = []  // a leader is replicating: nobody needs this member to campaign
            commit(to: heartbeat.commit)
            send(.heartbeatResponse(heartbeat.context), to: message.from)
        case .snapshot(let snapshot):
            electionElapsed = 0
            leader = message.from
            formerVoters = []  // a leader is replicating: nobody needs this member to campaign
            handleSnapshot(from: message.from, snapshot)
        case .timeoutNow:
            // Leadership transfer: campaign at once, skipping pre-vote and the voters' leases.
            campaign(.transfer)
        case .readIndexResponse(let state):
            readStates.append(state)
        case .forwardedProposals, .readIndex, .appendResponse, .heartbeatResponse, .voteResponse, .vote:
            break  // meant for a leader or a candidate of this term; stale here
        }
    }

    private mutating func handleAppend(from leaderID: NodeID, _ append: AppendEntries) {
        if append.prevIndex < log.committed {
            send(.appendResponse(AppendResponse(index: log.committed)), to: leaderID)
            return
        }
        if log.matches(index: append.prevIndex, term: append.prevTerm) {
            let lastNew = log.appendFromLeader(append.entries, after: append.prevIndex)
            commit(to: min(append.commit, lastNew))
            send(.appendResponse(AppendResponse(index: lastNew)), to: leaderID)
        } else {
            // Consistency check failed (§5.3): answer with a hint so the leader skips a whole term at once.
            let (hintIndex, hintTerm) = log.lastIndex(
                atOrBefore: min(append.prevIndex, log.lastIndex), withTermAtMost: append.prevTerm)
            send(
                .appendResponse(
                    AppendResponse(index: append.prevIndex, reject: true, hintIndex: hintIndex, hintTerm: hintTerm)),
                to: leaderID)
        }
    }

    private mutating func handleSnapshot(from leaderID: NodeID, _ snapshot: SnapshotMetadata) {
        if snapshot.index <= log.committed {
            send(.appendResponse(AppendResponse(index: log.committed)), to: leaderID)
            return
        }
        if log.matches(index: snapshot.index, term: snapshot.term) {
            // The log already holds the snapshot's last entry: fast-forward the commit index instead.
            commit(to: snapshot.index)
            send(.appendResponse(AppendResponse(index: log.committed)), to: leaderID)
            return
        }
        log.restore(snapshot)
        membership = snapshot.membership
        membershipHistory = []
        formerVoters = []
        membershipChanged = true
        send(.appendResponse(AppendResponse(index: snapshot.index)), to: leaderID)
    }

    // MARK: Candidate

    private mutating func stepCandidate(_ message: Message) {
        switch message.body {
        case .append, .heartbeat, .snapshot:
            // A leader of this term exists (§5.2): fall back to follower and handle its message.
            becomeFollower(term: message.term, leader: message.from)
            stepFollower(message)
        case .voteResponse(let response):
            guard response.preVote == (role == .preCandidate) else { return }
            votes[message.from] = response.granted
            switch Quorum.voteResult(membership, answer: { votes[$0] }) {
            case .won: winCampaign()
            case .lost: becomeFollower(term: term, leader: nil)
            case .pending: break
            }
        case .readIndexResponse(let state):
            readStates.append(state)
        case .timeoutNow, .forwardedProposals, .readIndex, .appendResponse, .heartbeatResponse, .vote:
            break
        }
    }

    // MARK: Leader

    private mutating func stepLeader(_ message: Message) {
        switch message.body {
        case .appendResponse(let response):
            handleAppendResponse(from: message.from, response)
        case .heartbeatResponse(let context):
            handleHeartbeatResponse(from: message.from, context)
        case .forwardedProposals(let payloads):
            guard leadTransferee == nil else { return }
            for payload in payloads {
                if case .confChange = payload { continue }  // membership changes are proposed at the leader
                let size = Entry(term: term, index: .zero, payload: payload).byteCount
                if size > config.maxMessageBytes { continue }
                if uncommittedBytes > 0 && uncommittedBytes + size > config.maxUncommittedBytes { continue }
                appendEntry(payload)
            }
        case .readIndex(let context):
            guard progress[message.from] != nil else { return }
            handleLeaderRead(context: context, from: message.from)
        case .append, .heartbeat, .snapshot, .timeoutNow, .voteResponse, .readIndexResponse, .vote:
            break  // another leader of the same term cannot exist; these are stale duplicates
        }
    }
}
