/// Naming and header of segment files: `wal-<16 lowercase hex digits>.log`, where the number is the sequence
/// number of the segment's first record, and each file starts with `"FLWAL"` and a u16 format version.
enum Segment {
    static let magic: [UInt8] = Array("FLWAL".utf8)
    static let formatVersion: UInt16 = 1
    /// Magic and version.
    static let headerSize = 7

    /// The header every segment starts with.
    static var header: [UInt8] {
        var bytes = magic
        bytes.appendLE(formatVersion)
        return bytes
    }

    /// The file name of the segment whose first record has sequence number `firstSequence`.
    static func fileName(firstSequence: UInt64) -> String {
        let hex = String(firstSequence, radix: 16)
        return "wal-" + String(repeating: "0", count: 16 - hex.count) + hex + ".log"
    }

    /// The first sequence number encoded in a segment file name, or `nil` if `name` is not a segment's.
    static func firstSequence(fileName name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log"), name.utf8.count == 24 else { return nil }
        let digits = name.dropFirst(4).dropLast(4)
        guard digits.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return UInt64(digits, radix: 16)
    }

    /// Why `bytes` do not start with a valid header, or `nil` if they do.
    static func headerProblem(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= headerSize, Array(bytes[0..<5]) == magic else {
            return "the file does not start with the FLWAL magic"
        }
        let version = UInt16(bytes[5]) | UInt16(bytes[6]) << 8
        guard version == formatVersion else { return "unsupported WAL format version \(version)" }
        return nil
    }
}
