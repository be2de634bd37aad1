import Logging
import NIOCore
import NIOPosix
import RaftCore
import RaftWire
import Synchronization

/// The TCP transport between nodes, on SwiftNIO.
///
/// One connection per node pair: the node with the lower id dials, the other accepts, and both use the
/// connection in both directions. Each side's first frame is a handshake with the cluster id and node id; a
/// stranger, a node of another cluster or a wrong id is refused with a logged reason. Frames for one peer in one
/// `send` call are encoded into one buffer and written with one flush. A peer that is down, or whose queue is over
/// `maxQueuedBytes`, loses the frames (counted): Raft resends. Failed dials back off exponentially.
public final class NIOTransport: RaftTransport {
    public let settings: TransportSettings
    let logger: Logger
    private let group: any EventLoopGroup
    private let state: Mutex<State>
    private let counters = TransportCounters()

    private struct State {
        var connections: [NodeID: any Channel] = [:]
        var peers: [NodeID: PeerAddress]
        var dialing: Set<NodeID> = []
        var failures: [NodeID: Int] = [:]
        var nextDialAt: [NodeID: NIODeadline] = [:]
        var isolated: Set<NodeID> = []
        var delegate: (any TransportDelegate)?
        var server: (any Channel)?
        var stopped = false
    }

