import Logging
import NIOCore
import RaftCore
import RaftWire

/// The inbound side of one connection: checks the handshake (cluster id, node id), then hands the peer's frames to
/// the transport, one batch per socket read.
final class PeerHandler: ChannelInboundHandler {
    typealias InboundIn = WireFrame
    typealias OutboundOut = ByteBuffer

    private let transport: NIOTransport
    /// Set when this node dialed: the peer must answer the handshake with this id.
    private let expectedPeer: NodeID?
    private var peer: NodeID?
    private var batch: [WireFrame] = []

    init(transport: NIOTransport, expectedPeer: NodeID?) {
        self.transport = transport
        self.expectedPeer = expectedPeer
    }

    func channelActive(context: ChannelHandlerContext) {
        if expectedPeer != nil { sendHandshake(context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let peer else {
            accept(handshake: frame, context: context)
            return
        }
        if case .handshake = frame {
            refuse("node \(peer) sent a second handshake", context: context)
            return
        }
        batch.append(frame)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let peer, !batch.isEmpty {
            transport.deliver(batch, from: peer)
            batch.removeAll(keepingCapacity: true)
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let peer {
            transport.unregister(context.channel, peer: peer)
        } else if let expectedPeer {
            transport.dialEnded(expectedPeer)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let who = peer.map { "node \($0)" } ?? "\(context.remoteAddress.map { "\($0)" } ?? "an unknown peer")"
        if let wire = error as? WireError {
            refuse("bad bytes from \(who): \(wire)", context: context)
        } else {
            transport.logger.debug("connection to \(who) failed: \(error)")
            context.close(promise: nil)
        }
    }

    private func accept(handshake frame: WireFrame, context: ChannelHandlerContext) {
        guard case .handshake(let clusterID, let nodeID) = frame else {
            refuse("the first frame was not a handshake", context: context)
            return
        }
        guard clusterID == transport.settings.clusterID else {
            refuse(
                "node \(nodeID) belongs to cluster \(clusterID), not to ours (\(transport.settings.clusterID)); "
                    + "check --initial-cluster on both nodes", context: context)
            return
        }
        guard nodeID != transport.settings.nodeID, nodeID != .zero else {
            refuse("the peer claims node id \(nodeID), which is ours or invalid", context: context)
            return
        }
        if let expectedPeer, expectedPeer != nodeID {
            refuse("dialed node \(expectedPeer) but node \(nodeID) answered; check the addresses", context: context)
            return
        }
        peer = nodeID
        if expectedPeer == nil { sendHandshake(context: context) }
        transport.register(context.channel, peer: nodeID)
    }

    private func sendHandshake(context: ChannelHandlerContext) {
        let bytes = WireFrame.handshake(clusterID: transport.settings.clusterID, nodeID: transport.settings.nodeID)
            .bytes
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        transport.noteRefused()
        transport.logger.warning(
            "refused connection from \(context.remoteAddress.map { "\($0)" } ?? "unknown"): \(reason)")
        context.close(promise: nil)
    }
}
