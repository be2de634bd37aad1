import RaftCore
import RaftWire

/// Moves wire frames between the nodes of one cluster. What the multi-Raft host sends through and hears from.
///
/// Guarantees: frames sent in one `send` call reach the peer in order, in one socket write, or not at all;
/// frames from one peer are delivered in the order they were sent. Delivery is best-effort: Raft retries, so a
/// frame to an unreachable or overloaded peer is dropped (and counted) rather than queued without bound.
public protocol RaftTransport: AnyObject, Sendable {
    /// Starts listening and lets the transport deliver to `delegate`. Call once.
    func start(delegate: any TransportDelegate) throws
    /// Sends `frames` to `peer` in one write. Never blocks.
    func send(_ frames: [WireFrame], to peer: NodeID)
    /// Records or changes where a peer listens (a node that joined, or a restarted one on a new port).
    func setAddress(_ address: PeerAddress, of peer: NodeID)
    /// Fault injection for tests: frames to and from these peers are dropped as if the network lost them.
    func isolate(from peers: Set<NodeID>)
    /// Closes every connection and stops listening.
    func shutdown()
    /// Traffic counters since start.
    var statistics: TransportStatistics { get }
}

/// Receives what a transport hears. Called on transport threads: implementations hand the work to their owner
/// quickly (the multi-Raft host queues it for its loop).
public protocol TransportDelegate: AnyObject, Sendable {
    /// Frames from one peer, in order; a batch is what one read from the socket held.
    func transport(received frames: [WireFrame], from peer: NodeID)
    /// A connection to `peer` was established (after a valid handshake) or lost.
    func transport(peer: NodeID, connected: Bool)
}

/// Where a node's Raft port listens.
public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { "\(host):\(port)" }
}

/// Bytes and frames moved, and frames dropped because a peer was unreachable or its queue full.
public struct TransportStatistics: Sendable, Equatable {
    public var bytesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var framesDropped: UInt64 = 0
    public var refusedConnections: UInt64 = 0
    public init() {}
}
