import Logging
import Meta
import MultiRaft
import RaftCore
import RaftStorage
import RaftTransport
import TSDB

/// The services of one node wired together: the multi-Raft host with its state machines (meta, vnodes, the
/// key-value groups), the group follower that creates and destroys this node's vnode groups as meta applies,
/// and the coordinator that routes requests. The server and the node-level simulation build nodes through it, so
/// that the simulation runs the same wiring as a real process.
public struct NodeAssembly: Sendable {
    public let host: MultiRaftHost
    public let meta: MetaStore
    public let follower: GroupFollower
    public let coordinator: Coordinator
    /// Replica sets this node became leader of, not yet reported to meta.
    let leaderHints = LeaderHints()

    /// Where the groups' ids lie.
    public struct Layout: Sendable {
        /// The meta group.
        public var metaGroup: GroupID
        /// Groups from here up are key-value groups; vnode groups lie between the two.
        public var keyValueGroupBase: UInt64

        public init(metaGroup: GroupID, keyValueGroupBase: UInt64) {
            self.metaGroup = metaGroup
            self.keyValueGroupBase = keyValueGroupBase
        }

        /// True for the group of a replica set (a vnode group).
        public func isVnodeGroup(_ group: GroupID) -> Bool {
            group.rawValue > metaGroup.rawValue && group.rawValue < keyValueGroupBase
        }
    }

    /// - Parameters:
    ///   - metaNodes: the meta group's voters (requests from other nodes go to them).
    ///   - nodeRegistered: told, on the loop thread, of every other node whose registration applies (so the
    ///     transport learns its address; the host then pings it).
    public init(
        settings: HostSettings, transport: any RaftTransport, peers: Set<NodeID>, layout: Layout,
        metaNodes: [UInt64], foundingNodeCount: Int, environment: any HostEnvironment, logger: Logger,
        engineOptions: VnodeEngine.Options = VnodeEngine.Options(),
        nodeRegistered: @escaping @Sendable (NodeInfo) -> Void
    ) {
        let metaStore = MetaStore()
        let vnodeRoot = settings.dataDirectory + "/vnodes"
        let fileSystem = environment.fileSystem
        let host = MultiRaftHost(
            settings: settings, transport: transport, peers: peers,
            stateMachine: { group in
                // Meta and vnodes apply each client request once, however often it was retried.
                if group == layout.metaGroup { return DeduplicatingMachine(metaStore) }
                if group.rawValue >= layout.keyValueGroupBase { return KeyValueMachine() }
                return DeduplicatingMachine(
                    VnodeMachine(
                        directory: vnodeRoot + "/\(group.rawValue)", fileSystem: fileSystem, options: engineOptions))
            }, logger: logger, environment: environment)
        let nodeID = settings.nodeID.rawValue
        let follower = GroupFollower(host: host, node: nodeID, metaGroup: layout.metaGroup)
        metaStore.onChange = { command, index, before, after in
            if case .registerNode(let info) = command, info.id != nodeID {
                nodeRegistered(info)
                host.addPeer(NodeID(info.id))
            }
            // On the loop thread, as the meta entry applies: create and destroy this node's vnodes' groups.
            follower.metaChanged(command, index: index, before: before, after: after)
        }
        host.onLeadership = { [leaderHints] group in
            if layout.isVnodeGroup(group) { leaderHints.record(replicaSet: group.rawValue, leader: nodeID) }
        }
        host.onReplayed = { group in
            if group == layout.metaGroup { follower.replayFinished(current: metaStore.current) }
        }
        host.readHandler = { machine, request in
            (machine.unwrapped as? VnodeMachine)?.prepareAnswer(request) ?? .done([])
        }
        self.host = host
        self.meta = metaStore
        self.follower = follower
        let coordinator = Coordinator(
            host: host, meta: metaStore, nodeID: nodeID, metaGroup: layout.metaGroup, metaNodes: metaNodes,
            foundingNodeCount: foundingNodeCount)
        self.coordinator = coordinator
        // A vnode whose files are damaged is replaced by a fresh replica that copies a healthy one.
        host.onDamaged = { [logger] group, _ in
            guard layout.isVnodeGroup(group) else { return }
            Task {
                let outcome = await coordinator.replaceDamagedReplica(group.rawValue, node: nodeID)
                logger.warning("\(outcome)")
            }
        }
    }

    /// Starts the host (recovery, founding groups on first start) and lets the groups follow the recovered meta
    /// state.
    @discardableResult
    public func start(founding: [GroupID: Membership], loop: HostLoop = .ownThread) throws -> WALRecovery {
        let recovery = try host.start(foundingMemberships: founding, loop: loop)
        let (meta, follower) = (self.meta, self.follower)
        host.runOnLoopThread { follower.recoveryFinished(current: meta.current) }
        return recovery
    }

    /// Writes this node's addresses into the meta group, retried (every 200 ms, up to two minutes) until it
    /// commits, so that every node can list them and place vnodes here.
    public func register(_ info: NodeInfo) async {
        for _ in 0..<600 {
            if let known = meta.current.nodes[info.id], known.raftAddress == info.raftAddress,
                known.httpAddress == info.httpAddress
            {
                return
            }
            do {
                _ = try await coordinator.execute(.registerNode(info))
                return
            } catch {
                await host.environment.sleep(milliseconds: 200)
            }
        }
    }
}
