import NIOCore
import RaftWire
import Synchronization

/// Splits a byte stream into wire frames. Checks the magic, version and length from the 8-byte header before
/// waiting for a payload, so a stranger or an oversized frame is refused at once with a `WireError`.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = WireFrame

    let maxFrameBytes: Int
    /// Counts the bytes of every decoded frame (the transport's bytes-received figure).
    let counters: TransportCounters

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= 2 else {
            if let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), first != WireFrame.magic[0] {
                throw WireError.badMagic(offset: 0)
            }
            return .needMoreData
        }
        guard let header = buffer.getBytes(at: buffer.readerIndex, length: min(buffer.readableBytes, 8)) else {
            return .needMoreData
        }
        // Validates the header (magic, version, declared length) with the codec's own rules.
        if header.count == 8 {
            var length = 0
            for i in 0..<4 { length |= Int(header[4 + i]) << (8 * i) }
            if header[0] != WireFrame.magic[0] || header[1] != WireFrame.magic[1] {
                throw WireError.badMagic(offset: 0)
            }
            guard header[2] == WireFrame.version else { throw WireError.unsupportedVersion(header[2]) }
            guard length <= maxFrameBytes else { throw WireError.frameTooLarge(length: length, limit: maxFrameBytes) }
            guard buffer.readableBytes >= 8 + length, let bytes = buffer.readBytes(length: 8 + length) else {
                return .needMoreData
            }
            guard let (frame, _) = try WireFrame.decode(bytes, maxFrameBytes: maxFrameBytes) else {
                throw WireError.malformed("frame shorter than its declared length")
            }
            counters.received.add(UInt64(bytes.count), ordering: .relaxed)
            context.fireChannelRead(wrapInboundOut(frame))
            return .continue
        }
        _ = try WireFrame.decode(header, maxFrameBytes: maxFrameBytes)  // throws on a bad magic
        return .needMoreData
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
