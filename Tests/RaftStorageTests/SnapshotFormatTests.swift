import RaftCore
import Testing

@testable import RaftStorage

/// The snapshot file format: golden bytes that must never change, file names, and the checksum combination
/// the writer relies on.
@Suite struct SnapshotFormatTests {
    /// If this fails, the snapshot format changed: stored snapshots would no longer open. Bump
    /// `SnapshotHeader.formatVersion` instead of editing the vector.
    @Test func goldenFile() throws {
        try withTemporaryDirectory { dir in
            let store = try SnapshotStore.open(directory: dir)
            let metadata = SnapshotMetadata(
                index: LogIndex(9), term: Term(3),
                membership: Membership(voters: [3, 1], outgoingVoters: [1], learners: [5], learnersNext: []))
            let writer = try store.beginWrite(group: GroupID(7), metadata: metadata)
            try writer.write([0xAA])
            try writer.write([0xBB, 0xCC])
            let checksum = try writer.finish()
            let file = try readFile(dir + "/snap-0000000000000007-0000000000000009-0000000000000003.snap")
            let expected =
                "464c534e50" + "0100"  // "FLSNP", version 1
                + "0700000000000000" + "0900000000000000" + "0300000000000000"  // group, index, term
                + "02000000" + "0100000000000000" + "0300000000000000"  // voters 1, 3
                + "01000000" + "0100000000000000"  // outgoing voters 1
                + "01000000" + "0500000000000000"  // learners 5
                + "00000000"  // learners next
                + "0300000000000000"  // data length
                + "aabbcc"  // data
            let crc = CRC32C.checksum(bytes(hex: expected))
            #expect(hex(file) == expected + hex([0, 8, 16, 24].map { UInt8(truncatingIfNeeded: crc >> $0) }))
            #expect(checksum == SnapshotChecksum(dataLength: 3, crc: crc))
            #expect(crc == 0x6AB4_58A6)
        }
    }

    @Test func fileNames() {
        let stem = SnapshotFileName.stem(group: GroupID(0xAB), index: LogIndex(1), term: Term(2))
        #expect(stem == "snap-00000000000000ab-0000000000000001-0000000000000002")
        #expect(SnapshotFileName.parse(stem + ".snap")?.group == GroupID(0xAB))
        #expect(SnapshotFileName.parse(stem + ".tmp", suffix: ".tmp")?.term == Term(2))
        #expect(SnapshotFileName.parse(stem + ".tmp") == nil)
        #expect(SnapshotFileName.parse("snap-00000000000000AB-0000000000000001-0000000000000002.snap") == nil)
        #expect(SnapshotFileName.parse("wal-0000000000000000.log") == nil)
    }

    @Test func combineEqualsChecksumOfTheConcatenation() {
        var random = SplitMix64(seed: 11)
        let bytes = (0..<5000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for split in [0, 1, 7, 8, 100, 2049, 4999, 5000] {
            let a = CRC32C.checksum(bytes[..<split])
            let b = CRC32C.checksum(bytes[split...])
            #expect(
                CRC32C.combine(a, b, lengthB: UInt64(bytes.count - split)) == CRC32C.checksum(bytes), "split \(split)")
        }
    }
}
