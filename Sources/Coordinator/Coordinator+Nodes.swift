import Foundation
import Meta
import MultiRaft
import RaftCore
import RaftWire

/// Nodes joining and leaving a running cluster.
extension Coordinator {
    /// Records a node that joins with `--join`: its addresses go into meta, from which every node's transport
    /// learns them. Idempotent; refuses an id that a node with other addresses holds.
    public func registerJoiningNode(_ info: NodeInfo) async throws(CoordinatorError) {
        if let known = await freshState().nodes[info.id], known.raftAddress != info.raftAddress {
            throw CoordinatorError(
                .conflict, "meta.node_exists",
                "node id \(info.id) already belongs to the node at \(known.raftAddress); pick another --node-id")
        }
        try await executeOrThrow(.registerNode(info))
    }

    /// Makes `node` a learner of the meta group and returns once it has caught up, so that it holds a current
    /// copy of the metadata (routing, its vnodes). Idempotent: a node already there returns at once. Attempts
    /// are short (the metadata is small, and a request sent before the connections are up is lost).
    public func joinMetaGroup(_ node: UInt64) async throws(CoordinatorError) {
        try await administer(
            .addLearner(NodeID(node)), group: metaGroup, candidates: metaNodes.map { NodeID($0) },
            what: "the meta group",
            timeoutMilliseconds: Self.adminTimeoutMilliseconds, attemptMilliseconds: 5_000)
    }

    /// `DRAIN NODE n`: marks `n` as draining (new buckets leave it out), then moves each of its vnodes to the
    /// node that holds the fewest vnodes among those not in the vnode's replica set, one move after the other,
    /// each as `MOVE VNODE` (learner, catch-up, promotion, removal). Repeating a drain cut short carries on.
    /// - Returns: one line per move.
    /// - Throws: `.conflict` when a replica set already has a vnode on every other node (nowhere to move it).
    public func drainNode(_ node: UInt64) async throws(CoordinatorError) -> [String] {
        guard await freshState().nodes[node] != nil else {
            throw CoordinatorError(.notFound, "meta.node_not_found", "node \(node) is not a node of this cluster")
        }
        try await executeOrThrow(.setDraining(node: node, draining: true))
        var moves: [String] = []
        while true {
            let state = await freshState()
            guard let location = state.allReplicaSets.first(where: { $0.set.nodes.contains(node) }) else { break }
            let set = location.set
            let vnode = set.vnodes.first { $0.node == node }!
            let counts = state.vnodeCounts
            let targets = state.nodes.values.filter { $0.acceptsVnodes && !set.nodes.contains($0.id) }.map(\.id)
            guard let target = targets.min(by: { (counts[$0] ?? 0, $0) < (counts[$1] ?? 0, $1) }) else {
                throw CoordinatorError(
                    .conflict, "meta.no_target_node",
                    "cannot drain node \(node): replica set \(set.id) already has a vnode on every other node; "
                        + "add a node (flotilla server --join) or remove the replica (REPLICA REMOVE)")
            }
            try await moveVnode(vnode.id, to: target)
            moves.append("vnode \(vnode.id) of replica set \(set.id) moved from node \(node) to node \(target)")
        }
        return moves
    }
}
