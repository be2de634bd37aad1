import RaftCore
import RaftWire

// MARK: - Membership and leadership operations (the replica commands of docs/replicas.md)

extension MultiRaftHost {
    /// Registers an operation on a group this node hosts and takes its first step.
    func startAdministration(
        _ group: GroupID, _ operation: AdminOperation, timeout: UInt64,
        complete: @escaping @Sendable (Result<[UInt8], HostError>) -> Void
    ) {
        if let storageFailure { return complete(.failure(.storageFailed(storageFailure))) }
        guard slots[group] != nil else { return complete(.failure(.unknownGroup(group))) }
        nextRequest += 1
        let id = nextRequest
        administrations[id] = AdminWaiter(
            group: group, operation: operation, deadline: nowNanoseconds() + timeout, complete: complete)
        advanceAdministration(id)
    }

    /// Takes the next step of every operation in progress; called once per loop round.
    func advanceAdministrations() {
        for id in administrations.keys.sorted() { advanceAdministration(id) }
    }

    /// Checks whether an operation has taken effect (then completes it), proposes its change if this leader has
    /// not yet, or fails it: not the leader (with a hint, so the caller retries there), impossible, or too late.
    /// Every step is idempotent, so a caller that retries an operation after a leader change is safe.
    func advanceAdministration(_ id: UInt64) {
        guard var waiter = administrations[id] else { return }
        func finish(_ result: Result<[UInt8], HostError>) {
            administrations[id] = nil
            switch result {
            case .success: logger.info("\(waiter.operation): done", metadata: ["raft.group": "\(waiter.group)"])
            case .failure(let error):
                logger.info("\(waiter.operation): \(error)", metadata: ["raft.group": "\(waiter.group)"])
            }
            waiter.complete(result)
        }
        let group = waiter.group
        guard let slot = slots[group] else { return finish(.failure(.unknownGroup(group))) }
        wake(slot, work: true)
        let membership = slot.node.membership
        let target = waiter.operation.node
        let leading = slot.node.role == .leader
        if nowNanoseconds() >= waiter.deadline { return finish(.failure(.timeout(group))) }
        // Membership steps are judged only by the leader, from its committed configuration in its current term:
        // a lagging follower or an empty new replica would report a change as done (or not needed) that the
        // group never made.
        if !waiter.operation.isTransfer {
            guard leading else { return finish(.failure(.noLeader(group, leaderHint: slot.node.leader))) }
            guard slot.node.leadsWithCommittedMembership else {
                administrations[id] = waiter  // a new leader's no-op or a change still committing: next round
                return
            }
        }
        var change: ConfChange?
        switch waiter.operation {
        case .addLearner:
            if membership.isVoter(target) && !membership.isJoint { return finish(.success([])) }
            if membership.learners.contains(target) {
                guard leading else { return finish(.failure(.noLeader(group, leaderHint: slot.node.leader))) }
                let status = slot.node.status
                let catchUp = waiter.catchUpIndex ?? status.commit
                waiter.catchUpIndex = catchUp
                if let match = status.progress[target]?.match, match >= catchUp { return finish(.success([])) }
            } else if !membership.allMembers.contains(target) {
                change = ConfChange([.addLearner(target)])
            }
        case .promote:
            if membership.voters.contains(target) && !membership.isJoint { return finish(.success([])) }
            if !membership.allMembers.contains(target) {
                return finish(.failure(.rejected(group, .notMember(target))))
            }
            if membership.learners.contains(target) && !membership.isJoint {
                change = ConfChange([.addVoter(target)])
            }
        case .remove:
            if !membership.allMembers.contains(target) && !membership.isJoint { return finish(.success([])) }
            if membership.voters == [target] {
                return finish(.failure(.rejected(group, .lastReplica(target))))
            }
            if target == settings.nodeID && membership.voters.contains(target) && !membership.isJoint {
                // A leader never removes itself: once its replica is destroyed the others might never learn that
                // the change committed, and would keep counting it, with no quorum left. Leadership goes to the
                // most caught-up other voter first; once it has moved, the guard above answers `noLeader` with
                // the new leader as hint, and the caller retries the removal there.
                let progress = slot.node.status.progress
                // Ties go to the lowest id (`max` keeps the first of equal elements).
                let successor = membership.voters.filter { $0 != target }.sorted()
                    .max { (progress[$0]?.match ?? .zero) < (progress[$1]?.match ?? .zero) }
                if let successor, slot.node.leadTransferee == nil { try? slot.node.transferLeadership(to: successor) }
                administrations[id] = waiter
                return
            }
            if membership.allMembers.contains(target) && !membership.isJoint { change = ConfChange([.remove(target)]) }
        case .transferLeadership:
            if slot.node.leader == target && (!leading || target == settings.nodeID) { return finish(.success([])) }
            guard membership.isVoter(target) else {
                return finish(.failure(.rejected(group, .notVoter(target))))
            }
            guard leading else {
                if waiter.started, let other = slot.node.leader, other != target {
                    return finish(.failure(.rejected(group, .leadershipMoved(to: other))))
                }
                if waiter.started { break }  // handing over: wait to hear from the new leader
                return finish(.failure(.noLeader(group, leaderHint: slot.node.leader)))
            }
            do {
                try slot.node.transferLeadership(to: target)
                waiter.started = true
            } catch {
                return finish(.failure(.rejected(group, .refused(error))))
            }
        }
        if let change {
            guard leading else { return finish(.failure(.noLeader(group, leaderHint: slot.node.leader))) }
            do {
                try slot.node.proposeConfChange(change)
                waiter.started = true
            } catch .invalidConfChange(let why) {
                return finish(.failure(.rejected(group, .invalidChange(waiter.operation, why))))
            } catch .notLeader(let hint) {
                return finish(.failure(.noLeader(group, leaderHint: hint)))
            } catch {
                // A change or a transfer still pending: try again next round.
            }
        }
        administrations[id] = waiter
    }
}

