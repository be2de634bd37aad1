import RaftCore
import RaftTransport
import RaftWire

/// The network between the simulated nodes: every batch of frames is delayed (0.2–3.2 ms), dropped with the
/// run's drop rate, or lost to a cut link; batches on one link arrive in the order sent (as on one TCP
/// connection), batches on different links in any order. A batch reaches only the boot of the peer that was
/// up when it was sent: a restart breaks the connection and what was in flight on it.
///
/// `@unchecked Sendable`: used only on the simulator's thread.
final class SimulatedNetwork: @unchecked Sendable {
    /// A direction between two nodes.
    struct Link: Hashable {
        var from: UInt64
        var to: UInt64
    }

    private unowned let world: NodeWorld
    private var generator: SplitMix64
    private var attached: [UInt64: (boot: Int, transport: SimulatedTransport, delegate: any TransportDelegate)] = [:]
    private var lastArrival: [Link: UInt64] = [:]
    /// Links that lose every frame (partitions).
    var cut: Set<Link> = []
    /// Percent of batches lost.
    var dropPercent: UInt64 = 1
    private(set) var batchesSent = 0
    private(set) var batchesDropped = 0

    init(world: NodeWorld, seed: UInt64) {
        self.world = world
        self.generator = SplitMix64(seed: seed)
    }

    func attach(node: UInt64, boot: Int, delegate: any TransportDelegate) {
        guard let transport = world.transport(of: node, boot: boot) else { return }
        attached[node] = (boot, transport, delegate)
    }

    func detach(node: UInt64, boot: Int) {
        if attached[node]?.boot == boot { attached[node] = nil }
    }

    /// Sends `frames`; they leave no earlier than `notBefore` (a sender held by a stalled sync).
    func send(_ frames: [WireFrame], from: UInt64, to: UInt64, notBefore: UInt64 = 0) {
        batchesSent += 1
        let link = Link(from: from, to: to)
        guard let target = attached[to], !cut.contains(link), generator.next() % 100 >= dropPercent else {
            batchesDropped += 1
            return
        }
        let arrival = max(
            max(world.now, notBefore) + 200_000 + generator.next() % 3_000_000, lastArrival[link] ?? 0)
        lastArrival[link] = arrival
        world.schedule(.deliver(frames, from: from, to: to, boot: target.boot), at: arrival)
    }

    func deliver(_ frames: [WireFrame], from: UInt64, to: UInt64, boot: Int) {
        guard let target = attached[to], target.boot == boot, !cut.contains(Link(from: from, to: to)),
            target.transport.accepts(from: from)
        else {
            batchesDropped += 1
            return
        }
        target.delegate.transport(received: frames, from: NodeID(from))
    }

    /// Tells `node`'s current boot that its connection to `peer` closed (the peer's process died).
    func connectionLost(at node: UInt64, boot: Int, peer: UInt64) {
        guard let target = attached[node], target.boot == boot else { return }
        target.delegate.transport(peer: NodeID(peer), connected: false)
    }

    /// Cuts both directions between every node of `side` and every node not in it.
    func isolate(_ side: Set<UInt64>, from all: [UInt64]) {
        for a in side {
            for b in all where !side.contains(b) {
                cut.insert(Link(from: a, to: b))
                cut.insert(Link(from: b, to: a))
            }
        }
    }

    /// Cuts both directions between `a` and `b` only (a partial partition: others still reach both).
    func cutBetween(_ a: UInt64, _ b: UInt64) {
        cut.insert(Link(from: a, to: b))
        cut.insert(Link(from: b, to: a))
    }
}
