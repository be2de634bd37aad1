/// Appends values of 1 to 64 bits to a byte array, most significant bit first: what the Gorilla codecs
/// (timestamps, floats) write their variable-length codes with.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    /// Bits still free in the last byte (0: a new byte is needed).
    private var free = 0

    init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Appends the low `count` bits of `value` (1...64), highest first.
    mutating func write(_ value: UInt64, bits count: Int) {
        var remaining = count
        while remaining > 0 {
            if free == 0 {
                bytes.append(0)
                free = 8
            }
            let take = min(free, remaining)
            let chunk = UInt8(truncatingIfNeeded: (value >> UInt64(remaining - take)) & ((1 << UInt64(take)) - 1))
            bytes[bytes.count - 1] |= chunk << UInt8(free - take)
            free -= take
            remaining -= take
        }
    }

    mutating func write(bit: Bool) { write(bit ? 1 : 0, bits: 1) }
}

/// Reads what a `BitWriter` wrote; `nil` past the end (a damaged or truncated block).
struct BitReader {
    private let bytes: ArraySlice<UInt8>
    private var position: Int
    /// Bits not yet read in `bytes[position]`.
    private var left = 8

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    mutating func read(bits count: Int) -> UInt64? {
        var value: UInt64 = 0
        var remaining = count
        while remaining > 0 {
            guard position < bytes.endIndex else { return nil }
            let take = min(left, remaining)
            let byte = UInt64(bytes[position])
            let chunk = (byte >> UInt64(left - take)) & ((1 << UInt64(take)) - 1)
            value = (value << UInt64(take)) | chunk
            left -= take
            remaining -= take
            if left == 0 {
                position += 1
                left = 8
            }
        }
        return value
    }

    mutating func readBit() -> Bool? { read(bits: 1).map { $0 == 1 } }
}
