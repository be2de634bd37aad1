import RaftCore
import RaftStorage

extension MultiRaftHost {
    // MARK: - Jobs

    /// Starts the background jobs a persistent machine has due, each on its lane — a flush once its memory is
    /// past its bound, once `snapshotEveryEntries` entries were applied above its durable index (so that the log
    /// of a quiet group is bounded too), or when `flush` says so (cold data, a group pinning the WAL); a
    /// compaction of its files — and compacts the log if the machine's files cover more of it. Nothing while a
    /// snapshot is being restored into the group, nor while it replays its log after a restart.
    func maybePersist(_ slot: GroupSlot, flush cold: Bool = false) {
        // No job while the group replays what it had committed when the node started: the replay is what a
        // restart waits for before serving, and it is bounded by what the memtables held before the crash.
        guard let machine = slot.machine.persistent, storageError == nil, slot.restoring == nil,
            slot.replayUntil == nil
        else { return }
        let every = UInt64(max(0, settings.snapshotEveryEntries))
        let flush = cold || (every > 0 && slot.machineApplied.rawValue >= machine.durableIndex.rawValue + every)
        while let job = machine.nextJob(flush: flush, state: { [] }) {
            let done = Handoff { [self] (outcome: Result<any Sendable, any Error>) in
                persisted(job, outcome, by: machine, of: slot)
            }
            environment.background(job.kind == .flush ? .flushes : .compactions) { [self] in
                let outcome: Result<any Sendable, any Error>
                do { outcome = .success(try job.run()) } catch { outcome = .failure(error) }
                enqueue(.run { done.value(outcome) })
            }
        }
        if machine.durableIndex > slot.snapshotIndex && tickCount >= slot.logCompactionAfterTick {
            compactPersistedLog(slot, machine)
        }
    }

    /// A job is done (or failed), on the loop thread: its output becomes the machine's, unless the machine is no
    /// longer the group's (destroyed, or replaced by a snapshot), whose jobs are given up.
    private func persisted(
        _ job: PersistenceJob, _ outcome: Result<any Sendable, any Error>, by machine: any PersistentStateMachine,
        of slot: GroupSlot
    ) {
        guard slots[slot.id] === slot, slot.machine.persistent === machine, storageError == nil else {
            return machine.abandonJob(job, error: nil)
        }
        do {
            try machine.finishJob(job, output: try outcome.get())
        } catch {
            machine.abandonJob(job, error: error)
            // A damaged file is this replica's alone: it stops serving and is replaced, the node goes on.
            if let damage = machine.damage { return reportDamage(slot.id, damage) }
            return storageFailed("\(job.kind) of group \(slot.id) failed: \(error)", groups: [slot])
        }
        logger.debug(
            "\(job.kind) done", metadata: ["raft.group": "\(slot.id)", "durable": "\(machine.durableIndex)"])
        maybePersist(slot)
    }

    /// Compacts the log through what the machine's files hold: entries no file holds stay (the memtable is
    /// rebuilt from them after a crash), and so does, on a leader, what an active follower has yet to receive,
    /// up to `snapshotEveryEntries` entries below the durable index (a follower further behind gets the files).
    /// The WAL's `compact` record follows in the next batch; no snapshot file is involved.
    private func compactPersistedLog(_ slot: GroupSlot, _ machine: any PersistentStateMachine) {
        guard slot.receiving == nil, !slot.staging else { return }
        let durable = min(machine.durableIndex, slot.node.log.applied)
        var through = durable
        if slot.node.role == .leader {
            for (member, progress) in slot.node.status.progress
            where member != settings.nodeID && progress.recentActive {
                through = min(through, progress.match)
            }
            let floor =
                durable.rawValue > UInt64(settings.snapshotEveryEntries)
                ? durable.rawValue - UInt64(settings.snapshotEveryEntries) : 0
            through = max(through, LogIndex(floor))
        }
        guard through > slot.snapshotIndex, let metadata = slot.node.compactLog(through: through) else {
            // Held back by a follower: look again in a while rather than every round.
            slot.logCompactionAfterTick = tickCount + 10
            return
        }
        slot.snapshotIndex = through
        pendingRecords.append(.compact(slot.id, metadata))
    }

    // MARK: - Snapshots to send

    /// A member needs a snapshot of a persistent machine and no file recent enough is there: the machine's
    /// files at its durable index are written into one (off the loop thread; the files are immutable, the source
    /// holds them open), and the transfer starts once it is sealed. Messages arriving meanwhile wait for it.
    func stageSnapshot(_ message: Message, of slot: GroupSlot, _ machine: any PersistentStateMachine) {
        slot.stagedTransfers[message.to] = message
        guard !slot.staging else { return }
        let index = machine.durableIndex
        let log = slot.node.log
        let metadata = index == log.snapshot.index ? log.snapshot : slot.node.snapshotMetadata(through: index)
        let writer: SnapshotWriter
        do {
            guard let metadata else {
                throw HostError.storageFailed("no metadata at the durable index \(index) of group \(slot.id)")
            }
            writer = try snapshots.beginWrite(group: slot.id, metadata: metadata)
        } catch {
            logger.warning("snapshot of group \(slot.id) for sending postponed: \(error)")
            return failStagedTransfers(slot)
        }
        slot.staging = true
        let source = machine.durableSnapshot()
        let file = Handoff(writer)
        snapshotWork(on: .snapshotWrites) {
            try source.write { try file.value.write($0) }
            try file.value.seal()
        } then: { [self] error in
            slot.staging = false
            guard slots[slot.id] === slot else { return writer.abort() }
            do {
                if let error { throw error }
                try writer.commit()
            } catch {
                writer.abort()
                logger.error("cannot write the snapshot of group \(slot.id) for sending: \(error)")
                return failStagedTransfers(slot)
            }
            let waiting = slot.stagedTransfers.values
            slot.stagedTransfers = [:]
            for message in waiting { startTransfer(message, of: slot) }
        }
    }

    private func failStagedTransfers(_ slot: GroupSlot) {
        for member in slot.stagedTransfers.keys { slot.node.reportSnapshot(to: member, succeeded: false) }
        slot.stagedTransfers = [:]
        wake(slot, work: true)
    }

    /// Deletes the snapshot files of a persistent machine that its own files now hold (sent, or installed), once
    /// no transfer of the group reads them.
    func releasePersistedSnapshots(_ slot: GroupSlot) {
        guard let machine = slot.machine.persistent, !slot.staging, slot.restoring == nil,
            !sending.keys.contains(where: { $0.group == slot.id })
        else { return }
        do {
            try snapshots.remove(group: slot.id, through: machine.durableIndex)
        } catch {
            logger.error("cannot delete the snapshot files of group \(slot.id): \(error)")
        }
    }
}

extension MultiRaftHost {
    /// A replica's data was found damaged (by a read or a job; on any thread): logged once, and told to
    /// `onDamaged` on the loop thread, which replaces the replica (the others keep serving meanwhile).
    public func reportDamage(_ group: GroupID, _ why: String) {
        enqueue(
            .run { [self] in
                guard slots[group] != nil, damagedGroups.insert(group).inserted else { return }
                logger.error("replica of group \(group) is damaged and stops serving: \(why)")
                onDamaged?(group, why)
            })
    }
}
