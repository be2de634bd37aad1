import RaftCore
import RaftTransport
import RaftWire
import Synchronization

/// One boot of a simulated node's transport: frames go through the simulator's network (which delays, drops and
/// cuts them) and are delivered to the peer's current boot only, as over a TCP connection that a restart breaks.
/// A node whose power is cut sends nothing more; one whose loop is held by a stalled sync sends once it goes on.
final class SimulatedTransport: RaftTransport {
    private let network: SimulatedNetwork
    private let disk: SimulatedDisk
    let node: UInt64
    let boot: Int
    private struct State {
        var isolated: Set<NodeID> = []
        var statistics = TransportStatistics()
    }
    private let state = Mutex(State())

    init(network: SimulatedNetwork, node: UInt64, boot: Int, disk: SimulatedDisk) {
        self.network = network
        self.disk = disk
        self.node = node
        self.boot = boot
    }

    func start(delegate: any TransportDelegate) throws { network.attach(node: node, boot: boot, delegate: delegate) }

    func send(_ frames: [WireFrame], to peer: NodeID) {
        let blocked = state.withLock { state in
            let blocked = state.isolated.contains(peer)
            if blocked { state.statistics.framesDropped += UInt64(frames.count) }
            return blocked
        }
        guard !blocked, !disk.powerIsCut else { return }
        network.send(frames, from: node, to: peer.rawValue, notBefore: disk.stalledUntil)
    }

    /// Frames from an isolated peer are dropped on arrival too.
    func accepts(from peer: UInt64) -> Bool { state.withLock { !$0.isolated.contains(NodeID(peer)) } }

    func setAddress(_ address: PeerAddress, of peer: NodeID) {}

    func isolate(from peers: Set<NodeID>) { state.withLock { $0.isolated = peers } }

    func shutdown() { network.detach(node: node, boot: boot) }

    var statistics: TransportStatistics { state.withLock { $0.statistics } }
}
