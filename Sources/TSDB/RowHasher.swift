import LineProtocol

/// The hash of one row — series key, time, then each present field in name order — whose wrapping sum over
/// every row is a vnode's checksum: equal on replicas holding the same rows, however they store them (one
/// memtable, or files and a memtable). FNV-1a 64 over the bytes, then SplitMix64's finalizer, so that the sum
/// of many rows stays a good hash.
struct RowHasher {
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    init(key: [UInt8], timestamp: Int64) {
        for byte in key { mix(byte) }
        mix64(UInt64(bitPattern: timestamp))
    }

    /// Adds a field; fields must come in name order.
    mutating func add(_ name: String, _ value: FieldValue) {
        for byte in name.utf8 { mix(byte) }
        switch value {
        case .float(let v):
            mix(0)
            mix64(v.bitPattern)
        case .integer(let v):
            mix(1)
            mix64(UInt64(bitPattern: v))
        case .unsigned(let v):
            mix(2)
            mix64(v)
        case .string(let v):
            mix(3)
            for byte in v.utf8 { mix(byte) }
            mix(0xFF)
        case .boolean(let v):
            mix(4)
            mix(v ? 1 : 0)
        }
    }

    func finish() -> UInt64 {
        var z = hash
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func mix(_ byte: UInt8) {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }

    private mutating func mix64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
