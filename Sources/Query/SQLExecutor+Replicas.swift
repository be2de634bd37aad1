import Coordinator
import Meta
import SQL

/// The replica-group statements (docs/replicas.md): listings from meta, changes through the coordinator.
extension SQLExecutor {
    func run(_ command: ReplicaCommand) async throws(CoordinatorError) -> QueryResult {
        switch command {
        case .add(let set, let node):
            try await inTenant(set)
            try await coordinator.addReplica(set, node: node)
        case .remove(let set, let node):
            try await inTenant(set)
            try await coordinator.removeReplica(set, node: node)
        case .promote(let set, let node):
            try await inTenant(set)
            try await coordinator.promoteReplica(set, node: node)
        case .destroy(let set):
            try await inTenant(set)
            try await coordinator.destroyReplicaSet(set)
        }
        return .message("ok")
    }

    func run(_ command: VnodeCommand) async throws(CoordinatorError) -> QueryResult {
        switch command {
        case .move(let vnode, let node):
            try await inTenant(vnode: vnode)
            try await coordinator.moveVnode(vnode, to: node)
        case .copy(let vnode, let node):
            try await inTenant(vnode: vnode)
            try await coordinator.copyVnode(vnode, to: node)
        case .drop(let vnode):
            try await inTenant(vnode: vnode)
            try await coordinator.dropVnode(vnode)
        }
        return .message("ok")
    }

    /// `SHOW VNODES`: every vnode of the tenant's databases: id, node, replica set, database, bucket range.
    func showVnodes() async -> QueryResult {
        var rows: [[SQLValue]] = []
        for location in await coordinator.freshState().allReplicaSets where location.tenant == tenant {
            for vnode in location.set.vnodes {
                rows.append([
                    .unsigned(vnode.id), .unsigned(vnode.node), .unsigned(location.set.id), .string(location.database),
                    .time(location.bucket.start), .time(location.bucket.end),
                    .string(location.set.pending?.node == vnode.node ? location.set.pending!.kind.rawValue : "ok"),
                ])
            }
        }
        return QueryResult(
            columns: ["vnode_id", "node_id", "replica_id", "database", "start_time", "end_time", "status"], rows: rows)
    }

    /// `CHECKSUM GROUP R`: one row per vnode.
    func checksumGroup(_ set: UInt64) async throws(CoordinatorError) -> QueryResult {
        try await inTenant(set)
        let rows = try await coordinator.checksums(set)
        return QueryResult(
            columns: ["vnode_id", "node_id", "checksum", "points"],
            rows: rows.map {
                [.unsigned($0.vnode), .unsigned($0.node), .string(hex($0.checksum)), .unsigned($0.points)]
            })
    }

    private func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Replica ids are taken within the current tenant: another tenant's replica set is "not found".
    private func inTenant(_ set: UInt64) async throws(CoordinatorError) {
        guard let location = await coordinator.freshState().replicaSet(set), location.tenant == tenant else {
            throw CoordinatorError(
                .notFound, "meta.replica_set_not_found", "replica set \(set) does not exist in tenant '\(tenant)'")
        }
    }

    private func inTenant(vnode: UInt64) async throws(CoordinatorError) {
        let state = await coordinator.freshState()
        guard
            state.allReplicaSets.contains(where: { $0.tenant == tenant && $0.set.vnodes.contains { $0.id == vnode } })
        else {
            throw CoordinatorError(
                .notFound, "meta.vnode_not_found", "vnode \(vnode) does not exist in tenant '\(tenant)'")
        }
    }
}
