import Foundation
import RaftCore
import RaftStorage
import RaftWire
import Synchronization

extension MultiRaftHost {
    /// Opens the WAL and the snapshot store and rebuilds every group: its member from the WAL, its state machine
    /// from the newest snapshot file its log can continue from (entries after it are re-applied as the member
    /// reports them committed). The other files of the group are deleted only once that one is chosen and verified.
    func recover() throws -> WALRecovery {
        var options = WALOptions(fsync: settings.fsync, repair: settings.repairWAL)
        options.segmentSizeLimit = 64 << 20
        let directory = settings.dataDirectory
        let fileSystem = environment.fileSystem
        let (wal, recovery) = try WriteAheadLog.open(
            directory: directory + "/wal", options: options, fileSystem: fileSystem)
        self.wal = wal
        snapshots = try SnapshotStore.open(
            directory: directory + "/snapshots", fsync: settings.fsync, fileSystem: fileSystem)
        if let tail = recovery.truncatedTail {
            logger.warning(
                "WAL tail was torn: dropped \(tail.droppedBytes) bytes at \(tail.file):\(tail.offset) (\(tail.cause))")
        }
        if let repaired = recovery.repaired { logger.warning("WAL repaired: \(repaired)") }
        // Highest ids first: the meta group (id 1) comes last, so that the groups its state names already exist
        // when its snapshot is restored.
        let ordered = recovery.groups.sorted(by: { $0.key > $1.key })
        let machines = ordered.map { factory($0.key) }
        let opened = openDurably(machines)
        for ((group, state), (machine, durable)) in zip(ordered, zip(machines, opened)) {
            if let persistent = machine.persistent, let durable {
                try recoverPersistent(group, persistent, state, durable: try durable.get())
                continue
            }
            let node = try RaftNode(config: settings.raftConfig(seed: seed(for: group)), restoring: state)
            var applied = LogIndex.zero
            let lastIndex = state.entries.last?.index ?? state.snapshot.index
            // After a crash a group may have several files: one newer than its log (a received snapshot whose WAL
            // record never became durable, or a file of an earlier replica of this group destroyed and created
            // anew), the one the WAL's snapshot mark names, and one between (a local snapshot whose compact record
            // never became durable, but whose last entry the log holds).
            let choice = try snapshots.choose(group: group) { Self.log(of: state, continuesFrom: $0, term: $1) }
            for name in choice.unusable {
                logger.warning(
                    """
                    group \(group): deleted snapshot file \(name), which its log (snapshot \(state.snapshot.index), \
                    last entry \(lastIndex)) does not continue from
                    """)
            }
            if let (metadata, reader) = try snapshots.latest(group: group, chunkSize: settings.snapshotChunkBytes) {
                try machine.restore(chunks: { try reader.next() })
                applied = metadata.index
            }
            guard applied >= state.snapshot.index else {
                throw HostError.storageFailed(
                    StorageFailure(
                        "group \(group): the WAL was compacted through \(state.snapshot.index) but the snapshot file "
                            + "(through \(applied)) is missing from \(directory)/snapshots"))
            }
            recoveredCommits[group] = state.hardState.commit
            let slot = GroupSlot(id: group, node: node, machine: machine, machineApplied: applied)
            if state.hardState.commit > applied { slot.replayUntil = state.hardState.commit }
            slots[group] = slot
            awake.insert(group)
            dirty.insert(group)
        }
        logger.info(
            "recovered \(recovery.groups.count) groups from \(recovery.recordCount) WAL records in \(recovery.segmentFiles.count) segments"
        )
        return recovery
    }

    /// Opens the files of every machine that keeps its own (`openDurable`), several at once where the
    /// environment allows (each reads only its own directory): what the durable index of each is, or why its
    /// files could not be opened; `nil` for the other machines.
    private func openDurably(_ machines: [any StateMachine]) -> [Result<LogIndex, any Error>?] {
        let persistent = Handoff(machines.map(\.persistent))
        let results = Mutex([Result<LogIndex, any Error>?](repeating: nil, count: machines.count))
        environment.concurrently(machines.count) { index in
            guard let machine = persistent.value[index] else { return }
            let result = Result { try machine.openDurable() }
            results.withLock { $0[index] = result }
        }
        return results.withLock { $0 }
    }

