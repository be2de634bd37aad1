/// The frame around each record: `[u32 payload length][u32 CRC-32C of type byte + payload][u8 type][payload]`,
/// little-endian. See `docs/wal-format.md`.
public enum WALFrame {
    /// Bytes before the payload: length, checksum and type.
    public static let headerSize = 9
    /// The largest payload a record may carry (128 MiB). A larger length field is corruption, not a torn write.
    public static let maxPayloadSize = 128 << 20

    /// Appends `record`, framed, to `out`.
    public static func append(_ record: WALRecord, to out: inout [UInt8]) {
        let start = out.count
        out.appendLE(UInt32(0))
        out.appendLE(UInt32(0))
        out.appendLE(record.kind.rawValue)
        record.encodePayload(into: &out)
        let length = out.count - start - headerSize
        let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 8)...])) }
        out.storeLE(UInt32(length), at: start)
        out.storeLE(crc, at: start + 4)
    }

    /// The framed bytes of one record.
    public static func encode(_ record: WALRecord) -> [UInt8] {
        var out: [UInt8] = []
        append(record, to: &out)
        return out
    }

    /// Decodes the record that starts at `offset` in `bytes` (`offset` is also what errors report).
    /// - Returns: the record and the offset just after it.
    public static func decode(_ bytes: [UInt8], at offset: Int) throws(RecordDecodeError) -> (WALRecord, end: Int) {
        let available = bytes.count - offset
        guard available >= headerSize else {
            throw .torn(offset: offset, needed: headerSize, available: available)
        }
        var header = ByteReader(bytes[offset..<(offset + 8)])
        let length = header.readU32()!
        let stored = header.readU32()!
        guard length <= maxPayloadSize else { throw .corrupt(offset: offset, reason: .badLength(length)) }
        let end = offset + headerSize + Int(length)
        guard end <= bytes.count else {
            throw .torn(offset: offset, needed: headerSize + Int(length), available: available)
        }
        let computed = bytes.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(offset + 8)..<end]))
        }
        guard computed == stored else {
            throw .corrupt(offset: offset, reason: .checksumMismatch(stored: stored, computed: computed))
        }
        let type = bytes[offset + 8]
        guard let kind = WALRecord.Kind(rawValue: type) else {
            throw .corrupt(offset: offset, reason: .unknownType(type))
        }
        guard let record = WALRecord.decodePayload(kind: kind, bytes[(offset + headerSize)..<end]) else {
            throw .corrupt(offset: offset, reason: .malformedPayload(kind))
        }
        return (record, end)
    }
}
