import RaftCore

/// The length of a snapshot's data and the CRC-32C of its whole file before the trailer (header and data).
///
/// The sender reads it from its `SnapshotReader` and sends it with the snapshot; the receiver passes it to
/// `SnapshotStore.beginWrite(group:metadata:expecting:)`, whose `finish()` then refuses data that differs.
/// Two nodes encode the same group and metadata into the same header, so the checksums agree exactly when the
/// header fields and the data do.
public struct SnapshotChecksum: Sendable, Hashable {
    /// The number of data bytes (the state machine's bytes, without header or trailer).
    public var dataLength: UInt64
    /// CRC-32C of the header followed by the data: the file's trailer.
    public var crc: UInt32

    public init(dataLength: UInt64, crc: UInt32) {
        self.dataLength = dataLength
        self.crc = crc
    }

    /// The checksum of the file that `group`'s snapshot at `metadata` becomes when its `dataLength` data bytes
    /// have `dataCRC` as their CRC-32C: what a sender that streams its data without writing a file declares.
    public init(group: GroupID, metadata: SnapshotMetadata, dataLength: UInt64, dataCRC: UInt32) {
        let header = SnapshotHeader(group: group, metadata: metadata, dataLength: dataLength).encode()
        self.init(dataLength: dataLength, crc: CRC32C.combine(CRC32C.checksum(header), dataCRC, lengthB: dataLength))
    }
}
