import RaftCore
import Testing

@testable import RaftWire

/// Forward replies: the typed failures (`Rejection`, `StorageFailure`) in golden bytes and round trips, the
/// previous build's text-only forms, and reasons this build does not know.
@Suite struct ForwardReplyTests {
    static func hex(_ bytes: [UInt8]) -> String { WireFrameTests.hex(bytes) }

    static func frame(_ failure: ForwardFailure, requestID: UInt64 = 5) -> WireFrame {
        .forwardReply(ForwardReply(requestID: requestID, outcome: .failure(failure)))
    }

    /// A forward reply's bytes built by hand: header, request id, code, u64 field, detail.
    static func replyBytes(code: UInt8, field: UInt64, detail: [UInt8], requestID: UInt64 = 5) -> [UInt8] {
        var writer = WireWriter()
        writer.bytes += WireFrame.magic
        writer.u8(WireFrame.version)
        writer.u8(6)
        writer.u32(UInt32(8 + 1 + 8 + 4 + detail.count))
        writer.u64(requestID)
        writer.u8(code)
        writer.u64(field)
        writer.blob(detail)
        return writer.bytes
    }

    static func decodedFailure(_ bytes: [UInt8]) throws -> ForwardFailure? {
        guard let (frame, end) = try WireFrame.decode(bytes), end == bytes.count,
            case .forwardReply(let reply) = frame, case .failure(let failure) = reply.outcome
        else { return nil }
        return failure
    }

    static let rejections: [Rejection] = [
        .notMember(NodeID(9)), .lastReplica(NodeID(3)), .notVoter(NodeID(9)), .leadershipMoved(to: NodeID(2)),
        .refused(.notLeader(leaderHint: NodeID(4))), .refused(.notLeader(leaderHint: nil)),
        .refused(.transferInProgress), .refused(.entryTooLarge(bytes: 2_000_000, limit: 1_048_576)),
        .refused(.uncommittedLimitExceeded(limit: 64 << 20)), .refused(.confChangePending),
        .refused(.invalidConfChange(.alreadyJoint)), .refused(.invalidConfChange(.notJoint)),
        .refused(.invalidConfChange(.noVotersLeft)), .refused(.notAVoter(NodeID(7))),
        .invalidChange(.promote(NodeID(4)), .alreadyJoint), .invalidChange(.remove(NodeID(2)), .noVotersLeft),
        .invalidChange(.addLearner(NodeID(5)), .notJoint), .noReadHandler, .other("a reason from elsewhere"),
    ]

    @Test(arguments: rejections) func everyRejectionRoundTrips(rejection: Rejection) throws {
        let frame = Self.frame(.rejected(GroupID(100), rejection))
        let decoded = try #require(try WireFrame.decode(frame.bytes))
        #expect(decoded.0 == frame && decoded.1 == frame.bytes.count)
        // The sentence follows the fixed fields, so that a receiver that does not know the reason still has it.
        #expect(Array(frame.bytes.suffix(rejection.description.utf8.count)) == Array(rejection.description.utf8))
    }

