import Dispatch
import RaftCore
import RaftStorage
import RaftWire

extension MultiRaftHost {
    // MARK: - Local snapshots and compaction

    /// Once enough entries were applied since the last snapshot (or any, when `force`d: the group holds back
    /// WAL garbage collection): writes the state machine to a snapshot file
    /// (fsynced, renamed into place), then compacts the log; the WAL's compaction record follows in the next
    /// batch, and the previous file is deleted only once that record is durable (`releaseSnapshots`). A crash in
    /// between leaves a newer snapshot file than the WAL says, whose last entry the log holds: recovery takes it. A
    /// machine with `snapshotsInBackground` is serialized and synced on `snapshotWrites` from a copy-on-write
    /// source while the group goes on; the log is compacted only when the file is durable.
    func maybeCompact(_ slot: GroupSlot, force: Bool = false) {
        let every = UInt64(settings.snapshotEveryEntries)
        guard every > 0, slot.machine.persistent == nil,
            slot.machineApplied.rawValue >= slot.snapshotIndex.rawValue + (force ? 1 : every),
            slot.machineApplied <= slot.node.log.applied, slot.receiving == nil, !slot.compacting,
            slot.restoring == nil, let metadata = slot.node.snapshotMetadata(through: slot.machineApplied)
        else { return }
        let writer: SnapshotWriter
        do {
            writer = try snapshots.beginWrite(group: slot.id, metadata: metadata)
        } catch {
            // Nothing is compacted yet, so this is not fatal: a received snapshot of the same index may be sealing
            // under that name (`.busy`), or a newer one is in (`.stale`). The next round tries again if still due.
            return logger.warning("snapshot of group \(slot.id) postponed: \(error)")
        }
        let source = slot.machine.snapshotSource()
        let file = Handoff(writer)
        slot.compacting = true
        snapshotWork(on: slot.machine.snapshotsInBackground ? .snapshotWrites : nil) {
            try source.write { try file.value.write($0) }
            try file.value.seal()
        } then: { [self] error in
            compactionWritten(slot, metadata, writer, error)
        }
    }

    /// The snapshot file of a local compaction is sealed (or failed): make it the group's and compact the log.
    private func compactionWritten(
        _ slot: GroupSlot, _ metadata: SnapshotMetadata, _ writer: SnapshotWriter, _ error: (any Error)?
    ) {
        slot.compacting = false
        guard slots[slot.id] === slot, storageFailure == nil else { return writer.abort() }
        if let error {
            writer.abort()
            return storageFailed("snapshot of group \(slot.id) failed: \(error)", cause: error, groups: [slot])
        }
        // A snapshot received meanwhile may have overtaken this one.
        if let latest = snapshots.latestMetadata(group: slot.id), latest.index >= metadata.index {
            return writer.abort()
        }
        guard slot.node.snapshotMetadata(through: metadata.index) == metadata else { return writer.abort() }
        do {
            try writer.commit()
        } catch {
            return storageFailed("snapshot of group \(slot.id) failed: \(error)", cause: error, groups: [slot])
        }
        snapshotFileObserver?(.installed, slot.id, metadata.index)
        _ = slot.node.compactLog(through: metadata.index)
        slot.snapshotIndex = metadata.index
        pendingRecords.append(.compact(slot.id, metadata))
        logger.debug("snapshot written", metadata: ["raft.group": "\(slot.id)", "index": "\(metadata.index)"])
    }

    /// The member installed a snapshot received from its leader: the state machine takes its data (a persistent
    /// one into files of its own, after which the snapshot file goes). A machine
    /// with `snapshotsInBackground` is restored into a fresh one on `snapshotRestores`; until it is in, the
    /// group applies nothing (the entries wait in the log) and linearizable reads wait.
    func install(_ snapshot: SnapshotMetadata, in slot: GroupSlot) {
        let reader: SnapshotReader
        do {
            guard let (metadata, found) = try snapshots.latest(group: slot.id, chunkSize: settings.snapshotChunkBytes),
                metadata.index == snapshot.index
            else {
                return storageFailed(
                    "group \(slot.id) installed snapshot \(snapshot.index) whose file is missing", groups: [slot])
            }
            reader = found
        } catch {
            return storageFailed(
                "group \(slot.id) could not load snapshot \(snapshot.index): \(error)", cause: error, groups: [slot])
        }
        let background = slot.machine.snapshotsInBackground
        let machine = Handoff(background ? factory(slot.id) : slot.machine)
        let data = Handoff(reader)
        slot.restoreGeneration += 1
        let generation = slot.restoreGeneration
        slot.restoring = snapshot.index
        snapshotWork(on: background ? .snapshotRestores : nil) {
            try machine.value.restore(chunks: { try data.value.next() })
        } then: { [self] error in
            restored(snapshot, into: machine.value, of: slot, generation: generation, error)
        }
    }

