import Coordinator
import FlotillaHTTP
import Foundation
import Hummingbird
import Logging
import Meta
import MultiRaft
import NIOCore
import Prometheus
import Query
import RaftCore
import RaftTransport
import ServiceLifecycle
import TSDB

/// One `flotilla server` process: its identity, transport, multi-Raft host and HTTP API, run under a
/// `ServiceGroup` that shuts down gracefully on SIGTERM/SIGINT (HTTP stops first, then the Raft host).
public struct FlotillaNode: Sendable {
    public let identity: NodeIdentity
    public let options: ServerOptions
    let transport: NIOTransport
    let registry: PrometheusCollectorRegistry
    public let logger: Logger
    /// Host, meta, group follower and coordinator, wired.
    let assembly: NodeAssembly
    var host: MultiRaftHost { assembly.host }
    public var meta: MetaStore { assembly.meta }
    public var coordinator: Coordinator { assembly.coordinator }
    /// Bounds the write requests in flight on this node (503 + Retry-After beyond it).
    public let writeAdmission: WriteAdmission
    /// Passwords already checked against their stored hashes (see `VerifiedCredentials`).
    let verifiedCredentials = VerifiedCredentials()

    /// Resolves the node's identity (from `node.json`, or from the options on first start), locks the data
    /// directory and builds the services. Nothing runs until `run()`.
    public init(options: ServerOptions, registry: PrometheusCollectorRegistry, logger: Logger) throws {
        let directory = options.dataDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try DataDirectoryLock.acquire(directory)
        var identity: NodeIdentity
        if let saved = try NodeIdentity.load(from: directory) {
            guard saved.nodeID == options.nodeID else {
                throw ServerError.badArgument(
                    "\(directory) belongs to node \(saved.nodeID), not to node \(options.nodeID)")
            }
            identity = saved
            if let http = options.httpAddress { identity.httpAddress = http }
            if let raft = options.raftAddress { identity.raftAddress = raft }
        } else if let joined = options.joined {
            identity = try NodeIdentity(joining: joined, options: options)
        } else {
            guard let clusterText = options.initialCluster else {
                throw ServerError.badArgument(
                    "\(directory) holds no node yet: give --initial-cluster (a new cluster) or --join HOST:PORT (the "
                        + "HTTP address of a running node)")
            }
            let initial = try NodeIdentity.parseInitialCluster(clusterText)
            guard let ownRaft = initial[options.nodeID] else {
                throw ServerError.badArgument("--initial-cluster does not name node \(options.nodeID)")
            }
            identity = NodeIdentity(
                nodeID: options.nodeID, clusterID: NodeIdentity.clusterID(of: initial),
                raftAddress: options.raftAddress ?? ownRaft, httpAddress: options.httpAddress ?? "127.0.0.1:8902",
                initialCluster: initial, kvGroups: options.kvGroups)
        }
        guard let raftAddress = PeerAddress(identity.raftAddress) else {
            throw ServerError.badArgument("--raft-addr '\(identity.raftAddress)' is not HOST:PORT")
        }
        guard PeerAddress(identity.httpAddress) != nil else {
            throw ServerError.badArgument("--http-addr '\(identity.httpAddress)' is not HOST:PORT")
        }
        var peers: [NodeID: PeerAddress] = [:]
        for (id, address) in identity.initialCluster where id != identity.nodeID {
            peers[NodeID(id)] = PeerAddress(address)
        }
        for other in options.joined?.nodes ?? [] where other.nodeID != identity.nodeID {
            peers[NodeID(other.nodeID)] = PeerAddress(other.raftAddress)
        }
        let settings = TransportSettings(
            clusterID: identity.clusterID, nodeID: NodeID(identity.nodeID), listen: raftAddress, peers: peers)
        transport = NIOTransport(settings: settings, logger: logger)
        var hostSettings = HostSettings(nodeID: NodeID(identity.nodeID), dataDirectory: directory)
        hostSettings.fsync = options.fsync
        hostSettings.repairWAL = options.repairWAL
        hostSettings.snapshotEveryEntries = options.snapshotEveryEntries
        var engineOptions = VnodeEngine.Options()
        engineOptions.memtableValues = options.memtableValues
        let assembly = NodeAssembly(
            settings: hostSettings, transport: transport, peers: Set(peers.keys),
            layout: NodeAssembly.Layout(metaGroup: NodeIdentity.metaGroup, keyValueGroupBase: NodeIdentity.kvGroupBase),
            metaNodes: identity.initialCluster.keys.sorted().prefix(3).map { $0 },
            foundingNodeCount: identity.initialCluster.count, environment: SystemHostEnvironment(), logger: logger,
            engineOptions: engineOptions,
            nodeRegistered: { [transport] info in
                // A node that joined: every transport learns its address as its registration applies.
                guard let address = PeerAddress(info.raftAddress) else { return }
                transport.setAddress(address, of: NodeID(info.id))
            })
        self.assembly = assembly
        self.writeAdmission = WriteAdmission(
            maxRequests: options.maxInflightWrites, maxBytes: options.maxInflightWriteBytes,
            wait: .milliseconds(options.writeAdmissionWaitMilliseconds))
        self.identity = identity
        self.options = options
        self.registry = registry
        self.logger = logger
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func run() async throws {
        let (httpHost, httpPort) = splitAddress(identity.httpAddress)
        let router = HTTPRoutes(node: self).router()  // the node provides what the routes need (`HTTPNode`)
        var configuration = ApplicationConfiguration(address: .hostname(httpHost, port: httpPort))
        configuration.serverName = "flotilla"
        let app = Application(router: router, configuration: configuration, logger: logger)
        let raft = RaftService(node: self)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: raft), .init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// Starts the host (recovery, founding groups on first start) and records the identity once it is durable.
    func startRaft() throws {
        let recovery = try assembly.start(founding: identity.foundingGroups)
        try identity.save(to: options.dataDirectory)
        if options.fsync == .off {
            logger.warning(
                "FSYNC IS OFF: acknowledged writes can be lost if this machine crashes; use it for benchmarks only")
        }
        logger.info(
            "node \(identity.nodeID) of cluster \(identity.clusterID) serving HTTP on \(identity.httpAddress), Raft on \(identity.raftAddress); \(recovery.groups.count) groups recovered"
        )
        learnPeerAddresses()
        Task { await registerInMeta() }
        Task { await runMaintenance() }
        Task { await watchStorage() }
        if identity.initialCluster[identity.nodeID] == nil {
            Task { await joinMetaGroup() }
        }
    }

    /// Points the transport at every node meta knows of (nodes that joined after the founders).
    func learnPeerAddresses() {
        for info in meta.current.nodes.values where info.id != identity.nodeID {
            if let address = PeerAddress(info.raftAddress) { transport.setAddress(address, of: NodeID(info.id)) }
            host.addPeer(NodeID(info.id))
        }
    }

    /// A node that joined hosts a replica of the meta group as a learner, as every node beyond the three meta
    /// voters does: it creates its (empty) replica and asks the meta leader to add it, until it has caught up.
    func joinMetaGroup() async {
        await host.ensureGroup(NodeIdentity.metaGroup, membership: .empty)
        while !Task.isCancelled {
            do {
                try await coordinator.joinMetaGroup(identity.nodeID)
                logger.info("node \(identity.nodeID) follows the meta group")
                return
            } catch {
                logger.warning("joining the meta group: \(error); retrying")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Writes this node's addresses into the meta group (retried until it commits), so every node can list them.
    func registerInMeta() async {
        await assembly.register(
            NodeInfo(id: identity.nodeID, raftAddress: identity.raftAddress, httpAddress: identity.httpAddress))
    }

    func splitAddress(_ text: String) -> (String, Int) {
        let address = PeerAddress(text)!
        return (address.host, address.port)
    }
}

/// The Raft host as a service: started when the group runs, shut down (WAL synced, waiters failed) on exit.
struct RaftService: Service {
    let node: FlotillaNode

    func run() async throws {
        try node.startRaft()
        try? await gracefulShutdown()
        node.logger.info("shutting down the Raft host")
        node.host.shutdown()
    }
}

/// An exclusive `flock` on `DATA/LOCK`, held for the life of the process: two servers on one data directory
/// would corrupt each other's WAL.
enum DataDirectoryLock {
    static func acquire(_ directory: String) throws {
        // Close-on-exec: a node that restarts itself (`StorageRecovery`) takes the lock again in the new image.
        let fd = open(directory + "/LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ServerError.io("cannot open \(directory)/LOCK: errno \(errno)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ServerError.dataDirectoryInUse(directory)
        }
        // The descriptor stays open until the process exits, which releases the lock.
    }
}
