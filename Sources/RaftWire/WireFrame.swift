import RaftCore

/// Flotilla's node-to-node wire format, version 1 (see docs/wire-format.md).
///
/// A frame is `"FL"` (2 bytes) · version (u8) · kind (u8) · payload length (u32 LE) · payload. Kinds:
/// 0 = handshake (cluster id u64, node id u64), the first frame on every connection; 1 = a Raft message of
/// one group; 2 = a node-level ping (liveness, so that quiet groups learn when a peer dies); 3 = one chunk of a
/// snapshot; 4 = the receiver's acknowledgement of a chunk; 5-8 = forwarded proposals, replies, reads and
/// administration; 9 = a Raft message with the sender replica's incarnation. Decoding never trusts a length beyond `maxFrameBytes`.
public enum WireFrame: Sendable, Equatable {
    case handshake(clusterID: UInt64, nodeID: NodeID)
    case message(group: GroupID, Message)
    /// A Raft message from one incarnation of the sender's replica (kind 9): a replica destroyed and created
    /// again on the same node is a new incarnation, and the receivers drop what an older one sent.
    case replicaMessage(group: GroupID, incarnation: UInt64, Message)
    /// Node-level liveness: sent once per tick to every connected peer.
    case ping
    /// Part of a snapshot (§7) moving from a leader to a member, in order, under flow control.
    case snapshotChunk(SnapshotChunk)
    /// The receiver stored the chunk ending at `offset`; `accepted == false` aborts the transfer.
    case snapshotAck(SnapshotAck)
    /// A proposal for a group the sender does not host: the receiver proposes it and answers with `forwardReply`.
    case forwardProposal(ForwardedProposal)
    /// The answer to a forwarded proposal or read.
    case forwardReply(ForwardReply)
    /// A read of a group the sender does not host: the receiver runs it on its replica and answers with
    /// `forwardReply`.
    case forwardRead(ForwardedRead)
    /// A membership or leadership operation on a group, sent to a node that hosts it (its leader, as far as the
    /// sender knows); answered with `forwardReply` once the operation completed or failed.
    case forwardAdmin(ForwardedAdmin)

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
        case .replicaMessage(let group, let incarnation, let message):
            writer.u8(9)
            writer.u32(0)
            writer.u64(group.rawValue)
            writer.u64(incarnation)
            MessageCodec.encode(message, into: &writer)
        case .ping:
            writer.u8(2)
            writer.u32(0)
        case .snapshotChunk(let chunk):
            writer.u8(3)
            writer.u32(0)
            writer.u64(chunk.group.rawValue)
            MessageCodec.encode(chunk.message, into: &writer)
            writer.u64(chunk.totalBytes)
            writer.u32(chunk.crc)
            writer.u64(chunk.offset)
            writer.blob(chunk.data)
        case .snapshotAck(let ack):
            writer.u8(4)
            writer.u32(0)
            writer.u64(ack.group.rawValue)
            writer.u64(ack.from.rawValue)
            writer.u64(ack.index.rawValue)
            writer.u64(ack.offset)
            writer.bool(ack.accepted)
        case .forwardProposal(let request):
            writer.u8(5)
            writer.u32(0)
            writer.u64(request.requestID)
            writer.u64(request.group.rawValue)
            writer.u32(request.timeoutMilliseconds)
            writer.blob(request.command)
        case .forwardRead(let request):
            writer.u8(7)
            writer.u32(0)
            writer.u64(request.requestID)
            writer.u64(request.group.rawValue)
            writer.bool(request.linearizable)
            writer.u32(request.timeoutMilliseconds)
            writer.blob(request.request)
        case .forwardAdmin(let request):
            writer.u8(8)
            writer.u32(0)
            writer.u64(request.requestID)
            writer.u64(request.group.rawValue)
            writer.u32(request.timeoutMilliseconds)
            writer.u8(request.operation.code)
            writer.u64(request.operation.node.rawValue)
        case .forwardReply(let reply):
            writer.u8(6)
            writer.u32(0)
            writer.u64(reply.requestID)
            let (code, hint, detail) = reply.wireFields
            writer.u8(code)
            writer.u64(hint)
            writer.blob(detail)
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
        case 2:
            frame = .ping
        case 3:
            let group = GroupID(try reader.u64("group id"))
            let message = try MessageCodec.decode(&reader)
            guard case .snapshot = message.body else {
                throw .malformed("snapshot chunk at offset \(offset) carries a \(message.kind) message")
            }
            frame = .snapshotChunk(
                SnapshotChunk(
                    group: group, message: message, totalBytes: try reader.u64("snapshot length"),
                    crc: try reader.u32("snapshot crc"), offset: try reader.u64("chunk offset"),
                    data: try reader.blob("chunk data")))
        case 4:
            frame = .snapshotAck(
                SnapshotAck(
                    group: GroupID(try reader.u64("group id")), from: NodeID(try reader.u64("node id")),
                    index: LogIndex(try reader.u64("snapshot index")), offset: try reader.u64("offset"),
                    accepted: try reader.bool("accepted")))
        case 5:
            frame = .forwardProposal(
                ForwardedProposal(
                    requestID: try reader.u64("request id"), group: GroupID(try reader.u64("group id")),
                    timeoutMilliseconds: try reader.u32("timeout"), command: try reader.blob("command")))
        case 6:
            let requestID = try reader.u64("request id")
            let code = try reader.u8("result code")
            let hint = try reader.u64("leader hint")
            let detail = try reader.blob("result")
            frame = .forwardReply(try ForwardReply(requestID: requestID, code: code, hint: hint, detail: detail))
        case 7:
            frame = .forwardRead(
                ForwardedRead(
                    requestID: try reader.u64("request id"), group: GroupID(try reader.u64("group id")),
                    linearizable: try reader.bool("linearizable"), timeoutMilliseconds: try reader.u32("timeout"),
                    request: try reader.blob("request")))
        case 8:
            let requestID = try reader.u64("request id")
            let group = GroupID(try reader.u64("group id"))
            let timeout = try reader.u32("timeout")
            let code = try reader.u8("operation")
            let node = NodeID(try reader.u64("node id"))
            guard let operation = AdminOperation(code: code, node: node) else {
                throw .malformed("unknown admin operation \(code)")
            }
            frame = .forwardAdmin(
                ForwardedAdmin(requestID: requestID, group: group, timeoutMilliseconds: timeout, operation: operation))
        case 9:
            let group = GroupID(try reader.u64("group id"))
            let incarnation = try reader.u64("incarnation")
            frame = .replicaMessage(group: group, incarnation: incarnation, try MessageCodec.decode(&reader))
        case let kind:
            throw .malformed("unknown frame kind \(kind) at offset \(offset + 3)")
        }
        guard reader.isAtEnd else { throw .malformed("\(end - reader.offset) stray bytes in a frame") }
        return (frame, end)
    }
}

