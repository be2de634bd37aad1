import RaftCore
import RaftStorage
import RaftWire

extension MultiRaftHost {
    /// The Ready pipeline over every group with work: a leader's appends and heartbeats go out first, then one
    /// WAL append for all groups, then every other message (one write per peer), then apply. Repeats while
    /// applying produced more work (a commit that lets a follower catch up, ...).
    ///
    /// A leader sends its new entries before its own fsync (etcd-raft's asynchronous storage writes), so that the
    /// followers' fsyncs overlap the leader's: the core counts the leader's own copy only once `advance` says it
    /// is durable, and the answers that could commit an entry are read on this thread after the fsync returned.
    /// Everything that promises durability (append and vote responses, hard states) still waits for the fsync.
    func processReadies() {
        while !dirty.isEmpty || !pendingRecords.isEmpty {
            var records = pendingRecords
            pendingRecords = []
            var batch: [(GroupSlot, Ready)] = []
            for group in dirty {
                guard let slot = slots[group], slot.node.hasReady else { continue }
                var ready = slot.node.ready()
                if slot.node.role == .leader, !ready.messages.isEmpty { sendBeforePersisting(&ready, of: slot) }
                if let snapshot = ready.snapshot { records.append(.snapshot(group, snapshot)) }
                if !ready.entries.isEmpty { Self.appendEntryRecords(group, ready.entries, to: &records) }
                if let hardState = ready.hardState { records.append(.hardState(group, hardState)) }
                batch.append((slot, ready))
            }
            dirty = []
            flushOutbox()
            // 1. Persist: one write and one fsync for every group's entries and hard state.
            if !records.isEmpty {
                let started = nowNanoseconds()
                do {
                    try wal.append(records)
                } catch {
                    storageFailed("\(error)", cause: error, groups: batch.map(\.0))
                    return
                }
                metrics.fsync.recordNanoseconds(Int64(nowNanoseconds() - started))
                if !removedGroupsAwaitingCleanup.isEmpty { cleanUpRemovedGroups() }
                releaseSnapshots(recordedIn: records)
            }
            // 2. Send, before applying anything: a follower's acknowledgement waits for its fsync only.
            for (slot, ready) in batch { send(ready, of: slot) }
            flushOutbox()
            // 3. Apply (several groups at once where their machines allow), answer, advance.
            applyConcurrently(batch)
            for (slot, ready) in batch { handle(ready, of: slot) }
            flushOutbox()
        }
        flushOutbox()
    }

    /// Moves a leader's appends and heartbeats out of `ready` into the outbox: they promise nothing about this
    /// node's disk, so they need not wait for its fsync.
    private func sendBeforePersisting(_ ready: inout Ready, of slot: GroupSlot) {
        var later: [Message] = []
        for message in ready.messages {
            switch message.body {
            case .append, .heartbeat:
                outbox[message.to, default: []].append(frame(message, of: slot))
            default:
                later.append(message)
            }
        }
        ready.messages = later
    }

    func frame(_ message: Message, of slot: GroupSlot) -> WireFrame {
        slot.incarnation == 0
            ? .message(group: slot.id, message)
            : .replicaMessage(group: slot.id, incarnation: slot.incarnation, message)
    }

    /// Entries records of at most `entryRecordBytes` each: a member catching up can take in far more in one round
    /// (many append messages) than one WAL record may hold.
    static func appendEntryRecords(_ group: GroupID, _ entries: [Entry], to records: inout [WALRecord]) {
        var start = 0
        var bytes = 0
        for (k, entry) in entries.enumerated() {
            if k > start && bytes + entry.byteCount > entryRecordBytes {
                records.append(.entries(group, Array(entries[start..<k])))
                start = k
                bytes = 0
            }
            bytes += entry.byteCount
        }
        records.append(.entries(group, start == 0 ? entries : Array(entries[start...])))
    }

    static let entryRecordBytes = 32 << 20

    /// A role change, and the messages of `ready` into the outbox (snapshots start their transfer).
    private func send(_ ready: Ready, of slot: GroupSlot) {
        if let soft = ready.softState { roleChanged(slot, soft) }
        for message in ready.messages {
            if case .snapshot = message.body {
                startTransfer(message, of: slot)
            } else {
                outbox[message.to, default: []].append(frame(message, of: slot))
            }
        }
    }

    /// The rest of `ready` once its messages are out: snapshot install, apply, reads, `advance`, compaction.
    private func handle(_ ready: Ready, of slot: GroupSlot) {
        let group = slot.id
        if let snapshot = ready.snapshot { install(snapshot, in: slot) }
        if let applied = slot.appliedApart {
            slot.appliedApart = nil
            for command in applied { answer(command, in: slot) }
        } else {
            for entry in ready.committedEntries { apply(entry, in: slot) }
        }
        record(ready.readStates, of: slot)
        slot.node.advance(ready)
        serveReads(slot)
        maybeCompact(slot)
        maybePersist(slot)
        if slot.node.hasReady { dirty.insert(group) }
        if !ready.entries.isEmpty || !ready.committedEntries.isEmpty || ready.snapshot != nil {
            slot.idleTicks = 0
        }
    }

