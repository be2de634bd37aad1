import RaftCore
import Testing

@testable import RaftStorage

/// CRC-32C golden vectors (the check value and RFC 3720 B.4) and slice-by-8 against the bytewise reference.
@Suite struct CRC32CTests {
    static let vectors: [([UInt8], UInt32)] = [
        (Array("123456789".utf8), 0xE306_9283),
        ([], 0),
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ((0..<32).map { UInt8($0) }, 0x46DD_794E),
        ((0..<32).reversed().map { UInt8($0) }, 0x113F_DB5C),
    ]

    @Test(arguments: vectors) func goldenVector(input: [UInt8], expected: UInt32) {
        #expect(CRC32C.checksum(input) == expected)
        #expect(CRC32C.checksumBytewise(input) == expected)
    }

    @Test func sliceBy8MatchesBytewiseAtEveryLengthAndAlignment() {
        var random = SplitMix64(seed: 42)
        let buffer = (0..<300).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for start in 0..<9 {
            for end in stride(from: start, through: buffer.count, by: 7) {
                let slice = Array(buffer[start..<end])
                let sliced = buffer.withUnsafeBytes {
                    CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<end]))
                }
                #expect(sliced == CRC32C.checksumBytewise(slice), "start \(start) end \(end)")
            }
        }
    }

    @Test func continuingEqualsWhole() {
        let bytes = Array("the quick brown fox jumps over the lazy dog".utf8)
        for split in 0...bytes.count {
            let first = CRC32C.checksum(bytes[..<split])
            #expect(CRC32C.checksum(bytes[split...], continuing: first) == CRC32C.checksum(bytes))
        }
    }
}