/// One piece of a snapshot in transit. `message` is the core's `.snapshot(metadata)` message, stepped into the
/// receiving core once every byte has arrived and the checksum matched.
public struct SnapshotChunk: Sendable, Equatable {
    public var group: GroupID
    public var message: Message
    /// Length and CRC32C of the whole snapshot data, as the sender's store recorded them.
    public var totalBytes: UInt64
    public var crc: UInt32
    /// Where `data` starts within the snapshot data.
    public var offset: UInt64
    public var data: [UInt8]

    public init(group: GroupID, message: Message, totalBytes: UInt64, crc: UInt32, offset: UInt64, data: [UInt8]) {
        self.group = group
        self.message = message
        self.totalBytes = totalBytes
        self.crc = crc
        self.offset = offset
        self.data = data
    }

    /// The last chunk of the snapshot.
    public var isLast: Bool { offset + UInt64(data.count) >= totalBytes }
}

/// The receiver's answer to a chunk: flow control for the sender, and the end of the transfer.
public struct SnapshotAck: Sendable, Equatable {
    public var group: GroupID
    /// The member that received the chunk.
    public var from: NodeID
    /// The snapshot's index, so that an ack of an older transfer is ignored.
    public var index: LogIndex
    /// Bytes stored so far.
    public var offset: UInt64
    public var accepted: Bool

    public init(group: GroupID, from: NodeID, index: LogIndex, offset: UInt64, accepted: Bool) {
        self.group = group
        self.from = from
        self.index = index
        self.offset = offset
        self.accepted = accepted
    }
}

/// A proposal forwarded to a node that hosts the group.
public struct ForwardedProposal: Sendable, Equatable {
    public var requestID: UInt64
    public var group: GroupID
    public var timeoutMilliseconds: UInt32
    public var command: [UInt8]

    public init(requestID: UInt64, group: GroupID, timeoutMilliseconds: UInt32, command: [UInt8]) {
        self.requestID = requestID
        self.group = group
        self.timeoutMilliseconds = timeoutMilliseconds
        self.command = command
    }
}