    @Test func rejectionGoldenBytes() {
        let sentence = Array("node 9 is not a member; add it as a learner first".utf8)
        #expect(
            Self.hex(Self.frame(.rejected(GroupID(100), .notMember(NodeID(9)))).bytes)
                == "464c0106" + "58000000" + "0500000000000000" + "08" + "6400000000000000" + "43000000"
                + "01" + "00" + "0900000000000000" + "0000000000000000" + Self.hex(sentence))
        let tooLarge = Rejection.refused(.entryTooLarge(bytes: 0x200, limit: 0x100))
        #expect(
            Self.hex(Self.frame(.rejected(GroupID(1), tooLarge)).bytes)
                == "464c0106" + "4c000000" + "0500000000000000" + "08" + "0100000000000000" + "37000000"
                + "05" + "03" + "0002000000000000" + "0001000000000000" + Self.hex(Array(tooLarge.description.utf8)))
        let change = Rejection.invalidChange(.remove(NodeID(2)), .noVotersLeft)
        #expect(
            Self.hex(Self.frame(.rejected(GroupID(1), change)).bytes)
                == "464c0106" + "42000000" + "0500000000000000" + "08" + "0100000000000000" + "2d000000"
                + "06" + "03" + "0200000000000000" + "0300000000000000" + Self.hex(Array(change.description.utf8)))
    }

    @Test func theSentencesAreTheOnesTheHostAlwaysGave() {
        #expect(Rejection.notMember(NodeID(9)).description == "node 9 is not a member; add it as a learner first")
        #expect(Rejection.lastReplica(NodeID(3)).description == "node 3 holds the last replica of the group")
        #expect(Rejection.notVoter(NodeID(9)).description == "node 9 is not a voter of the group")
        #expect(Rejection.leadershipMoved(to: NodeID(2)).description == "leadership went to node 2 instead")
        #expect(Rejection.refused(.transferInProgress).description == "transferInProgress")
        #expect(
            Rejection.refused(.entryTooLarge(bytes: 10, limit: 5)).description == "entryTooLarge(bytes: 10, limit: 5)")
        #expect(
            Rejection.invalidChange(.promote(NodeID(4)), .alreadyJoint).description
                == "promote node 4 to voter: alreadyJoint")
        #expect(Rejection.noReadHandler.description == "no read handler")
        #expect(Rejection.other("text").description == "text")
    }

    @Test func eachReasonHasItsOwnStableCode() {
        #expect(Rejection.notMember(NodeID(9)).code == "raft.not_member")
        #expect(Rejection.lastReplica(NodeID(9)).code == "raft.last_replica")
        #expect(Rejection.notVoter(NodeID(9)).code == "raft.not_voter")
        #expect(Rejection.leadershipMoved(to: NodeID(9)).code == "raft.leadership_moved")
        #expect(Rejection.refused(.entryTooLarge(bytes: 10, limit: 5)).code == "raft.entry_too_large")
        #expect(Rejection.refused(.uncommittedLimitExceeded(limit: 5)).code == "raft.uncommitted_limit")
        #expect(Rejection.invalidChange(.promote(NodeID(4)), .alreadyJoint).code == "raft.invalid_change")
        #expect(Rejection.noReadHandler.code == "raft.no_read_handler")
        #expect(Rejection.other("text").code == "raft.rejected")
    }

    @Test func thePreviousBuildsTextOnlyRejectionDecodesAsOther() throws {
        let text = "node 9 is not a voter of the group"
        let bytes = Self.replyBytes(code: 4, field: 100, detail: Array(text.utf8))
        #expect(try Self.decodedFailure(bytes) == .rejected(GroupID(100), .other(text)))
    }

    @Test func aReasonThisBuildDoesNotKnowKeepsItsSentence() throws {
        var detail: [UInt8] = [200, 0] + [UInt8](repeating: 0, count: 16)
        detail += Array("a reason from a later build".utf8)
        let unknownReason = Self.replyBytes(code: 8, field: 3, detail: detail)
        #expect(try Self.decodedFailure(unknownReason) == .rejected(GroupID(3), .other("a reason from a later build")))
        // A known reason with an unknown argument (a new RaftError, a new ConfChangeError) is kept as text too.
        detail[0] = 5
        detail[1] = 99
        #expect(
            try Self.decodedFailure(Self.replyBytes(code: 8, field: 3, detail: detail))
                == .rejected(GroupID(3), .other("a reason from a later build")))
        detail[0] = 6
        detail[1] = 2
        detail[10] = 42
        #expect(
            try Self.decodedFailure(Self.replyBytes(code: 8, field: 3, detail: detail))
                == .rejected(GroupID(3), .other("a reason from a later build")))
    }

    @Test func aRejectionShorterThanItsFixedFieldsIsMalformed() {
        let bytes = Self.replyBytes(code: 8, field: 3, detail: [1, 0, 9, 0, 0])
        #expect(throws: WireError.self) { try WireFrame.decode(bytes) }
    }

    @Test(arguments: [
        StorageFailure(errno: 28, "[wal.io] cannot write segment"), StorageFailure(errno: 5, "EIO"),
        StorageFailure("group 3 installed snapshot 9 whose file is missing"),
    ])
    func storageFailuresRoundTripWithTheirErrno(failure: StorageFailure) throws {
        let frame = Self.frame(.storageFailed(failure))
        let decoded = try #require(try WireFrame.decode(frame.bytes))
        #expect(decoded.0 == frame)
    }

    @Test func storageFailureGoldenBytesAndThePreviousBuildsForm() throws {
        let full = Self.frame(.storageFailed(StorageFailure(errno: 28, "disk full")))
        #expect(
            Self.hex(full.bytes)
                == "464c0106" + "1e000000" + "0500000000000000" + "05" + "1c00000000000000" + "09000000"
                + Self.hex(Array("disk full".utf8)))
        // The previous build left the field 0: no errno, the text as it was.
        let old = Self.replyBytes(code: 5, field: 0, detail: Array("write failed (errno 28)".utf8))
        #expect(try Self.decodedFailure(old) == .storageFailed(StorageFailure("write failed (errno 28)")))
    }

    @Test func anUnknownResultCodeIsMalformed() {
        #expect(throws: WireError.malformed("unknown forward result code 9")) {
            try WireFrame.decode(Self.replyBytes(code: 9, field: 0, detail: []))
        }
    }
}
