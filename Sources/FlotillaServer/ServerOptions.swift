import FlotillaHTTP
import RaftStorage
import TSDB

/// Everything `flotilla server` was given on the command line (or in its config file).
public struct ServerOptions: Sendable {
    public var nodeID: UInt64
    public var dataDirectory: String
    public var httpAddress: String?
    public var raftAddress: String?
    public var initialCluster: String?
    /// For a first start with `--join`: what the running node answered (the CLI asks it before starting).
    public var joined: JoinAnswer?
    public var fsync: FsyncPolicy = .always
    public var repairWAL = false
    public var kvGroups = 0
    public var snapshotEveryEntries = 10_000
    /// Field values a vnode's memtable holds before it is flushed to a column file.
    public var memtableValues = 1_000_000
    /// Rows a replica set sends in one page of a SELECT that streams (docs/store.md, "Read path").
    public var queryPageRows = 32_768
    /// Enables `POST /api/v1/debug/isolate`, for end-to-end partition tests.
    public var faultInjection = false
    public var maxBodyBytes = 64 << 20
    /// Write requests a node works on at once (more wait, then get 503 + Retry-After; docs/performance.md).
    public var maxInflightWrites = 256
    /// Body bytes of the write requests a node works on at once.
    public var maxInflightWriteBytes = 4 << 20
    /// How long a write request waits for room before it is refused with 503.
    public var writeAdmissionWaitMilliseconds = 1_000
    /// HTTP Basic authentication on every endpoint but ping (off by default: then any password works for root).
    public var authentication = false
    /// root's password when authentication is on.
    public var rootPassword: String?

    public init(nodeID: UInt64, dataDirectory: String) {
        self.nodeID = nodeID
        self.dataDirectory = dataDirectory
    }
}
