import RaftCore

/// The simulated state machine: a map of small integer keys to values, with an order-independent checksum
/// that is updated in O(1) per write, so replicas and snapshots can be compared cheaply.
struct KeyValueState: Equatable {
    var values: [UInt64: UInt64] = [:]
    var checksum: UInt64 = 0

    static func mix(_ key: UInt64, _ value: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: key &* 0x100_0000_01B3 ^ value)
        return generator.next()
    }

    mutating func apply(key: UInt64, value: UInt64) {
        if let old = values[key] { checksum &-= Self.mix(key, old) }
        values[key] = value
        checksum &+= Self.mix(key, value)
    }
}

/// The encoding of a simulated write: 16 bytes, key then value, little-endian.
enum SimulatedWrite {
    static func encode(key: UInt64, value: UInt64) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: key >> UInt64(shift))) }
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> (key: UInt64, value: UInt64)? {
        guard bytes.count == 16 else { return nil }
        var key: UInt64 = 0
        var value: UInt64 = 0
        for i in 0..<8 {
            key |= UInt64(bytes[i]) << UInt64(8 * i)
            value |= UInt64(bytes[8 + i]) << UInt64(8 * i)
        }
        return (key, value)
    }

    /// A fingerprint of any entry payload, for comparing entries across members.
    static func fingerprint(_ payload: Entry.Payload) -> UInt64 {
        switch payload {
        case .data(let bytes):
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            return hash
        case .confChange(let change):
            var hash: UInt64 = 0x1234_5678
            for operation in change.operations {
                switch operation {
                case .addVoter(let n): hash = (hash ^ (n.rawValue << 2 | 1)) &* 0x100_0000_01B3
                case .addLearner(let n): hash = (hash ^ (n.rawValue << 2 | 2)) &* 0x100_0000_01B3
                case .remove(let n): hash = (hash ^ (n.rawValue << 2 | 3)) &* 0x100_0000_01B3
                }
            }
            return hash
        }
    }
}
