import RaftCore
import RaftWire
import Synchronization

/// An in-process network for tests: hosts in one process exchange frames through it, synchronously and in order,
/// with the same best-effort contract as the TCP transport (isolated peers lose their frames).
public final class LocalNetwork: Sendable {
    private let endpoints = Mutex<[NodeID: LocalTransport]>([:])

    public init() {}

    /// The transport of node `id` on this network.
    public func transport(for id: NodeID) -> LocalTransport {
        let transport = LocalTransport(id: id, network: self)
        endpoints.withLock { $0[id] = transport }
        return transport
    }

    func endpoint(_ id: NodeID) -> LocalTransport? { endpoints.withLock { $0[id] } }

    /// The current transport of node `id` (for fault injection in tests).
    public func transport(forExisting id: NodeID) -> LocalTransport { endpoints.withLock { $0[id]! } }
}

/// One node's side of a `LocalNetwork`.
public final class LocalTransport: RaftTransport {
    public let id: NodeID
    private let network: LocalNetwork
    private struct State {
        var delegate: (any TransportDelegate)?
        var isolated: Set<NodeID> = []
        var statistics = TransportStatistics()
    }
    private let state = Mutex(State())

    init(id: NodeID, network: LocalNetwork) {
        self.id = id
        self.network = network
    }

    public func start(delegate: any TransportDelegate) throws { state.withLock { $0.delegate = delegate } }

    public func send(_ frames: [WireFrame], to peer: NodeID) {
        let blocked = state.withLock { state in
            let blocked = state.isolated.contains(peer) || state.delegate == nil
            if blocked { state.statistics.framesDropped += UInt64(frames.count) }
            return blocked
        }
        guard !blocked, let target = network.endpoint(peer) else { return }
        target.receive(frames, from: id)
    }

    private func receive(_ frames: [WireFrame], from peer: NodeID) {
        let delegate = state.withLock { $0.isolated.contains(peer) ? nil : $0.delegate }
        delegate?.transport(received: frames, from: peer)
    }

    public func setAddress(_ address: PeerAddress, of peer: NodeID) {}

    public func isolate(from peers: Set<NodeID>) { state.withLock { $0.isolated = peers } }

    public func shutdown() { state.withLock { $0.delegate = nil } }

    public var statistics: TransportStatistics { state.withLock { $0.statistics } }
}
