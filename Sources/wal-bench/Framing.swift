import RaftCore
import RaftStorage

/// The CPU side of an append, without the disk: how fast records are framed (encoded and checksummed).
struct FramingCost {
    /// CRC-32C over a 1 MiB buffer, in MB/s.
    var crcMegabytesPerSecond: Double
    /// `WALFrame.append` of one batch of each cell's shape, in microseconds, keyed "batch x entry size".
    var encodeMicroseconds: [(batch: Int, entrySize: Int, micros: Double)]
}

/// Runs `body` repeatedly for about `seconds`; returns the seconds per call.
func timePerCall(seconds: Double, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    var calls = 0
    var now = start
    repeat {
        for _ in 0..<8 { body() }
        calls += 8
        now = clock.now
    } while (now - start).seconds < seconds
    return (now - start).seconds / Double(calls)
}

func measureFraming(batches: [Int], entrySizes: [Int]) -> FramingCost {
    let megabyte = randomPayloads(count: 1, size: 1 << 20, seed: 5)[0]
    var sink: UInt32 = 0
    let crc = timePerCall(seconds: 0.3) { sink ^= CRC32C.checksum(megabyte) }
    var encode: [(Int, Int, Double)] = []
    var buffer: [UInt8] = []
    for entrySize in entrySizes {
        for batch in batches {
            let entries = randomPayloads(count: batch, size: entrySize, seed: 3).enumerated()
                .map { Entry(term: Term(1), index: LogIndex(UInt64($0.offset + 1)), data: $0.element) }
            let record = WALRecord.entries(GroupID(7), entries)
            let seconds = timePerCall(seconds: 0.1) {
                buffer.removeAll(keepingCapacity: true)
                WALFrame.append(record, to: &buffer)
            }
            sink ^= UInt32(truncatingIfNeeded: buffer.count)
            encode.append((batch, entrySize, seconds * 1e6))
        }
    }
    if sink == 0x1234_5678 { print("") }  // keeps the checksums from being optimised away
    return FramingCost(crcMegabytesPerSecond: Double(1 << 20) / crc / 1e6, encodeMicroseconds: encode)
}