    private func roleChanged(_ slot: GroupSlot, _ soft: SoftState) {
        if soft.role == .leader {
            onLeadership?(slot.id)
            metrics.elections.increment()
            logger.debug(
                "became leader", metadata: ["raft.group": "\(slot.id)", "raft.term": "\(slot.node.term)"])
        }
        if soft.leader != nil { metrics.leaderChanges.increment() }
        // A new leader: proposals parked while there was none go to it now. Proposals already handed to a leader
        // are not proposed again: a duplicate applied after a later write to the same point would undo that
        // acknowledged write. If they were lost with the old leader, their callers get a timeout ("may still
        // commit") and retry.
        if soft.leader != nil {
            for id in slot.pendingProposals where proposals[id]?.parked == true { submit(id) }
            for context in slot.waitingReads where reads[context]?.index == nil { submitRead(context) }
        }
    }

    /// Applies the committed entries of this round's groups whose machines may run apart from the loop thread
    /// (`StateMachine.appliesConcurrently`), several groups at once, and returns when all are applied; `handle`
    /// then only answers their proposers. Only when two groups or more have entries to apply (one alone gains
    /// nothing from another thread), and never a group that installs a snapshot or replays its log this round:
    /// those apply on the loop thread as before. Each group's entries still apply in log order, on one thread.
    func applyConcurrently(_ batch: [(GroupSlot, Ready)]) {
        var work: [(GroupSlot, [Entry])] = []
        for (slot, ready) in batch
        where !ready.committedEntries.isEmpty && ready.snapshot == nil && slot.restoring == nil
            && slot.replayUntil == nil && slot.machine.appliesConcurrently
        {
            work.append((slot, ready.committedEntries))
        }
        guard work.count > 1 else { return }
        let handoff = Handoff(work)
        environment.concurrently(work.count) { k in
            let (slot, entries) = handoff.value[k]
            var applied: [AppliedCommand] = []
            applied.reserveCapacity(entries.count)
            for entry in entries {
                if let command = slot.applyToMachine(entry) { applied.append(command) }
            }
            slot.appliedApart = applied
        }
    }

    /// Applies a committed entry (once: entries at or below `machineApplied` are skipped; none while a snapshot
    /// is being restored, since `restored` applies them from the log afterwards) and answers its proposer.
    func apply(_ entry: Entry, in slot: GroupSlot) {
        guard entry.index > slot.machineApplied, slot.restoring == nil else { return }
        defer { if let until = slot.replayUntil, entry.index >= until { replayFinished(slot) } }
        if let command = slot.applyToMachine(entry) { answer(command, in: slot) }
    }

    /// Hands an applied command's result to its proposer, if it waits on this node.
    func answer(_ command: AppliedCommand, in slot: GroupSlot) {
        guard let waiter = proposals[command.proposal], waiter.group == slot.id else { return }
        proposals[command.proposal] = nil
        slot.pendingProposals.remove(command.proposal)
        metrics.commitLatency.recordNanoseconds(Int64(nowNanoseconds() - waiter.startedAt))
        waiter.complete(.success(command.result))
    }

    /// `slot` applied everything it had committed when the node started.
    func replayFinished(_ slot: GroupSlot) {
        slot.replayUntil = nil
        onReplayed?(slot.id)
        maybePersist(slot)
    }

    func serveReads(_ slot: GroupSlot) {
        guard !slot.waitingReads.isEmpty else { return }
        slot.waitingReads.removeAll { context in
            guard let waiter = reads[context] else { return true }
            guard let index = waiter.index, index <= slot.machineApplied else { return false }
            reads[context] = nil
            waiter.run(slot.machine)
            return true
        }
    }

    func flushOutbox() {
        guard !outbox.isEmpty else { return }
        for (peer, frames) in outbox { transport.send(frames, to: peer) }
        outbox.removeAll(keepingCapacity: true)
    }

    /// Stops the node taking part in its groups: `reason` says what failed where, `cause` (a `SystemCallError`)
    /// gives the failure its errno. Every waiter fails with the same `StorageFailure`.
    func storageFailed(_ reason: String, cause: (any Error)? = nil, groups: [GroupSlot]) {
        logger.critical("WAL append failed: \(reason); this node stops taking part in its groups")
        let failure = StorageFailure(errno: (cause as? any SystemCallError)?.errno, reason)
        storageFailure = failure
        for slot in slots.values { slot.node.reportStorageFailure() }
        for (_, waiter) in proposals { waiter.complete(.failure(.storageFailed(failure))) }
        for (_, waiter) in reads { waiter.fail(.storageFailed(failure)) }
        proposals = [:]
        reads = [:]
        for slot in slots.values {
            slot.pendingProposals = []
            slot.waitingReads = []
        }
        dirty = []
        // Fall silent, so that peers see this node as down and the quiet groups it led elect new leaders.
        transport.isolate(from: knownPeers)
    }
}
