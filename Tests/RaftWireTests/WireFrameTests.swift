import RaftCore
import Testing

@testable import RaftWire

/// The wire format: golden bytes that must never change, round trips of every message kind, and garbage.
@Suite struct WireFrameTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test func handshakeGoldenBytes() throws {
        let frame = WireFrame.handshake(clusterID: 0x0102_0304_0506_0708, nodeID: NodeID(3))
        #expect(Self.hex(frame.bytes) == "464c0100" + "10000000" + "0807060504030201" + "0300000000000000")
    }

    @Test func heartbeatGoldenBytes() throws {
        let message = Message(
            from: 1, to: 2, term: 5,
            body: .heartbeat(Heartbeat(commit: 9, context: HeartbeatContext(round: 3, sentAt: 7))))
        let frame = WireFrame.message(group: GroupID(42), message)
        #expect(
            Self.hex(frame.bytes)
                == "464c0101" + "39000000" + "2a00000000000000" + "0100000000000000" + "0200000000000000"
                + "0500000000000000" + "04" + "0900000000000000" + "0300000000000000" + "0700000000000000")
    }

    @Test func replicaMessageGoldenBytesAndRoundTrip() throws {
        let message = Message(
            from: 1, to: 2, term: 5,
            body: .heartbeat(Heartbeat(commit: 9, context: HeartbeatContext(round: 3, sentAt: 7))))
        let frame = WireFrame.replicaMessage(group: GroupID(42), incarnation: 0x107, message)
        #expect(
            Self.hex(frame.bytes)
                == "464c0109" + "41000000" + "2a00000000000000" + "0701000000000000" + "0100000000000000"
                + "0200000000000000" + "0500000000000000" + "04" + "0900000000000000" + "0300000000000000"
                + "0700000000000000")
        let decoded = try #require(try WireFrame.decode(frame.bytes))
        #expect(decoded.0 == frame && decoded.1 == frame.bytes.count)
    }

    @Test func pingAndSnapshotAckGoldenBytes() throws {
        #expect(Self.hex(WireFrame.ping.bytes) == "464c0102" + "00000000")
        let ack = WireFrame.snapshotAck(
            SnapshotAck(group: GroupID(2), from: NodeID(3), index: LogIndex(4), offset: 5, accepted: true))
        #expect(
            Self.hex(ack.bytes)
                == "464c0104" + "21000000" + "0200000000000000" + "0300000000000000" + "0400000000000000"
                + "0500000000000000" + "01")
    }

    @Test func forwardedAdminGoldenBytesAndRoundTrip() throws {
        let operations: [AdminOperation] = [
            .addLearner(NodeID(4)), .promote(NodeID(4)), .remove(NodeID(2)), .transferLeadership(NodeID(3)),
        ]
        for operation in operations {
            let frame = WireFrame.forwardAdmin(
                ForwardedAdmin(requestID: 9, group: GroupID(100), timeoutMilliseconds: 5_000, operation: operation))
            let decoded = try #require(try WireFrame.decode(frame.bytes))
            #expect(decoded.0 == frame)
        }
        let remove = WireFrame.forwardAdmin(
            ForwardedAdmin(requestID: 9, group: GroupID(100), timeoutMilliseconds: 5_000, operation: .remove(NodeID(2)))
        )
        #expect(
            Self.hex(remove.bytes)
                == "464c0108" + "1d000000" + "0900000000000000" + "6400000000000000" + "88130000" + "03"
                + "0200000000000000")
        var unknown = remove.bytes
        unknown[8 + 20] = 9
        #expect(throws: WireError.self) { try WireFrame.decode(unknown) }
    }

    @Test func snapshotChunksRoundTripAndRefuseOtherMessages() throws {
        let metadata = SnapshotMetadata(index: 10, term: 2, membership: Membership(voters: [1, 2, 3]))
        let message = Message(from: 1, to: 3, term: 2, body: .snapshot(metadata))
        let chunk = SnapshotChunk(
            group: GroupID(5), message: message, totalBytes: 300, crc: 0xDEAD_BEEF, offset: 256, data: [1, 2, 3])
        let bytes = WireFrame.snapshotChunk(chunk).bytes
        let (decoded, end) = try #require(try WireFrame.decode(bytes))
        #expect(decoded == .snapshotChunk(chunk))
        #expect(end == bytes.count)
        #expect(!chunk.isLast)
        var wrong = chunk
        wrong.message = Message(from: 1, to: 3, term: 2, body: .timeoutNow)
        #expect(throws: WireError.self) { try WireFrame.decode(WireFrame.snapshotChunk(wrong).bytes) }
    }

    static let bodies: [Message.Body] = [
        .append(
            AppendEntries(
                prevIndex: 4, prevTerm: 2,
                entries: [
                    Entry(term: 3, index: 5, data: [1, 2, 3]),
                    Entry(
                        term: 3, index: 6, payload: .confChange(ConfChange([.addVoter(4), .remove(2)], context: [9]))),
                ], commit: 5)),
        .append(AppendEntries(prevIndex: 0, prevTerm: 0, entries: [], commit: 0)),
        .appendResponse(AppendResponse(index: 7, reject: true, hintIndex: 5, hintTerm: 2)),
        .vote(VoteRequest(preVote: true, lastIndex: 8, lastTerm: 3, transfer: false)),
        .vote(VoteRequest(preVote: false, lastIndex: 8, lastTerm: 3, transfer: true)),
        .voteResponse(VoteResponse(preVote: true, granted: false)),
        .heartbeat(Heartbeat(commit: 3, context: HeartbeatContext(round: 1, sentAt: 2))),
        .heartbeatResponse(HeartbeatContext(round: 4, sentAt: 5)),
        .snapshot(
            SnapshotMetadata(
                index: 100, term: 4,
                membership: Membership(voters: [1, 2], outgoingVoters: [1, 2, 3], learners: [5], learnersNext: [3]))),
        .timeoutNow,
        .forwardedProposals([.data([7, 7]), .confChange(ConfChange([.addLearner(9)]))]),
        .readIndex(context: 77),
        .readIndexResponse(ReadState(context: 77, index: 12)),
    ]

    @Test(arguments: bodies) func everyMessageRoundTrips(body: Message.Body) throws {
        let message = Message(from: 3, to: 1, term: 9, body: body)
        let bytes = WireFrame.message(group: GroupID(7), message).bytes
        let (frame, end) = try #require(try WireFrame.decode(bytes))
        #expect(frame == .message(group: GroupID(7), message))
        #expect(end == bytes.count)
        // Every strict prefix is "need more bytes", never an error or a wrong frame.
        for cut in 0..<bytes.count {
            #expect(try WireFrame.decode(Array(bytes[..<cut])) == nil)
        }
    }

    @Test func consecutiveFramesDecodeInTurn() throws {
        var buffer: [UInt8] = []
        WireFrame.handshake(clusterID: 1, nodeID: 2).encode(into: &buffer)
        WireFrame.message(group: 3, Message(from: 2, to: 1, term: 1, body: .timeoutNow)).encode(into: &buffer)
        let (first, next) = try #require(try WireFrame.decode(buffer))
        let (second, end) = try #require(try WireFrame.decode(buffer, at: next))
        #expect(first == .handshake(clusterID: 1, nodeID: 2))
        #expect(second == .message(group: 3, Message(from: 2, to: 1, term: 1, body: .timeoutNow)))
        #expect(end == buffer.count)
    }

    @Test func strangersAndOversizedFramesAreRefusedWithAReason() {
        #expect(throws: WireError.badMagic(offset: 0)) { try WireFrame.decode(Array("GET / HTTP/1.1\r\n".utf8)) }
        #expect(throws: WireError.unsupportedVersion(9)) { try WireFrame.decode([0x46, 0x4C, 9, 0, 0, 0, 0, 0]) }
        #expect(throws: WireError.frameTooLarge(length: 1 << 30, limit: 1 << 20)) {
            try WireFrame.decode([0x46, 0x4C, 1, 1, 0, 0, 0, 0x40], maxFrameBytes: 1 << 20)
        }
        #expect(throws: WireError.self) { try WireFrame.decode([0x46, 0x4C, 1, 7, 0, 0, 0, 0]) }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var random = SplitMix64(seed: 99)
        let valid = WireFrame.message(group: 1, Message(from: 1, to: 2, term: 3, body: Self.bodies[0])).bytes
        for _ in 0..<5_000 {
            var bytes = valid
            for _ in 0..<(1 + Int(random.next() % 4)) {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            _ = try? WireFrame.decode(bytes, maxFrameBytes: 1 << 16)
        }
    }
}
