import RaftCore
import RaftStorage

/// How a multi-Raft host runs its groups. Defaults follow the product contract: 100 ms ticks, heartbeat every
/// tick, election timeout in [500, 1000) ms, pre-vote and check-quorum on.
public struct HostSettings: Sendable {
    public var nodeID: NodeID
    /// Where the WAL and snapshots live.
    public var dataDirectory: String
    public var tickMilliseconds: Int = 100
    public var electionTicks: Int = 5
    public var heartbeatTicks: Int = 1
    public var fsync: FsyncPolicy = .always
    public var repairWAL = false
    /// A group compacts its log into a snapshot once this many entries were applied since the last one.
    public var snapshotEveryEntries: Int = 10_000
    /// A quiet group whose state machine keeps its own files flushes what it holds in memory every this many
    /// ticks (30 s), so that idle data lives in files and its log is compacted (0 disables it).
    public var coldFlushTicks: Int = 300
    /// Snapshot chunk size and how many chunks may be unacknowledged.
    public var snapshotChunkBytes: Int = 1 << 20
    public var snapshotWindow: Int = 4
    /// Idle groups stop ticking after this many ticks without work (0 disables quiescence).
    public var quiesceAfterTicks: Int = 3
    /// Linearizable reads on a leader answer at once while its lease holds (a quorum acknowledged a heartbeat
    /// sent less than `electionTicks - leaseDriftTicks` ticks ago), instead of after a heartbeat round. The
    /// host counts ticks by the monotonic clock, so a stalled loop or a quiet group does not stretch a lease.
    public var leaseReads = true
    /// Ticks by which clocks may disagree over an election timeout (must be below `electionTicks`).
    public var leaseDriftTicks: Int = 1
    /// Default wait for a proposal or a read.
    public var requestTimeoutMilliseconds: Int = 5_000

    public init(nodeID: NodeID, dataDirectory: String) {
        self.nodeID = nodeID
        self.dataDirectory = dataDirectory
    }

    /// The Raft settings of one member on this node.
    func raftConfig(seed: UInt64) -> RaftConfig {
        var config = RaftConfig(id: nodeID)
        config.electionTicks = electionTicks
        config.heartbeatTicks = heartbeatTicks
        config.preVote = true
        config.checkQuorum = true
        config.forwardProposalsToLeader = true
        config.seed = seed
        if leaseReads { config.readMode = .lease(clockDriftTicks: leaseDriftTicks) }
        return config
    }
}