    private func restored(
        _ snapshot: SnapshotMetadata, into machine: any StateMachine, of slot: GroupSlot, generation: UInt64,
        _ error: (any Error)?
    ) {
        guard slots[slot.id] === slot, slot.restoreGeneration == generation, storageFailure == nil else { return }
        slot.restoring = nil
        if let error {
            return storageFailed(
                "group \(slot.id) could not load snapshot \(snapshot.index): \(error)", cause: error, groups: [slot])
        }
        slot.machine = machine
        slot.machineApplied = snapshot.index
        slot.snapshotIndex = snapshot.index
        logger.debug("installed snapshot", metadata: ["raft.group": "\(slot.id)", "index": "\(snapshot.index)"])
        // What the member committed while the machine was being restored.
        var next = snapshot.index + 1
        while next <= slot.node.log.applied, let entry = slot.node.log.entry(at: next) {
            apply(entry, in: slot)
            next += 1
        }
        if let until = slot.replayUntil, slot.machineApplied >= until { replayFinished(slot) }
        serveReads(slot)
        maybeCompact(slot)
        releasePersistedSnapshots(slot)
        maybePersist(slot)
    }

    /// Runs `work` on `lane` and then `done` with its error on the loop thread; both at once, here, when `lane`
    /// is nil (small machines).
    func snapshotWork(
        on lane: BackgroundLane?, _ work: @escaping @Sendable () throws -> Void,
        then done: @escaping ((any Error)?) -> Void
    ) {
        guard let lane else {
            var failure: (any Error)?
            do { try work() } catch { failure = error }
            return done(failure)
        }
        let done = Handoff(done)
        environment.background(lane) { [self] in
            var failure: (any Error)?
            do { try work() } catch { failure = error }
            enqueue(.run { [failure] in done.value(failure) })
        }
    }

    // MARK: - Sending

    /// The core asked to send its snapshot to a member: stream a snapshot file, or a persistent machine's files,
    /// in chunks, a few at a time.
    func startTransfer(_ message: Message, of slot: GroupSlot) {
        guard case .snapshot(let wanted) = message.body else { return }
        let key = TransferKey(group: slot.id, member: message.to)
        if let current = sending[key], current.message == message { return }
        do {
            // The file may be newer than the core's snapshot (a received one, or a crash before the compaction
            // record): send the file with its own metadata.
            if let (metadata, reader) = try snapshots.latest(group: slot.id, chunkSize: settings.snapshotChunkBytes),
                metadata.index >= wanted.index
            {
                return send(message, as: metadata, .file(reader), reader.checksum, key)
            }
            guard let machine = slot.machine.persistent else {
                return slot.node.reportSnapshot(to: message.to, succeeded: false)
            }
            guard let prepared = slot.preparedSnapshot, prepared.metadata.index >= wanted.index else {
                return prepareSnapshot(message, of: slot, machine)
            }
            send(message, as: prepared.metadata, .stream(prepared.source.reader()), prepared.checksum, key)
        } catch {
            logger.error("cannot read the snapshot of group \(slot.id): \(error)")
            slot.node.reportSnapshot(to: message.to, succeeded: false)
        }
    }

    private func send(
        _ message: Message, as metadata: SnapshotMetadata, _ chunks: SnapshotChunks, _ checksum: SnapshotChecksum,
        _ key: TransferKey
    ) {
        var message = message
        message.body = .snapshot(metadata)
        sending[key] = SnapshotSend(
            message: message, chunks: chunks, total: checksum.dataLength, crc: checksum.crc,
            lastProgressTick: tickCount)
        logger.debug("sending snapshot \(metadata.index) of group \(key.group) to node \(key.member)")
        pump(key)
    }

