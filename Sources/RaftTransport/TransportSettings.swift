import RaftCore

/// What a node's transport needs to know: who it is, which cluster it belongs to, where to listen and limits.
public struct TransportSettings: Sendable {
    /// Peers of another cluster are refused at the handshake.
    public var clusterID: UInt64
    public var nodeID: NodeID
    public var listen: PeerAddress
    /// The Raft addresses of the other nodes known at start.
    public var peers: [NodeID: PeerAddress]
    /// The largest frame accepted from a peer; a larger one closes the connection with a logged reason.
    public var maxFrameBytes: Int = 64 << 20
    /// Bytes queued on one connection beyond which further frames to that peer are dropped (backpressure).
    public var maxQueuedBytes: Int = 32 << 20
    /// Reconnection backoff: first delay, doubled per failure up to the maximum.
    public var reconnectInitialMilliseconds: Int64 = 50
    public var reconnectMaximumMilliseconds: Int64 = 1_000

    public init(clusterID: UInt64, nodeID: NodeID, listen: PeerAddress, peers: [NodeID: PeerAddress]) {
        self.clusterID = clusterID
        self.nodeID = nodeID
        self.listen = listen
        self.peers = peers
    }
}
