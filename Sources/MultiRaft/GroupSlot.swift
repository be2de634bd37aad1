import RaftCore
import RaftStorage

/// One group hosted on this node: its Raft member, its state machine and the host's bookkeeping.
/// A class so that the member (a large value) is mutated in place; owned by the host's loop thread.
final class GroupSlot {
    let id: GroupID
    var node: RaftNode
    /// Replaced whole when a snapshot restored in the background is complete.
    var machine: any StateMachine
    /// The last entry applied to `machine` (entries at or below it are skipped, e.g. after a restart from a
    /// snapshot file newer than the WAL's compaction record).
    var machineApplied: LogIndex
    /// The index of the last snapshot written or installed here.
    var snapshotIndex: LogIndex
    /// Ticks since the group last had work; it goes quiet past `HostSettings.quiesceAfterTicks`.
    var idleTicks = 0
    var quiet = false
    /// When the group went quiet (host clock, nanoseconds): the ticks since then count against its lease on wake.
    var quietSince: UInt64 = 0
    /// Proposals from this node that wait for the group to apply them.
    var pendingProposals: Set<UInt64> = []
    /// Linearizable reads that wait for their read index to be applied, by context.
    var waitingReads: [UInt64] = []
    /// A snapshot arriving from the leader.
    var receiving: SnapshotReceive?
    /// A snapshot of this replica is being written in the background (the log is compacted once it is durable).
    var compacting = false
    /// A persistent machine's snapshot being checksummed before it is sent, and the snapshot messages that wait
    /// for it, by member; then that snapshot, ready, for as long as a transfer reads it.
    var preparingSnapshot = false
    var waitingTransfers: [NodeID: Message] = [:]
    var preparedSnapshot: PreparedSnapshot?
    /// The host tick before which a persistent machine's log is not compacted again (while a leader keeps
    /// entries a follower still needs, the check is not made every round).
    var logCompactionAfterTick: UInt64 = 0
    /// The index of a snapshot being restored into a fresh machine in the background: meanwhile committed
    /// entries are not applied (they are, from the log, once it is in) and linearizable reads wait.
    var restoring: LogIndex?
    /// Counts restores, so that one overtaken by a newer snapshot is dropped when it completes.
    var restoreGeneration: UInt64 = 0
    /// The commit index recovered from the WAL while the group has not applied that far yet (its replay runs).
    var replayUntil: LogIndex?
    /// This replica's incarnation (its vnode id; 0 = none): sent with every message.
    var incarnation: UInt64 = 0
    /// The incarnation of each other member's replica, as meta places them: messages from another one are from
    /// a replica that no longer exists and are dropped.
    var memberIncarnations: [NodeID: UInt64] = [:]
    /// The answers of the committed entries of this round that were applied apart from the loop thread
    /// (`MultiRaftHost.applyConcurrently`), for the loop thread to hand to their proposers.
    var appliedApart: [AppliedCommand]?

    init(id: GroupID, node: RaftNode, machine: any StateMachine, machineApplied: LogIndex) {
        self.id = id
        self.node = node
        self.machine = machine
        self.machineApplied = machineApplied
        self.snapshotIndex = machineApplied
    }
}

extension GroupSlot {
    /// Applies a committed entry to the machine, once (entries at or below `machineApplied` are skipped, and none
    /// while a snapshot is being restored). Touches only this slot and its machine, so it may run on any thread
    /// while the loop thread waits.
    /// - Returns: the proposal id and result of an applied data entry; `nil` for anything else.
    func applyToMachine(_ entry: Entry) -> AppliedCommand? {
        guard entry.index > machineApplied, restoring == nil else { return nil }
        machineApplied = entry.index
        guard case .data(let bytes) = entry.payload, bytes.count >= 8 else { return nil }
        var id: UInt64 = 0
        for i in 0..<8 { id |= UInt64(bytes[i]) << UInt64(8 * i) }
        return AppliedCommand(proposal: id, result: machine.apply(bytes[8...], at: entry.index))
    }
}

/// A command applied to a group's machine: the id its proposer gave it and what the machine answered.
struct AppliedCommand {
    var proposal: UInt64
    var result: [UInt8]
}

/// The receiving side of a snapshot transfer.
struct SnapshotReceive {
    var writer: SnapshotWriter
    var index: LogIndex
    var offset: UInt64
    var lastChunkTick: UInt64
}

/// Hands a value that is not `Sendable` (a snapshot writer, a state machine) to a background thread and back:
/// the loop thread does not touch it from the moment it hands it over until the result comes back.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A persistent machine's files at one index, ready to be streamed: what the receiver checks them against.
struct PreparedSnapshot {
    let metadata: SnapshotMetadata
    let source: any StreamingSnapshotSource
    let checksum: SnapshotChecksum
}

/// Where a transfer's chunks come from: a snapshot file, or a persistent machine's files read as they go out.
enum SnapshotChunks {
    case file(SnapshotReader)
    case stream(any SnapshotStreamReader)

    /// The next chunk of at most `size` bytes; empty after the last.
    func next(size: Int) throws -> [UInt8] {
        switch self {
        case .file(let reader): try reader.next() ?? []
        case .stream(let reader): try reader.next(limit: size)
        }
    }
}

/// The sending side of a snapshot transfer to one member.
struct SnapshotSend {
    var message: Message
    var chunks: SnapshotChunks
    var total: UInt64
    var crc: UInt32
    var sent: UInt64 = 0
    var inflight = 0
    var lastProgressTick: UInt64
}

/// Identifies a snapshot transfer: the group and the receiving member.
struct TransferKey: Hashable {
    var group: GroupID
    var member: NodeID
}