    private func pump(_ key: TransferKey) {
        guard var transfer = sending[key] else { return }
        var failed = false
        defer { if !failed { sending[key] = transfer } }
        while transfer.inflight < settings.snapshotWindow && (transfer.sent < transfer.total || transfer.sent == 0) {
            let data: [UInt8]
            do {
                data = try transfer.chunks.next(size: settings.snapshotChunkBytes)
            } catch {
                logger.error("reading the snapshot of group \(key.group) failed: \(error)")
                failed = true
                sending[key] = nil
                guard let slot = slots[key.group] else { return }
                // Not offered again: the next member that needs a snapshot has it prepared anew.
                slot.preparedSnapshot = nil
                slot.node.reportSnapshot(to: key.member, succeeded: false)
                releasePersistedSnapshots(slot)
                return
            }
            let chunk = SnapshotChunk(
                group: key.group, message: transfer.message, totalBytes: transfer.total, crc: transfer.crc,
                offset: transfer.sent, data: data)
            outbox[key.member, default: []].append(.snapshotChunk(chunk))
            transfer.sent += UInt64(data.count)
            transfer.inflight += 1
            if data.isEmpty { break }
        }
    }

    func acknowledge(_ ack: SnapshotAck) {
        let key = TransferKey(group: ack.group, member: ack.from)
        guard var transfer = sending[key], case .snapshot(let metadata) = transfer.message.body,
            metadata.index == ack.index
        else { return }
        guard ack.accepted else { return finishTransfer(key, succeeded: false) }
        if ack.offset >= transfer.total { return finishTransfer(key, succeeded: true) }
        transfer.inflight -= 1
        transfer.lastProgressTick = tickCount
        sending[key] = transfer
        pump(key)
    }

    func finishTransfer(_ key: TransferKey, succeeded: Bool) {
        guard sending.removeValue(forKey: key) != nil, let slot = slots[key.group] else { return }
        slot.node.reportSnapshot(to: key.member, succeeded: succeeded)
        releasePersistedSnapshots(slot)
        wake(slot, work: true)
        logger.debug("snapshot of group \(key.group) to node \(key.member): \(succeeded ? "done" : "failed")")
    }

    func expireSnapshotTransfers() {
        // A chunk lost on the way (a partition, a restarted receiver) stalls the transfer: given up after 3 s
        // without an acknowledgement, so that the leader probes and sends again. Once every chunk is out, one more
        // tick per MiB: the receiver syncs the snapshot before it acknowledges the last chunk.
        for (key, transfer) in sending {
            let allowed: UInt64 = 30 + (transfer.sent >= transfer.total ? transfer.total >> 20 : 0)
            if tickCount - transfer.lastProgressTick > allowed { finishTransfer(key, succeeded: false) }
        }
        // An incoming transfer that stalled (its leader died) or that the log overtook is dropped.
        for group in receivingGroups {
            guard let slot = slots[group], let receiving = slot.receiving else {
                receivingGroups.remove(group)
                continue
            }
            if tickCount - receiving.lastChunkTick > 50 || slot.node.log.committed >= receiving.index {
                receiving.writer.abort()
                slot.receiving = nil
                receivingGroups.remove(group)
            }
        }
    }

    // MARK: - Receiving

