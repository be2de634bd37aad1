/// Why the bytes at an offset of a segment are not a whole, valid record.
///
/// `torn` means the bytes end before the record does: what a crash during the last write leaves behind.
/// `corrupt` means the bytes are all there but wrong. Recovery truncates either at the tail of the last
/// segment and refuses to open the log for either anywhere else.
public enum RecordDecodeError: Error, Sendable, Equatable {
    /// The record starting at `offset` needs `needed` bytes but only `available` remain.
    case torn(offset: Int, needed: Int, available: Int)
    /// The record starting at `offset` is damaged.
    case corrupt(offset: Int, reason: Corruption)

    /// The byte offset (from the start of the segment file) of the record that failed.
    public var offset: Int {
        switch self {
        case .torn(let offset, _, _), .corrupt(let offset, _): return offset
        }
    }

    /// What is wrong with a corrupt record.
    public enum Corruption: Sendable, Equatable, CustomStringConvertible {
        /// The stored CRC-32C does not match the type byte and payload.
        case checksumMismatch(stored: UInt32, computed: UInt32)
        /// The length field exceeds `WALFrame.maxPayloadSize`.
        case badLength(UInt32)
        /// The checksum matches but the type byte names no known record type.
        case unknownType(UInt8)
        /// The checksum matches but the payload does not decode as its type.
        case malformedPayload(WALRecord.Kind)

        public var description: String {
            switch self {
            case .checksumMismatch(let stored, let computed):
                return "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)))"
            case .badLength(let length): return "impossible payload length \(length)"
            case .unknownType(let type): return "unknown record type \(type)"
            case .malformedPayload(let kind): return "malformed \(kind) payload"
            }
        }

        private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: true) }
    }
}
