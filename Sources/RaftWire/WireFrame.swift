import RaftCore

/// Flotilla's node-to-node wire format, version 1 (see docs/wire-format.md).
///
/// A frame is `"FL"` (2 bytes) · version (u8) · kind (u8) · payload length (u32 LE) · payload. Kinds:
/// 0 = handshake (cluster id u64, node id u64), the first frame on every connection; 1 = a Raft message of
/// one group. Decoding never trusts a length beyond `maxFrameBytes`.
public enum WireFrame: Sendable, Equatable {
    case handshake(clusterID: UInt64, nodeID: NodeID)
    case message(group: GroupID, Message)

    public static let magic: [UInt8] = [0x46, 0x4C]
    public static let version: UInt8 = 1
    public static let headerSize = 8

    /// Appends this frame's bytes to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        // Header first with a placeholder length, payload written straight after it, then the length patched:
        // one pass, no intermediate copy.
        var writer = WireWriter()
        swap(&writer.bytes, &buffer)
        let start = writer.bytes.count
        writer.bytes.append(contentsOf: Self.magic)
        writer.u8(Self.version)
        switch self {
        case .handshake(let clusterID, let nodeID):
            writer.u8(0)
            writer.u32(0)
            writer.u64(clusterID)
            writer.u64(nodeID.rawValue)
        case .message(let group, let message):
            writer.u8(1)
            writer.u32(0)
            writer.u64(group.rawValue)
            MessageCodec.encode(message, into: &writer)
        }
        let length = UInt32(writer.bytes.count - start - Self.headerSize)
        for i in 0..<4 { writer.bytes[start + 4 + i] = UInt8(truncatingIfNeeded: length >> UInt32(8 * i)) }
        swap(&writer.bytes, &buffer)
    }

    /// The frame's bytes.
    public var bytes: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

    /// Decodes the frame at `offset`, if it is complete.
    /// - Returns: the frame and the offset after it, or `nil` when more bytes are needed.
    /// - Throws: `WireError` for garbage, a foreign version, or a frame over `maxFrameBytes`.
    public static func decode(
        _ bytes: [UInt8], at offset: Int = 0, maxFrameBytes: Int = 64 << 20
    ) throws(WireError) -> (WireFrame, Int)? {
        let available = bytes.count - offset
        if available >= 2 && (bytes[offset] != magic[0] || bytes[offset + 1] != magic[1]) {
            throw .badMagic(offset: offset)
        }
        if available >= 1 && bytes[offset] != magic[0] { throw .badMagic(offset: offset) }
        guard available >= headerSize else { return nil }
        guard bytes[offset + 2] == version else { throw .unsupportedVersion(bytes[offset + 2]) }
        var header = WireReader(bytes, offset: offset + 4)
        let length = Int(try header.u32("frame length"))
        guard length <= maxFrameBytes else { throw .frameTooLarge(length: length, limit: maxFrameBytes) }
        guard available - headerSize >= length else { return nil }
        let end = offset + headerSize + length
        var reader = WireReader(bytes, offset: offset + headerSize, end: end)
        let frame: WireFrame
        switch bytes[offset + 3] {
        case 0:
            frame = .handshake(clusterID: try reader.u64("cluster id"), nodeID: NodeID(try reader.u64("node id")))
        case 1:
            let group = GroupID(try reader.u64("group id"))
            frame = .message(group: group, try MessageCodec.decode(&reader))
        case let kind:
            throw .malformed("unknown frame kind \(kind) at offset \(offset + 3)")
        }
        guard reader.isAtEnd else { throw .malformed("\(end - reader.offset) stray bytes in a frame") }
        return (frame, end)
    }
}
