import RaftCore
import Testing

@testable import RaftStorage

/// The record format: golden bytes that must never change, round trips, and torn versus corrupt decoding.
@Suite struct RecordCodecTests {
    /// Each record type's framed bytes. If one of these fails, the on-disk format changed: old logs would no
    /// longer replay. Bump `Segment.formatVersion` and write a migration instead of editing a vector.
    static let golden: [(WALRecord, String)] = [
        (
            .entries(
                GroupID(7),
                [
                    Entry(term: Term(2), index: LogIndex(5), data: [0xAA, 0xBB]),
                    Entry(
                        term: Term(2), index: LogIndex(6),
                        payload: .confChange(ConfChange([.addVoter(NodeID(4)), .remove(NodeID(2))], context: [0x01]))),
                ]),
            "4f0000001968fb6601070000000000000002000000050000000000000002000000000000000002000000aabb06000000000000"
                + "00020000000000000001020000000004000000000000000202000000000000000100000001"
        ),
        (
            .hardState(GroupID(7), HardState(term: Term(3), vote: NodeID(2), commit: LogIndex(5))),
            "20000000f298b5dd020700000000000000030000000000000002000000000000000500000000000000"
        ),
        (
            .hardState(GroupID(7), HardState(term: Term(4), vote: nil, commit: LogIndex(6))),
            "200000002fa4dece020700000000000000040000000000000000000000000000000600000000000000"
        ),
        (
            .snapshot(
                GroupID(7),
                SnapshotMetadata(
                    index: LogIndex(9), term: Term(3),
                    membership: Membership(
                        voters: [3, 1, 2], outgoingVoters: [1, 2], learners: [5], learnersNext: [4])
                )),
            "600000003aefaeb30307000000000000000900000000000000030000000000000003000000010000000000000002000000000000"
                + "0003000000000000000200000001000000000000000200000000000000010000000500000000000000010000000400000000"
                + "000000"
        ),
        (
            .compact(
                GroupID(7), SnapshotMetadata(index: LogIndex(4), term: Term(2), membership: Membership(voters: [1]))),
            "30000000731d765304070000000000000004000000000000000200000000000000010000000100000000000000000000000000"
                + "000000000000"
        ),
        (.truncate(GroupID(7), lastKept: LogIndex(4)), "100000004e36970b0507000000000000000400000000000000"),
        (.removeGroup(GroupID(7)), "08000000f575e272060700000000000000"),
    ]

    @Test(arguments: golden) func goldenBytes(record: WALRecord, expected: String) throws {
        #expect(hex(WALFrame.encode(record)) == expected)
        let (decoded, end) = try WALFrame.decode(bytes(hex: expected), at: 0)
        #expect(decoded == record)
        #expect(end == expected.count / 2)
    }

    @Test(arguments: [UInt64(1), 2, 3]) func randomRecordsRoundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let records = (0..<200).map { _ in RandomRecords.record(&random) }
        var buffer: [UInt8] = []
        for record in records { WALFrame.append(record, to: &buffer) }
        var offset = 0
        for record in records {
            let (decoded, end) = try WALFrame.decode(buffer, at: offset)
            #expect(decoded == record, "seed \(seed) offset \(offset)")
            offset = end
        }
        #expect(offset == buffer.count)
    }

    @Test func everyCutIsTornWithItsOffset() {
        let frame = bytes(hex: Self.golden[0].1)
        let prefix: [UInt8] = [1, 2, 3]
        for cut in 0..<frame.count {
            let bytes = prefix + frame[..<cut]
            #expect(throws: RecordDecodeError.torn(offset: 3, needed: cut < 9 ? 9 : frame.count, available: cut)) {
                try WALFrame.decode(bytes, at: 3)
            }
        }
    }

    @Test func everyBitFlipAfterTheLengthIsCorrupt() throws {
        let frame = bytes(hex: Self.golden[1].1)
        for bit in (4 * 8)..<(frame.count * 8) {
            var damaged = frame
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(throws: RecordDecodeError.self) { try WALFrame.decode(damaged, at: 0) }
            do {
                _ = try WALFrame.decode(damaged, at: 0)
            } catch {
                guard case .corrupt(0, .checksumMismatch) = error else {
                    Issue.record("bit \(bit): \(error)")
                    continue
                }
            }
        }
    }

    @Test func impossibleLengthIsCorruptNotTorn() {
        var frame = bytes(hex: Self.golden[1].1)
        frame.storeLE(UInt32(WALFrame.maxPayloadSize + 1), at: 0)
        #expect(throws: RecordDecodeError.corrupt(offset: 0, reason: .badLength(UInt32(WALFrame.maxPayloadSize + 1)))) {
            try WALFrame.decode(frame, at: 0)
        }
    }

    @Test func unknownTypeAndMalformedPayloadWithValidChecksum() {
        func framed(type: UInt8, payload: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            out.appendLE(UInt32(payload.count))
            out.appendLE(CRC32C.checksum([type] + payload))
            out.append(type)
            out += payload
            return out
        }
        #expect(throws: RecordDecodeError.corrupt(offset: 0, reason: .unknownType(99))) {
            try WALFrame.decode(framed(type: 99, payload: [0]), at: 0)
        }
        #expect(throws: RecordDecodeError.corrupt(offset: 0, reason: .malformedPayload(.hardState))) {
            try WALFrame.decode(framed(type: 2, payload: [1, 2, 3]), at: 0)
        }
        let truncate = WALFrame.encode(.truncate(GroupID(1), lastKept: LogIndex(2)))
        #expect(throws: RecordDecodeError.corrupt(offset: 0, reason: .malformedPayload(.truncate))) {
            try WALFrame.decode(framed(type: 5, payload: Array(truncate[9...]) + [0]), at: 0)
        }
    }
}
