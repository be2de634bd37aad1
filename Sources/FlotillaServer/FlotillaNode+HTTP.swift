import Coordinator
import FlotillaHTTP
import LineProtocol
import Meta
import MultiRaft
import Query
import RaftCore

/// What the HTTP routes need from this node: its identity and options, the coordinator, meta and host views,
/// the transport's fault-injection hook and the metrics registry.
extension FlotillaNode: HTTPNode {
    public var facts: NodeFacts {
        NodeFacts(
            nodeID: identity.nodeID, clusterID: identity.clusterID, initialCluster: identity.initialCluster,
            kvGroups: identity.kvGroups, metaGroup: NodeIdentity.metaGroup, keyValueGroupBase: NodeIdentity.kvGroupBase)
    }

    public var settings: HTTPSettings {
        var settings = HTTPSettings()
        settings.authentication = options.authentication
        settings.rootPassword = options.rootPassword
        settings.faultInjection = options.faultInjection
        settings.maxBodyBytes = options.maxBodyBytes
        settings.queryPageRows = options.queryPageRows
        settings.writeAdmissionWaitMilliseconds = options.writeAdmissionWaitMilliseconds
        return settings
    }

    public var credentials: VerifiedCredentials { verifiedCredentials }

    public func storageFailure() async -> String? { await host.inspect { $0.storageError } }

    public func awaitCurrentMeta() async throws(CoordinatorError) { try await coordinator.awaitCurrentMeta() }

    public func write(
        tenant: String, database: String, precision: Precision?, body: [UInt8]
    ) async throws(CoordinatorError) {
        _ = try await coordinator.write(
            tenant: tenant, database: database, precision: precision, body: body, checkTypes: true)
    }

    public func registerJoiningNode(_ info: NodeInfo) async throws(CoordinatorError) {
        try await coordinator.registerJoiningNode(info)
    }

    public func hostedGroups() async -> (groups: [GroupSummary], livePeers: Set<NodeID>) {
        await host.inspect { view in (view.groups, view.livePeers) }
    }

    public func propose(_ command: [UInt8], to group: GroupID) async throws -> [UInt8] {
        try await host.propose(command, to: group)
    }

    public func read<T: Sendable>(
        _ group: GroupID, linearizable: Bool, _ body: @escaping @Sendable (any StateMachine) -> T
    ) async throws -> T {
        try await host.read(group, linearizable: linearizable, body)
    }

    public func isolate(from peers: Set<NodeID>) { transport.isolate(from: peers) }

    public func emitMetrics(into bytes: inout [UInt8]) { registry.emit(into: &bytes) }
}
