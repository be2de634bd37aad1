import RaftStorage

/// How every durable piece of the engine is framed — a chunk, a file's index, the manifest, a snapshot's header
/// and frames: its payload, then the payload's CRC32C (u32, little-endian).
enum Checksummed {
    /// Appends `payload` and its checksum to `bytes`.
    static func append(_ payload: some Collection<UInt8>, to bytes: inout [UInt8]) {
        bytes += payload
        put32(CRC32C.checksum(payload), &bytes)
    }

    /// `bytes` (payload + checksum) split into the payload and the stored and computed checksums; `nil` when
    /// shorter than a checksum.
    static func split(_ bytes: ArraySlice<UInt8>) -> (payload: ArraySlice<UInt8>, stored: UInt32, computed: UInt32)? {
        guard bytes.count >= 4 else { return nil }
        let payload = bytes.dropLast(4)
        var reader = BinaryReader(bytes.suffix(4))
        guard let stored = try? reader.u32() else { return nil }
        return (payload, stored, CRC32C.checksum(payload))
    }

    /// The payload of `bytes` if its checksum matches.
    static func payload(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard let (payload, stored, computed) = split(bytes), stored == computed else { return nil }
        return payload
    }
}
