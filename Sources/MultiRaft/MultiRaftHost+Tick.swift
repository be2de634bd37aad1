import RaftCore
import RaftWire

extension MultiRaftHost {
    /// One tick for the whole node: pings, peer liveness, the awake groups' clocks, retries and deadlines.
    func tick() {
        tickCount += 1
        for peer in knownPeers { outbox[peer, default: []].append(.ping) }
        let electionTicks = UInt64(settings.electionTicks)
        for peer in livePeers where tickCount - (lastHeard[peer] ?? 0) > electionTicks {
            markDown(peer, connectionClosed: false)
        }
        for group in awake {
            guard let slot = slots[group] else { continue }
            slot.node.tick()
            dirty.insert(group)
            slot.idleTicks += 1
            if settings.quiesceAfterTicks > 0, slot.idleTicks >= settings.quiesceAfterTicks, canQuiesce(slot) {
                slot.quiet = true
                slot.quietSince = nowNanoseconds()
                awake.remove(group)
            }
        }
        // Cold data goes to files: a quiet group's memory is flushed every `coldFlushTicks` (its log with it).
        if settings.coldFlushTicks > 0, tickCount % UInt64(settings.coldFlushTicks) == 0 {
            for slot in slots.values where slot.quiet { maybePersist(slot, flush: true) }
        }
        let now = nowNanoseconds()
        for (id, waiter) in proposals {
            if waiter.deadline <= now {
                proposals[id] = nil
                slots[waiter.group]?.pendingProposals.remove(id)
                let leader = slots[waiter.group]?.node.leader
                waiter.complete(
                    .failure(
                        leader == nil || waiter.parked
                            ? .noLeader(waiter.group, leaderHint: leader) : .timeout(waiter.group)))
            } else if waiter.parked {
                submit(id)
            }
        }
        for (context, waiter) in reads {
            if waiter.deadline <= now {
                reads[context] = nil
                slots[waiter.group]?.waitingReads.removeAll { $0 == context }
                waiter.fail(
                    waiter.parked
                        ? .noLeader(waiter.group, leaderHint: slots[waiter.group]?.node.leader) : .timeout(waiter.group)
                )
            } else if waiter.parked {
                submitRead(context)
            }
        }
        for (id, waiter) in remoteProposals where waiter.deadline <= now {
            remoteProposals[id] = nil
            waiter.complete(.failure(.timeout(waiter.group)))
        }
        expireSnapshotTransfers()
        if tickCount % 100 == 0 {
            collectGarbage()
            #if os(Linux)
                _ = glibcMallocTrim(0)  // hand memory freed after bursts (elections, catch-up) back to the system
            #endif
        }
        if tickCount % 10 == 0 { metrics.update(self) }
    }

    /// A quiet group stops ticking. Allowed when nothing is in flight: a follower whose leader's node is alive,
    /// or a leader whose every member has the whole log, committed and applied.
    func canQuiesce(_ slot: GroupSlot) -> Bool {
        guard slot.pendingProposals.isEmpty, slot.waitingReads.isEmpty, slot.receiving == nil else { return false }
        let node = slot.node
        switch node.role {
        case .follower:
            guard let leader = node.leader, leader != settings.nodeID else { return false }
            return livePeers.contains(leader)
        case .leader:
            let last = node.log.lastIndex
            guard node.log.committed == last, slot.machineApplied == last, node.leadTransferee == nil,
                !node.membership.isJoint
            else { return false }
            let status = node.status
            for member in node.membership.allMembers where member != settings.nodeID {
                guard let progress = status.progress[member], progress.match == last, progress.recentActive,
                    livePeers.contains(member)
                else { return false }
            }
            return true
        case .preCandidate, .candidate:
            return false
        }
    }

    func heard(from peer: NodeID) {
        lastHeard[peer] = tickCount
        if !livePeers.contains(peer) {
            livePeers.insert(peer)
            knownPeers.insert(peer)
            logger.debug("node \(peer) is up")
        }
    }

    /// A peer went silent or its connection closed: every quiet group it led wakes and will elect a new leader
    /// if the peer stays away; snapshot transfers to it fail. Requests waiting for its answer fail at once only
    /// if the connection closed: a peer that is merely silent may be busy (a large answer built on its loop
    /// thread) and still answer before their deadlines.
    func markDown(_ peer: NodeID, connectionClosed: Bool) {
        if connectionClosed {
            for (id, waiter) in remoteProposals where waiter.node == peer {
                remoteProposals[id] = nil
                waiter.complete(.failure(.noLeader(waiter.group, leaderHint: nil)))
            }
        }
        guard livePeers.remove(peer) != nil else { return }
        lastHeard[peer] = 0
        logger.debug("node \(peer) is down")
        for slot in slots.values where slot.quiet && (slot.node.leader == peer || slot.node.role == .leader) {
            wake(slot, work: true)
        }
        for key in sending.keys where key.member == peer { finishTransfer(key, succeeded: false) }
    }

    /// Deletes the WAL segments nothing needs any more. Groups whose live entries hold back the oldest segment
    /// that stays compact their logs now, whatever their thresholds (a persistent machine flushes, another takes
    /// a snapshot), so that a quiet group with a few old entries never pins every segment after them.
    func collectGarbage() {
        do {
            let result = try wal.collectGarbage()
            for group in result.pinningGroups {
                guard let slot = slots[group] else { continue }
                if slot.machine.persistent != nil {
                    maybePersist(slot, flush: true)
                } else {
                    maybeCompact(slot, force: true)
                }
            }
        } catch {
            logger.error("WAL garbage collection failed: \(error)")
        }
    }
}

#if os(Linux)
    /// glibc's `malloc_trim`, which the Glibc module does not export.
    @_silgen_name("malloc_trim")
    func glibcMallocTrim(_ pad: Int) -> Int32
#endif