    /// Recovers a group whose machine keeps its own files: they are opened, and the log is replayed after the
    /// index they cover. Only if that is below the WAL's compaction mark (a snapshot received, its record durable,
    /// the crash before the machine took it in) is the snapshot file restored into it. Other snapshot files of
    /// the group (written to be sent, or received and taken in) are not needed and go.
    private func recoverPersistent(
        _ group: GroupID, _ machine: any PersistentStateMachine, _ state: PersistentState, durable: LogIndex
    ) throws {
        let node = try RaftNode(config: settings.raftConfig(seed: seed(for: group)), restoring: state)
        var applied = durable
        if applied < state.snapshot.index {
            _ = try snapshots.choose(group: group) { Self.log(of: state, continuesFrom: $0, term: $1) }
            guard let (metadata, reader) = try snapshots.latest(group: group, chunkSize: settings.snapshotChunkBytes),
                metadata.index >= state.snapshot.index
            else {
                throw HostError.storageFailed(
                    StorageFailure(
                        "group \(group): the WAL was compacted through \(state.snapshot.index) but the vnode's files "
                            + "cover only \(applied), and no snapshot file takes over"))
            }
            try machine.restore(chunks: { try reader.next() })
            applied = metadata.index
            logger.info("group \(group): took in snapshot \(applied) received before the restart")
        }
        try snapshots.removeAll(group: group)
        recoveredCommits[group] = state.hardState.commit
        let slot = GroupSlot(id: group, node: node, machine: machine, machineApplied: applied)
        slot.snapshotIndex = state.snapshot.index
        if state.hardState.commit > applied { slot.replayUntil = state.hardState.commit }
        slots[group] = slot
        awake.insert(group)
        dirty.insert(group)
    }

    /// Whether `state`'s log can continue from a snapshot through `index` at `term`: the WAL's snapshot mark names
    /// it, or the log holds that very entry (then the snapshot is the state after it, by the Log Matching property).
    static func log(of state: PersistentState, continuesFrom index: LogIndex, term: Term) -> Bool {
        if index == state.snapshot.index { return term == state.snapshot.term }
        guard index > state.snapshot.index else { return false }
        return state.entries.last { $0.index == index }?.term == term
    }

    /// Creates a group with its founding membership (entry 1, committed by construction).
    func createGroup(_ group: GroupID, membership: Membership) throws {
        let node = try RaftNode(config: settings.raftConfig(seed: seed(for: group)), membership: membership)
        let machine = factory(group)
        try machine.persistent?.createDurable()
        let slot = GroupSlot(id: group, node: node, machine: machine, machineApplied: .zero)
        slots[group] = slot
        awake.insert(group)
        dirty.insert(group)
    }

    /// Election-timeout randomness differs per node and group; supplied from outside the core.
    func seed(for group: GroupID) -> UInt64 {
        var generator = SplitMix64(seed: settings.nodeID.rawValue &* 0x9E37_79B9_7F4A_7C15 ^ group.rawValue)
        return generator.next() ^ environment.random()
    }
}

extension MultiRaftHost {
    /// After a storage failure, once the disk works again: cuts from the WAL what the failed append may have left
    /// in the page cache without its being durable (`WriteAheadLog.discardUnsyncedTail`), so that the restart
    /// which follows recovers only what was durable.
    /// - Returns: nil when that is done (or nothing failed); otherwise why not (the disk still fails, or the host
    ///   has stopped), and the restart must wait.
    public func discardUnsyncedLogTail() async -> String? {
        await withCheckedContinuation { continuation in
            enqueue(
                .run(
                    {
                        do {
                            try self.wal.discardUnsyncedTail()
                            continuation.resume(returning: nil)
                        } catch {
                            continuation.resume(returning: "cannot cut the WAL's unsynced tail: \(error)")
                        }
                    }, dropped: { continuation.resume(returning: "the host has stopped") }))
        }
    }
}
