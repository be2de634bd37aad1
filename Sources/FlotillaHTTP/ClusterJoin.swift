import Coordinator
import Foundation
import Hummingbird
import Meta
import NIOCore
import RaftTransport

/// What a node starting with `--join` sends to a running node (`POST /api/v1/cluster/join`).
public struct JoinRequest: Codable, Sendable, Equatable {
    public var nodeID: UInt64
    public var raftAddress: String
    public var httpAddress: String

    public init(nodeID: UInt64, raftAddress: String, httpAddress: String) {
        self.nodeID = nodeID
        self.raftAddress = raftAddress
        self.httpAddress = httpAddress
    }

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id"
        case raftAddress = "raft_addr"
        case httpAddress = "http_addr"
    }
}

/// The running node's answer: what the joining node needs to take part (the cluster id its transport
/// presents, the founders, who host the meta group, and every node's Raft address).
public struct JoinAnswer: Codable, Sendable, Equatable {
    /// Decimal: a `UInt64` does not survive every JSON reader as a number.
    public var clusterID: String
    public var initialCluster: [String: String]
    public var nodes: [JoinRequest]

    public init(clusterID: String, initialCluster: [String: String], nodes: [JoinRequest]) {
        self.clusterID = clusterID
        self.initialCluster = initialCluster
        self.nodes = nodes
    }

    enum CodingKeys: String, CodingKey {
        case clusterID = "cluster_id"
        case initialCluster = "initial_cluster"
        case nodes
    }
}

extension HTTPRoutes {
    /// `POST /api/v1/cluster/join`: records the joining node's addresses in meta (every node's transport learns
    /// them from there) and answers with the cluster's identity. The joining node then makes itself a learner
    /// of the meta group; its vnodes come with `MOVE`/`COPY VNODE`, `REPLICA ADD` or new buckets.
    func join(_ request: Request, _ context: FlotillaRequestContext) async throws -> Response {
        try context.authorize(.admin)
        let body = try await request.body.collect(upTo: 1 << 16)
        guard let joining = try? JSONDecoder().decode(JoinRequest.self, from: Data(buffer: body)), joining.nodeID > 0,
            PeerAddress(joining.raftAddress) != nil, PeerAddress(joining.httpAddress) != nil
        else {
            throw APIError(
                .badRequest, code: "cluster.bad_join",
                message: "expected {\"node_id\": N > 0, \"raft_addr\": \"HOST:PORT\", \"http_addr\": \"HOST:PORT\"}")
        }
        let facts = node.facts
        if let founder = facts.initialCluster[joining.nodeID], founder != joining.raftAddress {
            throw APIError(
                .conflict, code: "meta.node_exists",
                message: "node id \(joining.nodeID) is a founder at \(founder); pick another --node-id")
        }
        do {
            try await node.registerJoiningNode(
                NodeInfo(id: joining.nodeID, raftAddress: joining.raftAddress, httpAddress: joining.httpAddress))
        } catch {
            throw APIError(error)
        }
        node.logger.info("node \(joining.nodeID) joins the cluster from \(joining.raftAddress)")
        let answer = JoinAnswer(
            clusterID: String(facts.clusterID),
            initialCluster: Dictionary(
                uniqueKeysWithValues: facts.initialCluster.map { ("\($0.key)", $0.value) }),
            nodes: node.meta.current.nodes.values.sorted { $0.id < $1.id }.map {
                JoinRequest(nodeID: $0.id, raftAddress: $0.raftAddress, httpAddress: $0.httpAddress)
            })
        let data = try JSONEncoder().encode(answer)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: Array(data))))
    }
}