    public init(
        settings: TransportSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "flotilla.transport")
    ) {
        self.settings = settings
        self.group = group
        var logger = logger
        logger[metadataKey: "node"] = "\(settings.nodeID)"
        self.logger = logger
        self.state = Mutex(State(peers: settings.peers))
    }

    /// The port the server is bound to (useful when `listen.port` was 0).
    public var boundPort: Int? { state.withLock { $0.server?.localAddress?.port } }

    public func start(delegate: any TransportDelegate) throws {
        state.withLock { $0.delegate = delegate }
        let maxFrame = settings.maxFrameBytes
        let queued = settings.maxQueuedBytes
        let server = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: queued / 2, high: queued))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrame, counters: counters)))
                    try channel.pipeline.syncOperations.addHandler(PeerHandler(transport: self, expectedPeer: nil))
                }
            }
            .bind(host: settings.listen.host, port: settings.listen.port).wait()
        state.withLock { $0.server = server }
        logger.info("raft transport listening on \(settings.listen) (cluster \(settings.clusterID))")
    }

    public func send(_ frames: [WireFrame], to peer: NodeID) {
        guard !frames.isEmpty else { return }
        let channel: (any Channel)? = state.withLock { state in
            if state.isolated.contains(peer) || state.stopped { return nil }
            if let channel = state.connections[peer] { return channel }
            dialIfDue(peer, &state)
            return nil
        }
        guard let channel, channel.isWritable else {
            counters.dropped.add(UInt64(frames.count), ordering: .relaxed)
            return
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 * frames.count)
        for frame in frames { frame.encode(into: &bytes) }
        counters.sent.add(UInt64(bytes.count), ordering: .relaxed)
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    /// Records where `peer` listens and, if this node is the dialing side and not connected to it, dials at once:
    /// a node that just joined knows nobody's id below its own until they call it.
    public func setAddress(_ address: PeerAddress, of peer: NodeID) {
        state.withLock { state in
            guard state.peers[peer] != address else { return }
            state.peers[peer] = address
            state.nextDialAt[peer] = nil
            state.failures[peer] = 0
            if state.connections[peer] == nil && state.server != nil && !state.stopped && peer != settings.nodeID {
                dialIfDue(peer, &state)
            }
        }
    }

    public func isolate(from peers: Set<NodeID>) {
        state.withLock { $0.isolated = peers }
        logger.warning("fault injection: isolated from nodes \(peers.sorted().map(\.rawValue))")
    }

    public func shutdown() {
        let channels: [any Channel] = state.withLock { state in
            state.stopped = true
            var all = Array(state.connections.values)
            if let server = state.server { all.append(server) }
            state.connections = [:]
            state.delegate = nil
            return all
        }
        for channel in channels { try? channel.close().wait() }
    }

    public var statistics: TransportStatistics {
        var stats = TransportStatistics()
        stats.bytesSent = counters.sent.load(ordering: .relaxed)
        stats.bytesReceived = counters.received.load(ordering: .relaxed)
        stats.framesDropped = counters.dropped.load(ordering: .relaxed)
        stats.refusedConnections = counters.refused.load(ordering: .relaxed)
        return stats
    }

    // MARK: - Connections

    /// Starts a dial to `peer` if this node is the dialing side of the pair and the backoff allows it.
    private func dialIfDue(_ peer: NodeID, _ state: inout State) {
        guard settings.nodeID < peer, !state.dialing.contains(peer), let address = state.peers[peer] else { return }
        let now = NIODeadline.now()
        if let next = state.nextDialAt[peer], now < next { return }
        state.dialing.insert(peer)
        let maxFrame = settings.maxFrameBytes
        let queued = settings.maxQueuedBytes
        ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: queued / 2, high: queued))
            .connectTimeout(.seconds(1))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrame, counters: counters)))
                    try channel.pipeline.syncOperations.addHandler(PeerHandler(transport: self, expectedPeer: peer))
                }
            }
            .connect(host: address.host, port: address.port)
            .whenComplete { [self] result in
                self.state.withLock { state in
                    state.dialing.remove(peer)
                    if case .failure = result { scheduleRetry(peer, &state) }
                }
                if case .failure(let error) = result {
                    logger.trace("dial to node \(peer) at \(address) failed: \(error)")
                }
            }
    }

    private func scheduleRetry(_ peer: NodeID, _ state: inout State) {
        let failures = (state.failures[peer] ?? 0) + 1
        state.failures[peer] = failures
        let delay = min(
            settings.reconnectMaximumMilliseconds, settings.reconnectInitialMilliseconds << Int64(min(failures, 16)))
        state.nextDialAt[peer] = .now() + .milliseconds(delay)
    }

    /// A handshake succeeded: the channel becomes the connection to `peer`, replacing an older one.
    func register(_ channel: any Channel, peer: NodeID) {
        let (old, delegate): ((any Channel)?, (any TransportDelegate)?) = state.withLock { state in
            if state.stopped { return (channel, nil) }
            state.dialing.remove(peer)
            let old = state.connections[peer]
            state.connections[peer] = channel
            state.failures[peer] = 0
            state.nextDialAt[peer] = nil
            return (old, state.delegate)
        }
        guard let delegate else {
            channel.close(promise: nil)
            return
        }
        if let old, old !== channel { old.close(promise: nil) }
        logger.debug("connected to node \(peer)")
        delegate.transport(peer: peer, connected: true)
    }

    /// A connection closed: forget it if it is still the current one for `peer`.
    func unregister(_ channel: any Channel, peer: NodeID) {
        let (wasCurrent, delegate): (Bool, (any TransportDelegate)?) = state.withLock { state in
            guard let current = state.connections[peer], current === channel else { return (false, nil) }
            state.connections[peer] = nil
            scheduleRetry(peer, &state)
            state.failures[peer] = 0
            return (true, state.delegate)
        }
        guard wasCurrent else { return }
        logger.debug("connection to node \(peer) closed")
        delegate?.transport(peer: peer, connected: false)
    }

    /// A dialed connection closed before its handshake completed (refused, or the peer went away): back off.
    func dialEnded(_ peer: NodeID) {
        state.withLock { state in
            state.dialing.remove(peer)
            scheduleRetry(peer, &state)
        }
    }

    func deliver(_ frames: [WireFrame], from peer: NodeID) {
        let delegate: (any TransportDelegate)? = state.withLock { state in
            state.isolated.contains(peer) ? nil : state.delegate
        }
        delegate?.transport(received: frames, from: peer)
    }

    func noteRefused() { counters.refused.add(1, ordering: .relaxed) }
}

/// Atomics for the traffic counters (read by /metrics while the event loops write them).
final class TransportCounters: Sendable {
    let sent = Atomic<UInt64>(0)
    let received = Atomic<UInt64>(0)
    let dropped = Atomic<UInt64>(0)
    let refused = Atomic<UInt64>(0)
}
