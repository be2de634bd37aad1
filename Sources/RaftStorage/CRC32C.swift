/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL record.
///
/// Table-driven, slice-by-8: eight bytes per step through eight 256-entry tables. `checksum("123456789")`
/// is `0xE3069283`. The value is the standard one (initial value and final XOR `0xFFFFFFFF`), so it
/// matches iSCSI (RFC 3720), ext4 and every other CRC-32C implementation.
public enum CRC32C {
    /// The CRC-32C of `bytes`, continuing from `crc` (the checksum of the bytes before them; 0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var state = ~crc
        var offset = 0
        let count = bytes.count
        table.withUnsafeBufferPointer { t in
            while count - offset >= 8 {
                let one = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian ^ state
                let two = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self).littleEndian
                state =
                    t[7 * 256 + Int(one & 0xFF)] ^ t[6 * 256 + Int((one >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((one >> 16) & 0xFF)] ^ t[4 * 256 + Int(one >> 24)]
                    ^ t[3 * 256 + Int(two & 0xFF)] ^ t[2 * 256 + Int((two >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((two >> 16) & 0xFF)] ^ t[Int(two >> 24)]
                offset += 8
            }
            while offset < count {
                state = t[Int((state ^ UInt32(bytes[offset])) & 0xFF)] ^ (state >> 8)
                offset += 1
            }
        }
        return ~state
    }

    /// The CRC-32C of a byte collection, continuing from `crc`.
    public static func checksum<Bytes: Sequence<UInt8>>(_ bytes: Bytes, continuing crc: UInt32 = 0) -> UInt32 {
        let contiguous = bytes.withContiguousStorageIfAvailable {
            checksum(UnsafeRawBufferPointer($0), continuing: crc)
        }
        if let contiguous { return contiguous }
        return Array(bytes).withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// The byte-at-a-time reference algorithm; slice-by-8 must agree with it (tests check).
    static func checksumBytewise(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        var state = ~crc
        for byte in bytes { state = table[Int((state ^ UInt32(byte)) & 0xFF)] ^ (state >> 8) }
        return ~state
    }

    /// Eight tables of 256 entries, flattened: table k gives the CRC of a byte followed by k zero bytes.
    static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 {
                let previous = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()
}
