/// Little-endian appends onto a byte array: how every WAL structure is encoded.
extension Array where Element == UInt8 {
    mutating func appendLE(_ value: UInt8) { append(value) }

    mutating func appendLE(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func appendLE(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func appendLE(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// A u32 length followed by the bytes.
    mutating func appendLengthPrefixed(_ bytes: [UInt8]) {
        appendLE(UInt32(bytes.count))
        append(contentsOf: bytes)
    }

    /// Overwrites four bytes at `offset` with `value`, little-endian (to fill in a length or a checksum).
    mutating func storeLE(_ value: UInt32, at offset: Int) {
        for k in 0..<4 { self[offset + k] = UInt8(truncatingIfNeeded: value >> UInt32(8 * k)) }
    }
}