    /// Stores a chunk from the leader; once the last one is in, seals (syncs) the file, off the loop thread for
    /// a large machine, and then, if the checksum matched, steps the snapshot message into the member, which
    /// installs it through its next Ready. The last chunk is acknowledged only then.
    func receive(_ chunk: SnapshotChunk, from peer: NodeID) {
        guard let slot = slots[chunk.group], case .snapshot(let metadata) = chunk.message.body else { return }
        let answer = { [self] (accepted: Bool, offset: UInt64) in
            answerChunk(chunk.group, metadata.index, offset: offset, accepted: accepted, to: peer)
        }
        do {
            if chunk.offset == 0 {
                slot.receiving?.writer.abort()
                slot.receiving = nil
                guard Self.needs(metadata, slot) else {
                    // Already in (its last acknowledgement was lost, say to a crash after the WAL record), or the log
                    // holds the snapshot's last entry.
                    letCoreAnswer(chunk, slot)
                    return answer(false, 0)
                }
                receivingGroups.insert(chunk.group)
                let writer = try snapshots.beginWrite(
                    group: chunk.group, metadata: metadata,
                    expecting: SnapshotChecksum(dataLength: chunk.totalBytes, crc: chunk.crc))
                slot.receiving = SnapshotReceive(
                    writer: writer, index: metadata.index, offset: 0, lastChunkTick: tickCount)
            }
            guard var receiving = slot.receiving, receiving.index == metadata.index, receiving.offset == chunk.offset
            else { return answer(false, chunk.offset) }
            try receiving.writer.write(chunk.data)
            receiving.offset += UInt64(chunk.data.count)
            receiving.lastChunkTick = tickCount
            slot.receiving = receiving
            guard receiving.offset >= chunk.totalBytes else { return answer(true, receiving.offset) }
            slot.receiving = nil
            let writer = receiving.writer
            let file = Handoff(writer)
            snapshotWork(on: slot.machine.snapshotsInBackground ? .snapshotSeals : nil) {
                try file.value.seal()
            } then: { [self] error in
                receivedSealed(chunk, writer, into: slot, from: peer, error)
            }
        } catch {
            logger.error("receiving snapshot \(metadata.index) of group \(chunk.group) failed: \(error)")
            slot.receiving?.writer.abort()
            slot.receiving = nil
            answer(false, chunk.offset)
        }
    }

    /// The last chunk's file is sealed: install it if the member will take the snapshot (same rules as the
    /// core), so that the store never holds a snapshot newer than the member's log, and answer the leader. The
    /// group's previous file stays until the `snapshot` record of the next Ready is durable: a crash before it
    /// recovers from that file (the new one is beyond the log and dropped), and the leader sends it again.
    private func receivedSealed(
        _ chunk: SnapshotChunk, _ writer: SnapshotWriter, into slot: GroupSlot, from peer: NodeID, _ error: (any Error)?
    ) {
        guard case .snapshot(let metadata) = chunk.message.body else { return }
        guard slots[slot.id] === slot, storageFailure == nil else { return writer.abort() }
        let total = chunk.totalBytes
        guard error == nil, chunk.message.term >= slot.node.term, Self.needs(metadata, slot) else {
            if let error { logger.error("receiving snapshot \(metadata.index) of group \(slot.id) failed: \(error)") }
            writer.abort()
            // The log caught up while the file was sealing.
            if error == nil && chunk.message.term >= slot.node.term { letCoreAnswer(chunk, slot) }
            return answerChunk(slot.id, metadata.index, offset: total, accepted: false, to: peer)
        }
        do {
            try writer.commit()
        } catch {
            logger.error("receiving snapshot \(metadata.index) of group \(slot.id) failed: \(error)")
            return answerChunk(slot.id, metadata.index, offset: total, accepted: false, to: peer)
        }
        snapshotFileObserver?(.installed, slot.id, metadata.index)
        slot.node.step(chunk.message)
        wake(slot, work: true)
        answerChunk(slot.id, metadata.index, offset: total, accepted: true, to: peer)
    }

    /// True if the member would install `metadata` (same rules as the core): its commit is below the snapshot and
    /// its log does not hold the snapshot's last entry.
    static func needs(_ metadata: SnapshotMetadata, _ slot: GroupSlot) -> Bool {
        metadata.index > slot.node.log.committed && slot.node.log.term(at: metadata.index) != metadata.term
    }

    /// Steps a snapshot the member does not need into its core, which answers with its commit index (fast-forwarded
    /// to the snapshot's if the log holds its last entry): the leader then appends instead of sending the same
    /// snapshot forever.
    private func letCoreAnswer(_ chunk: SnapshotChunk, _ slot: GroupSlot) {
        slot.node.step(chunk.message)
        wake(slot, work: true)
    }

    private func answerChunk(_ group: GroupID, _ index: LogIndex, offset: UInt64, accepted: Bool, to peer: NodeID) {
        outbox[peer, default: []].append(
            .snapshotAck(
                SnapshotAck(group: group, from: settings.nodeID, index: index, offset: offset, accepted: accepted)))
    }
}
