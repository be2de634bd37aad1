import RaftCore
import RaftStorage
import RaftWire

extension MultiRaftHost {
    // MARK: - Local snapshots and compaction

    /// Once enough entries were applied since the last snapshot: writes the state machine to a snapshot file
    /// (fsynced, renamed into place), then compacts the log; the WAL's compaction record follows in the next
    /// batch. A crash in between leaves a newer snapshot file than the WAL says, which recovery handles.
    func maybeCompact(_ slot: GroupSlot) {
        let every = UInt64(settings.snapshotEveryEntries)
        guard every > 0, slot.machineApplied.rawValue >= slot.snapshotIndex.rawValue + every,
            slot.machineApplied <= slot.node.log.applied, slot.receiving == nil
        else { return }
        guard let metadata = slot.node.compactLog(through: slot.machineApplied) else { return }
        do {
            let writer = try snapshots.beginWrite(group: slot.id, metadata: metadata)
            try writer.write(slot.machine.snapshot())
            _ = try writer.finish()
            slot.snapshotIndex = metadata.index
            pendingRecords.append(.compact(slot.id, metadata))
            logger.debug("snapshot written", metadata: ["raft.group": "\(slot.id)", "index": "\(metadata.index)"])
        } catch {
            // The log was already compacted in memory: without the file this replica cannot serve or restore
            // its state, so it stops (as on a WAL failure) rather than run on.
            storageFailed("snapshot of group \(slot.id) failed: \(error)", groups: [slot])
        }
    }

    /// The member installed a snapshot received from its leader: the state machine takes its data.
    func install(_ snapshot: SnapshotMetadata, in slot: GroupSlot) {
        do {
            guard let (metadata, reader) = try snapshots.latest(group: slot.id, chunkSize: settings.snapshotChunkBytes),
                metadata.index == snapshot.index
            else {
                storageFailed("group \(slot.id) installed snapshot \(snapshot.index) whose file is missing", groups: [slot])
                return
            }
            var data: [UInt8] = []
            data.reserveCapacity(Int(reader.remaining))
            while let chunk = try reader.next() { data += chunk }
            try slot.machine.restore(data)
            slot.machineApplied = snapshot.index
            slot.snapshotIndex = snapshot.index
            logger.debug("installed snapshot", metadata: ["raft.group": "\(slot.id)", "index": "\(snapshot.index)"])
        } catch {
            storageFailed("group \(slot.id) could not load snapshot \(snapshot.index): \(error)", groups: [slot])
        }
    }

    // MARK: - Sending

    /// The core asked to send its snapshot to a member: stream the snapshot file in chunks, a few at a time.
    func startTransfer(_ message: Message, of slot: GroupSlot) {
        guard case .snapshot(let wanted) = message.body else { return }
        let key = TransferKey(group: slot.id, member: message.to)
        if let current = sending[key], current.message == message { return }
        do {
            guard let (metadata, reader) = try snapshots.latest(group: slot.id, chunkSize: settings.snapshotChunkBytes),
                metadata.index >= wanted.index
            else {
                slot.node.reportSnapshot(to: message.to, succeeded: false)
                return
            }
            // The file may be newer than the core's snapshot (a received one, or a crash before the compaction
            // record): send the file with its own metadata.
            var message = message
            message.body = .snapshot(metadata)
            sending[key] = SnapshotSend(
                message: message, reader: reader, total: reader.checksum.dataLength, crc: reader.checksum.crc,
                lastProgressTick: tickCount)
            logger.debug("sending snapshot \(wanted.index) of group \(slot.id) to node \(message.to)")
            pump(key)
        } catch {
            logger.error("cannot read the snapshot of group \(slot.id): \(error)")
            slot.node.reportSnapshot(to: message.to, succeeded: false)
        }
    }

    private func pump(_ key: TransferKey) {
        guard var transfer = sending[key] else { return }
        var failed = false
        defer { if !failed { sending[key] = transfer } }
        while transfer.inflight < settings.snapshotWindow && (transfer.sent < transfer.total || transfer.sent == 0) {
            let data: [UInt8]
            do {
                data = try transfer.reader.next() ?? []
            } catch {
                logger.error("reading the snapshot of group \(key.group) failed: \(error)")
                failed = true
                sending[key] = nil
                slots[key.group]?.node.reportSnapshot(to: key.member, succeeded: false)
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
        wake(slot, work: true)
        logger.debug("snapshot of group \(key.group) to node \(key.member): \(succeeded ? "done" : "failed")")
    }

    func expireSnapshotTransfers() {
        for (key, transfer) in sending where tickCount - transfer.lastProgressTick > 50 {
            finishTransfer(key, succeeded: false)
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

    /// Stores a chunk from the leader; once the last one is in and the checksum matched, steps the snapshot
    /// message into the member, which then installs it through its next Ready.
    func receive(_ chunk: SnapshotChunk, from peer: NodeID) {
        guard let slot = slots[chunk.group], case .snapshot(let metadata) = chunk.message.body else { return }
        func answer(_ accepted: Bool, _ offset: UInt64) {
            outbox[peer, default: []].append(
                .snapshotAck(
                    SnapshotAck(
                        group: chunk.group, from: settings.nodeID, index: metadata.index, offset: offset,
                        accepted: accepted)))
        }
        do {
            if chunk.offset == 0 {
                slot.receiving?.writer.abort()
                slot.receiving = nil
                guard metadata.index > slot.node.log.committed else { return answer(false, 0) }
                receivingGroups.insert(chunk.group)
                let writer = try snapshots.beginWrite(
                    group: chunk.group, metadata: metadata,
                    expecting: SnapshotChecksum(dataLength: chunk.totalBytes, crc: chunk.crc))
                slot.receiving = SnapshotReceive(writer: writer, index: metadata.index, offset: 0, lastChunkTick: tickCount)
            }
            guard var receiving = slot.receiving, receiving.index == metadata.index, receiving.offset == chunk.offset
            else { return answer(false, chunk.offset) }
            try receiving.writer.write(chunk.data)
            receiving.offset += UInt64(chunk.data.count)
            receiving.lastChunkTick = tickCount
            slot.receiving = receiving
            if receiving.offset >= chunk.totalBytes {
                // Install the file only if the member will take the snapshot (same rules as the core), so that
                // the store never holds a snapshot newer than the member's log.
                guard chunk.message.term >= slot.node.term, metadata.index > slot.node.log.committed,
                    slot.node.log.term(at: metadata.index) != metadata.term
                else {
                    receiving.writer.abort()
                    slot.receiving = nil
                    return answer(false, receiving.offset)
                }
                _ = try receiving.writer.finish()
                slot.receiving = nil
                slot.node.step(chunk.message)
                wake(slot, work: true)
            }
            answer(true, receiving.offset)
        } catch {
            logger.error("receiving snapshot \(metadata.index) of group \(chunk.group) failed: \(error)")
            slot.receiving?.writer.abort()
            slot.receiving = nil
            answer(false, chunk.offset)
        }
    }
}
