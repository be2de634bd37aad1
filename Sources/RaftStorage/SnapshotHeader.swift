import RaftCore

/// The header of a snapshot file (see `docs/wal-format.md`, "Snapshot files"): magic `FLSNP`, format version,
/// group, index, term, membership encoded as in WAL snapshot records, and the data length, little-endian.
struct SnapshotHeader: Sendable, Equatable {
    static let magic: [UInt8] = Array("FLSNP".utf8)
    static let formatVersion: UInt16 = 1
    /// Bytes after the data: the CRC-32C of everything before it.
    static let trailerSize = 4

    var group: GroupID
    var metadata: SnapshotMetadata
    var dataLength: UInt64

    /// The header's bytes.
    func encode() -> [UInt8] {
        var out = Self.magic
        out.appendLE(Self.formatVersion)
        out.appendLE(group.rawValue)
        out.appendLE(metadata.index.rawValue)
        out.appendLE(metadata.term.rawValue)
        WALRecord.encode(metadata.membership, into: &out)
        out.appendLE(dataLength)
        return out
    }

    /// The outcome of decoding a file's first bytes.
    enum Decoded: Equatable {
        /// A header, and its size in bytes.
        case header(SnapshotHeader, size: Int)
        /// The bytes end inside the header: read more (if the file has more).
        case needMoreBytes
        /// Not a valid header, and why.
        case invalid(String)
    }

    /// Decodes the header at the start of `bytes` (a prefix of the file).
    static func decode(_ bytes: [UInt8]) -> Decoded {
        guard bytes.count >= 7 else { return .needMoreBytes }
        guard Array(bytes[0..<5]) == magic else { return .invalid("the file does not start with the FLSNP magic") }
        var reader = ByteReader(bytes[5...])
        let version = reader.readU16()!
        guard version == formatVersion else { return .invalid("unsupported snapshot format version \(version)") }
        guard let group = reader.readU64(), let index = reader.readU64(), let term = reader.readU64() else {
            return .needMoreBytes
        }
        var sets: [Set<NodeID>] = []
        for _ in 0..<4 {
            guard let count = reader.readU32() else { return .needMoreBytes }
            guard count <= UInt32(Int32.max) / 8 else { return .invalid("impossible membership size \(count)") }
            guard reader.remaining >= Int(count) * 8 else { return .needMoreBytes }
            sets.append(Set((0..<count).map { _ in NodeID(reader.readU64()!) }))
        }
        guard let dataLength = reader.readU64() else { return .needMoreBytes }
        let membership = Membership(voters: sets[0], outgoingVoters: sets[1], learners: sets[2], learnersNext: sets[3])
        let header = SnapshotHeader(
            group: GroupID(group),
            metadata: SnapshotMetadata(index: LogIndex(index), term: Term(term), membership: membership),
            dataLength: dataLength)
        return .header(header, size: reader.position)
    }
}
