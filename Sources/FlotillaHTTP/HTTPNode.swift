import Coordinator
import LineProtocol
import Logging
import Meta
import MultiRaft
import Query
import RaftCore

/// What the HTTP routes need from the node they serve, and nothing more: the composition root (`FlotillaNode`)
/// provides it, and the route tests provide a small fake. Operations the routes run against the cluster are
/// methods, so that a fake can answer them; the query executors take the `coordinator` itself.
public protocol HTTPNode: Sendable {
    /// Who this node is: ids and the founders, for `/api/v1/cluster`, `/api/v1/cluster/join` and the
    /// key-value test groups.
    var facts: NodeFacts { get }
    /// The options the routes read.
    var settings: HTTPSettings { get }
    /// Write and read routing, for the SQL and InfluxQL executors and bucket management.
    var coordinator: Coordinator { get }
    /// The node's copy of the cluster metadata: users and grants, tenants, databases, nodes.
    var meta: MetaStore { get }
    /// Bounds the write requests in flight (503 + Retry-After beyond it).
    var writeAdmission: WriteAdmission { get }
    /// Passwords already checked against their stored hashes.
    var credentials: VerifiedCredentials { get }
    /// Where the routes log (a streamed answer that failed, a node that joined).
    var logger: Logger { get }

    /// Why the node's storage cannot be written, or `nil` while it works.
    func storageFailure() async -> String?
    /// Returns once the local meta replica holds everything committed before the call.
    func awaitCurrentMeta() async throws(CoordinatorError)
    /// Writes a line-protocol body, refusing a field whose type differs from its measurement's.
    func write(tenant: String, database: String, precision: Precision?, body: [UInt8]) async throws(CoordinatorError)
    /// Records a joining node's addresses in meta.
    func registerJoiningNode(_ info: NodeInfo) async throws(CoordinatorError)
    /// The groups this node hosts and the peers it hears from.
    func hostedGroups() async -> (groups: [GroupSummary], livePeers: Set<NodeID>)
    /// Proposes a command to a group this node hosts (the key-value test endpoint); throws `HostError`.
    func propose(_ command: [UInt8], to group: GroupID) async throws -> [UInt8]
    /// Reads a group's state machine, linearizably or from the local replica; throws `HostError`.
    func read<T: Sendable>(
        _ group: GroupID, linearizable: Bool, _ body: @escaping @Sendable (any StateMachine) -> T
    ) async throws -> T
    /// Drops the Raft traffic to and from `peers` (fault injection for partition tests).
    func isolate(from peers: Set<NodeID>)
    /// The metrics in Prometheus' text format.
    func emitMetrics(into bytes: inout [UInt8])
}

/// The facts of a node's identity the routes show.
public struct NodeFacts: Sendable {
    public var nodeID: UInt64
    public var clusterID: UInt64
    /// The founding nodes' Raft addresses, by node id.
    public var initialCluster: [UInt64: String]
    /// How many key-value test groups the founders created.
    public var kvGroups: Int
    /// The meta group's id.
    public var metaGroup: GroupID
    /// The id of the first key-value test group (the i-th is `keyValueGroupBase + i`).
    public var keyValueGroupBase: UInt64

    public init(
        nodeID: UInt64, clusterID: UInt64, initialCluster: [UInt64: String], kvGroups: Int, metaGroup: GroupID,
        keyValueGroupBase: UInt64
    ) {
        self.nodeID = nodeID
        self.clusterID = clusterID
        self.initialCluster = initialCluster
        self.kvGroups = kvGroups
        self.metaGroup = metaGroup
        self.keyValueGroupBase = keyValueGroupBase
    }
}

/// The server options the routes read (the rest of `ServerOptions` is the composition root's).
public struct HTTPSettings: Sendable {
    /// Credentials on every endpoint but ping and health (off: every request acts as root).
    public var authentication = false
    /// root's password when authentication is on.
    public var rootPassword: String?
    /// Enables `POST /api/v1/debug/isolate`.
    public var faultInjection = false
    /// The largest request body read (413 beyond it), also after gzip inflation.
    public var maxBodyBytes = 64 << 20
    /// Rows a replica set sends in one page of a SELECT that streams.
    public var queryPageRows = 32_768
    /// How long a write request waits for room before it is refused with 503 (named in that answer).
    public var writeAdmissionWaitMilliseconds = 1_000

    public init() {}
}