/// Why a forwarded proposal failed, as the wire carries it (the host maps these to its own errors).
public enum ForwardFailure: Sendable, Equatable, Error {
    case unknownGroup(GroupID)
    case noLeader(GroupID, leaderHint: NodeID?)
    case timeout(GroupID)
    case rejected(GroupID, Rejection)
    case storageFailed(StorageFailure)
    case shuttingDown
    case damaged(GroupID, String)
}

/// The answer to a forwarded proposal: the state machine's result, or a failure.
public struct ForwardReply: Sendable, Equatable {
    public var requestID: UInt64
    public var outcome: Result<[UInt8], ForwardFailure>

    public init(requestID: UInt64, outcome: Result<[UInt8], ForwardFailure>) {
        self.requestID = requestID
        self.outcome = outcome
    }

    /// Result code (0 success, 1 unknown group, 2 no leader, 3 timeout, 5 storage failed, 6 shutting down,
    /// 7 damaged, 8 rejected; 4 is the previous build's text-only rejection, decoded but no longer sent), the u64
    /// field (leader hint for 2, errno for 5, else the group id or 0) and detail bytes (docs/wire-format.md).
    var wireFields: (UInt8, UInt64, [UInt8]) {
        switch outcome {
        case .success(let bytes): return (0, 0, bytes)
        case .failure(.unknownGroup(let g)): return (1, g.rawValue, [])
        case .failure(.noLeader(let g, let hint)): return (2, hint?.rawValue ?? 0, Array(String(g.rawValue).utf8))
        case .failure(.timeout(let g)): return (3, g.rawValue, [])
        case .failure(.rejected(let g, let rejection)):
            var writer = WireWriter()
            let fields = rejection.wireFields
            writer.u8(fields.reason)
            writer.u8(fields.argument)
            writer.u64(fields.first)
            writer.u64(fields.second)
            writer.bytes += Array(rejection.description.utf8)
            return (8, g.rawValue, writer.bytes)
        case .failure(.storageFailed(let failure)): return (5, failure.wireErrno, Array(failure.message.utf8))
        case .failure(.shuttingDown): return (6, 0, [])
        case .failure(.damaged(let g, let why)): return (7, g.rawValue, Array(why.utf8))
        }
    }

    /// The reply from its wire fields.
    /// - Throws: `WireError.malformed` for an unknown result code, or a rejection shorter than its fixed fields.
    init(requestID: UInt64, code: UInt8, hint: UInt64, detail: [UInt8]) throws(WireError) {
        self.requestID = requestID
        let text = String(decoding: detail, as: UTF8.self)
        switch code {
        case 0: outcome = .success(detail)
        case 1: outcome = .failure(.unknownGroup(GroupID(hint)))
        case 2: outcome = .failure(.noLeader(GroupID(UInt64(text) ?? 0), leaderHint: hint == 0 ? nil : NodeID(hint)))
        case 3: outcome = .failure(.timeout(GroupID(hint)))
        case 4: outcome = .failure(.rejected(GroupID(hint), .other(text)))
        case 5: outcome = .failure(.storageFailed(StorageFailure(wireErrno: hint, message: text)))
        case 6: outcome = .failure(.shuttingDown)
        case 7: outcome = .failure(.damaged(GroupID(hint), text))
        case 8:
            var reader = WireReader(detail, offset: 0)
            let reason = try reader.u8("rejection reason")
            let argument = try reader.u8("rejection argument")
            let first = try reader.u64("rejection argument")
            let second = try reader.u64("rejection argument")
            let sentence = String(decoding: detail[reader.offset...], as: UTF8.self)
            let rejection = Rejection(reason: reason, argument: argument, first: first, second: second, text: sentence)
            outcome = .failure(.rejected(GroupID(hint), rejection))
        default: throw .malformed("unknown forward result code \(code)")
        }
    }
}

/// A read forwarded to a node that hosts the group; `request` is interpreted by that node's read handler.
public struct ForwardedRead: Sendable, Equatable {
    public var requestID: UInt64
    public var group: GroupID
    public var linearizable: Bool
    public var timeoutMilliseconds: UInt32
    public var request: [UInt8]

    public init(requestID: UInt64, group: GroupID, linearizable: Bool, timeoutMilliseconds: UInt32, request: [UInt8]) {
        self.requestID = requestID
        self.group = group
        self.linearizable = linearizable
        self.timeoutMilliseconds = timeoutMilliseconds
        self.request = request
    }
}
