/// The replica-group commands of the meta state machine (docs/replicas.md): deterministic, like every apply.
extension MetaStore {
    static func applyReplicaCommand(_ command: MetaCommand, to state: inout MetaState) -> MetaResult {
        switch command {
        case .addVnode(let setID, let node):
            guard state.nodes[node] != nil else {
                return .failure(.notFound, "meta.node_not_found", "node \(node) is not in the cluster")
            }
            guard let location = state.replicaSet(setID) else { return notFound(setID) }
            if location.set.nodes.contains(node) {
                return location.set.pending == PendingChange(kind: .add, node: node)
                    ? .success
                    : .failure(.exists, "meta.vnode_exists", "replica set \(setID) already has a vnode on node \(node)")
            }
            if let pending = location.set.pending {
                return .failure(
                    .conflict, "meta.change_pending",
                    "replica set \(setID) is still changing (\(pending.kind.rawValue) node \(pending.node)); retry later"
                )
            }
            let id = state.nextID
            state.nextID += 1
            _ = state.updateReplicaSet(setID) { set in
                if set.founders == nil { set.founders = set.foundingVoters }
                set.vnodes.append(VnodeInfo(id: id, node: node, joined: true))
                set.pending = PendingChange(kind: .add, node: node)
            }
        case .removeVnode(let setID, let node):
            guard let location = state.replicaSet(setID) else { return notFound(setID) }
            guard location.set.nodes.contains(node) else { return .success }  // already gone: idempotent
            guard location.set.vnodes.count > 1 else {
                return .failure(.conflict, "meta.last_replica", "node \(node) holds the last replica of replica set \(setID)")
            }
            _ = state.updateReplicaSet(setID) { set in
                if set.founders == nil { set.founders = set.foundingVoters }
                set.vnodes.removeAll { $0.node == node }
                if set.pending?.node == node { set.pending = nil }
                if set.leaderHint == node { set.leaderHint = nil }
            }
        case .setPending(let setID, let change):
            guard state.updateReplicaSet(setID, { $0.pending = change }) else { return notFound(setID) }
        case .destroyReplicaSet(let setID):
            guard let location = state.replicaSet(setID) else { return notFound(setID) }
            var database = state.tenants[location.tenant]!.databases[location.database]!
            // The slot stays (routing is `hash % SHARD` over the bucket's slots); the bucket goes with its last set.
            if let b = database.buckets.firstIndex(where: { $0.id == location.bucket.id }),
                let s = database.buckets[b].replicaSets.firstIndex(where: { $0.id == setID })
            {
                database.buckets[b].replicaSets[s] = ReplicaSetInfo(
                    id: setID, vnodes: [], leaderHint: nil, founders: [], pending: nil, destroyed: true)
                if !database.buckets[b].replicaSets.contains(where: \.isLive) { database.buckets.remove(at: b) }
            }
            state.tenants[location.tenant]!.databases[location.database] = database
        case .dropBucket(let tenant, let name, let bucketID):
            guard state.tenants[tenant]?.databases[name] != nil else {
                return .failure(.notFound, "meta.database_not_found", "database '\(name)' does not exist in tenant '\(tenant)'")
            }
            state.tenants[tenant]!.databases[name]!.buckets.removeAll { $0.id == bucketID }
        default:
            return .failure(.invalid, "meta.unknown_command", "no handler for \(command)")
        }
        return .success
    }

    private static func notFound(_ setID: UInt64) -> MetaResult {
        .failure(.notFound, "meta.replica_set_not_found", "replica set \(setID) does not exist")
    }
}