extension AdminOperation {
    var isTransfer: Bool {
        if case .transferLeadership = self { return true }
        return false
    }
}

// MARK: - Group lifecycle driven by the metadata

extension MultiRaftHost {
    /// Creates `group` with `membership` if this node does not host it yet. A founding replica passes the
    /// bucket's original voters (every founder writes the same entry 1); a replica added later passes `.empty`
    /// and waits for the leader's log or snapshot. Loop thread only (called as metadata applies).
    public func ensureGroupFromLoopThread(_ group: GroupID, membership: Membership) {
        guard slots[group] == nil else { return }
        do {
            try createGroup(group, membership: membership)
            for peer in membership.allMembers where peer != settings.nodeID && !knownPeers.contains(peer) {
                knownPeers.insert(peer)
                lastHeard[peer] = tickCount
                livePeers.insert(peer)
            }
            logger.debug("created group", metadata: ["raft.group": "\(group)"])
        } catch {
            logger.error("cannot create group \(group): \(error)")
        }
    }

    /// Destroys this node's replica of `group`: its waiters fail, a `removeGroup` record goes into the WAL with
    /// the next round, and its snapshot files are deleted once that record is durable (so that a crash in
    /// between leaves either the whole group or nothing of it). Loop thread only.
    public func removeGroupFromLoopThread(_ group: GroupID) {
        guard let slot = slots.removeValue(forKey: group) else { return }
        awake.remove(group)
        dirty.remove(group)
        for id in slot.pendingProposals { proposals.removeValue(forKey: id)?.complete(.failure(.unknownGroup(group))) }
        for context in slot.waitingReads { reads.removeValue(forKey: context)?.fail(.unknownGroup(group)) }
        for (id, waiter) in administrations where waiter.group == group {
            administrations[id] = nil
            waiter.complete(.failure(.unknownGroup(group)))
        }
        for key in sending.keys where key.group == group { sending[key] = nil }
        receivingGroups.remove(group)
        damagedGroups.remove(group)
        pendingRecords.append(.removeGroup(group))
        // The files go right after the removeGroup record is durable, before a new replica of the same group
        // (re-added at once) can write its own; until then nobody may read them.
        snapshots.forget(group: group)
        removedGroupsAwaitingCleanup.append(group)
        logger.info("destroyed this node's replica", metadata: ["raft.group": "\(group)"])
    }

    /// Records the incarnations of `group`'s replicas (their vnode ids, from meta): this node's own, sent with
    /// its messages, and every listed member's, against which received messages are checked. A leader that sees a
    /// member's incarnation change starts that member's progress over (its new replica is empty). Loop thread
    /// only; a no-op for a group this node does not host.
    public func setIncarnationsFromLoopThread(_ group: GroupID, own: UInt64, members: [NodeID: UInt64]) {
        guard let slot = slots[group] else { return }
        slot.incarnation = own
        for (member, incarnation) in members where member != settings.nodeID {
            if let previous = slot.memberIncarnations[member], previous != incarnation {
                logger.info(
                    "node \(member)'s replica is a new incarnation (\(previous) → \(incarnation))",
                    metadata: ["raft.group": "\(group)"])
                slot.node.memberReplaced(member)
                wake(slot, work: true)
            }
        }
        // Merged, not replaced: a member that left meta keeps its last incarnation, so that its late messages
        // are still dropped and its return under a new id is seen as a new replica.
        for (member, incarnation) in members where member != settings.nodeID {
            slot.memberIncarnations[member] = incarnation
        }
    }

    /// The ids of the groups this node hosts.
    public var hostedGroupsFromLoopThread: [GroupID] { Array(slots.keys) }

    /// Deletes the snapshot files of groups whose `removeGroup` record is now durable (called right after the
    /// WAL append, before any replica created anew since could write files), and snapshot files left by groups
    /// that recovery did not find (a crash between the two steps).
    func cleanUpRemovedGroups() {
        let removedGroups = removedGroupsAwaitingCleanup
        let groups = removedGroups + snapshots.groups.filter { slots[$0] == nil }
        removedGroupsAwaitingCleanup = []
        for group in Set(groups) {
            do {
                try snapshots.removeAll(group: group)
            } catch {
                logger.error("cannot delete the snapshot files of destroyed group \(group): \(error)")
            }
        }
        // A persistent machine's files go too, unless a new replica of the group exists already (it deleted
        // them when it started, and has files of its own now).
        for group in Set(removedGroups) where slots[group] == nil { factory(group).persistent?.removeDurable() }
    }
}
