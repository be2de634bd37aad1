/// Joining two checksums without the bytes: what lets a snapshot's checksum cover a header written last.
extension CRC32C {
    /// The CRC-32C of `a + b`, given `crcA = checksum(a)`, `crcB = checksum(b)` and `b.count == lengthB`.
    ///
    /// zlib's `crc32_combine` with the Castagnoli polynomial: appending `lengthB` zero bits to `a` is a
    /// linear operator over GF(2), applied by repeated squaring of the one-zero-bit matrix, O(log lengthB).
    public static func combine(_ crcA: UInt32, _ crcB: UInt32, lengthB: UInt64) -> UInt32 {
        guard lengthB > 0 else { return crcA }
        var odd = [UInt32](repeating: 0, count: 32)
        odd[0] = 0x82F6_3B78
        for n in 1..<32 { odd[n] = 1 << UInt32(n - 1) }
        var even = square(odd)  // two zero bits
        odd = square(even)  // four zero bits
        var crc = crcA
        var length = lengthB
        repeat {
            even = square(odd)
            if length & 1 != 0 { crc = times(even, crc) }
            length >>= 1
            if length == 0 { break }
            odd = square(even)
            if length & 1 != 0 { crc = times(odd, crc) }
            length >>= 1
        } while length != 0
        return crc ^ crcB
    }

    private static func times(_ matrix: [UInt32], _ vector: UInt32) -> UInt32 {
        var sum: UInt32 = 0
        var vector = vector
        var row = 0
        while vector != 0 {
            if vector & 1 != 0 { sum ^= matrix[row] }
            vector >>= 1
            row += 1
        }
        return sum
    }

    private static func square(_ matrix: [UInt32]) -> [UInt32] { matrix.map { times(matrix, $0) } }
}
