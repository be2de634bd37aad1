/// Timestamps of one block, sorted ascending, as delta-of-delta codes (the Gorilla paper, VLDB 2015, §4.1.1,
/// widened for nanoseconds): the first timestamp in 64 bits, the first delta in 64 bits (zigzag),
/// then for each next timestamp the change of the delta in a prefix code:
///
/// | prefix  | delta of delta          |
/// |---------|-------------------------|
/// | `0`     | 0                       |
/// | `10`    | 7 bits, zigzag          |
/// | `110`   | 12 bits, zigzag         |
/// | `1110`  | 20 bits, zigzag         |
/// | `11110` | 32 bits, zigzag         |
/// | `11111` | 64 bits, zigzag         |
///
/// Points at a regular interval cost one bit each; jittery ones 9 to 15 bits. Arithmetic wraps, so any `Int64`
/// sequence round-trips.
enum TimestampCodec {
    private static let classes: [(prefix: UInt64, prefixBits: Int, valueBits: Int)] = [
        (0b10, 2, 7), (0b110, 3, 12), (0b1110, 4, 20), (0b11110, 5, 32), (0b11111, 5, 64),
    ]

    static func encode(_ timestamps: ArraySlice<Int64>) -> [UInt8] {
        var writer = BitWriter(reservingCapacity: 16 + timestamps.count / 4)
        guard let first = timestamps.first else { return [] }
        writer.write(UInt64(bitPattern: first), bits: 64)
        var previous = first
        var previousDelta: Int64 = 0
        for (k, timestamp) in timestamps.dropFirst().enumerated() {
            let delta = timestamp &- previous
            if k == 0 {
                writer.write(Varint.zigzag(delta), bits: 64)
            } else {
                let code = Varint.zigzag(delta &- previousDelta)
                if code == 0 {
                    writer.write(0, bits: 1)
                } else {
                    let chosen = classes.first { $0.valueBits == 64 || code < (1 << UInt64($0.valueBits)) }!
                    writer.write(chosen.prefix, bits: chosen.prefixBits)
                    writer.write(code, bits: chosen.valueBits)
                }
            }
            previous = timestamp
            previousDelta = delta
        }
        return writer.bytes
    }

    /// The `count` timestamps in `bytes`; `nil` if the bytes are too short or malformed.
    static func decode(_ bytes: ArraySlice<UInt8>, count: Int) -> [Int64]? {
        guard count > 0 else { return [] }
        var reader = BitReader(bytes)
        guard let first = reader.read(bits: 64) else { return nil }
        var timestamps: [Int64] = []
        timestamps.reserveCapacity(count)
        var previous = Int64(bitPattern: first)
        timestamps.append(previous)
        guard count > 1 else { return timestamps }
        guard let firstDelta = reader.read(bits: 64) else { return nil }
        var delta = Varint.unzigzag(firstDelta)
        previous &+= delta
        timestamps.append(previous)
        while timestamps.count < count {
            guard let code = readCode(&reader) else { return nil }
            delta &+= Varint.unzigzag(code)
            previous &+= delta
            timestamps.append(previous)
        }
        return timestamps
    }

    private static func readCode(_ reader: inout BitReader) -> UInt64? {
        var ones = 0
        while ones < 5 {
            guard let bit = reader.readBit() else { return nil }
            if !bit { break }
            ones += 1
        }
        switch ones {
        case 0: return 0
        case 1: return reader.read(bits: 7)
        case 2: return reader.read(bits: 12)
        case 3: return reader.read(bits: 20)
        case 4: return reader.read(bits: 32)
        default: return reader.read(bits: 64)
        }
    }
}
