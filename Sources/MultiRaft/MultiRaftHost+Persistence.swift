import RaftCore
import RaftStorage
import RaftWire
import Synchronization

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
        guard let machine = slot.machine.persistent, storageFailure == nil, slot.restoring == nil,
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
    /// longer the group's (destroyed, or replaced by a snapshot), whose jobs are given up. So is a job that
    /// failed while a snapshot is being restored into a fresh machine: the restore replaces this machine's files
    /// (a vnode deletes its older generations as it completes, maybe under the job's feet), and if the restore
    /// fails, that is a storage failure of its own.
    private func persisted(
        _ job: PersistenceJob, _ outcome: Result<any Sendable, any Error>, by machine: any PersistentStateMachine,
        of slot: GroupSlot
    ) {
        guard slots[slot.id] === slot, slot.machine.persistent === machine, storageFailure == nil else {
            return machine.abandonJob(job, error: nil)
        }
        if case .failure(let error) = outcome, slot.restoring != nil {
            logger.debug("\(job.kind) of group \(slot.id) given up while a snapshot is restored: \(error)")
            return machine.abandonJob(job, error: nil)
        }
        do {
            try machine.finishJob(job, output: try outcome.get())
        } catch {
            machine.abandonJob(job, error: error)
            // A damaged file is this replica's alone: it stops serving and is replaced, the node goes on.
            if let damage = machine.damage { return reportDamage(slot.id, damage) }
            return storageFailed("\(job.kind) of group \(slot.id) failed: \(error)", cause: error, groups: [slot])
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
        guard slot.receiving == nil, !slot.preparingSnapshot else { return }
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

    /// A member needs a snapshot of a persistent machine and none recent enough is at hand: the machine's files
    /// at its durable index are read once, off the loop thread, for the checksum the receiver checks them
    /// against (nothing is written; the files are immutable and the source holds them open), and then streamed to
    /// every member that waits for them. The log is not compacted meanwhile, so the snapshot prepared covers
    /// whatever a member waiting for it asked for.
    func prepareSnapshot(_ message: Message, of slot: GroupSlot, _ machine: any PersistentStateMachine) {
        slot.waitingTransfers[message.to] = message
        guard !slot.preparingSnapshot else { return }
        // A damaged replica sends nothing: its files would go out in frames with fresh checksums.
        if let damage = machine.damage {
            logger.warning("snapshot of group \(slot.id) not sent: this replica is damaged (\(damage))")
            return failWaitingTransfers(slot)
        }
        let index = machine.durableIndex
        let log = slot.node.log
        guard let metadata = index == log.snapshot.index ? log.snapshot : slot.node.snapshotMetadata(through: index)
        else {
            logger.warning(
                "snapshot of group \(slot.id) for sending postponed: no metadata at its durable index \(index)")
            return failWaitingTransfers(slot)
        }
        slot.preparingSnapshot = true
        let source = machine.durableSnapshot()
        let (group, chunkSize) = (slot.id, settings.snapshotChunkBytes)
        let checksum = Mutex<SnapshotChecksum?>(nil)
        snapshotWork(on: .snapshotWrites) {
            let reader = source.reader()
            var (length, crc): (UInt64, UInt32) = (0, 0)
            while true {
                let chunk = try reader.next(limit: chunkSize)
                if chunk.isEmpty { break }
                crc = CRC32C.checksum(chunk, continuing: crc)
                length += UInt64(chunk.count)
            }
            guard length == source.length else {
                throw HostError.storageFailed(
                    StorageFailure(
                        "the snapshot of group \(group) read \(length) bytes, but its source announced \(source.length)"
                    ))
            }
            checksum.withLock {
                $0 = SnapshotChecksum(group: group, metadata: metadata, dataLength: length, dataCRC: crc)
            }
        } then: { [self] error in
            slot.preparingSnapshot = false
            guard slots[slot.id] === slot else { return }
            guard error == nil, let checksum = checksum.withLock({ $0 }) else {
                logger.error("cannot read the snapshot of group \(slot.id) for sending: \(error.map { "\($0)" } ?? "")")
                return failWaitingTransfers(slot)
            }
            slot.preparedSnapshot = PreparedSnapshot(metadata: metadata, source: source, checksum: checksum)
            let waiting = slot.waitingTransfers.values
            slot.waitingTransfers = [:]
            for message in waiting { startTransfer(message, of: slot) }
        }
    }

    private func failWaitingTransfers(_ slot: GroupSlot) {
        for member in slot.waitingTransfers.keys { slot.node.reportSnapshot(to: member, succeeded: false) }
        slot.waitingTransfers = [:]
        releasePersistedSnapshots(slot)
        wake(slot, work: true)
    }

    /// Once no transfer of the group reads them, lets go of the files a prepared snapshot held open and deletes
    /// the snapshot files that a persistent machine's own files now hold (received, and installed).
    func releasePersistedSnapshots(_ slot: GroupSlot) {
        guard let machine = slot.machine.persistent, !slot.preparingSnapshot, slot.restoring == nil,
            !sending.keys.contains(where: { $0.group == slot.id })
        else { return }
        slot.preparedSnapshot = nil
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
