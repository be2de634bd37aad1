/// Integers of one block: the first value, then each difference from the one before, zigzag-mapped and written
/// as LEB128 varints (a counter or a slowly moving gauge costs a byte a value). Arithmetic wraps, so every
/// `Int64` (and every `UInt64`, by bit pattern) round-trips.
enum IntegerCodec {
    static func encode(_ values: some Sequence<Int64>) -> [UInt8] {
        var bytes: [UInt8] = []
        var previous: Int64 = 0
        for value in values {
            Varint.append(Varint.zigzag(value &- previous), to: &bytes)
            previous = value
        }
        return bytes
    }

    /// The `count` integers in `bytes`; `nil` if the bytes are too short, malformed, or longer than needed.
    static func decode(_ bytes: ArraySlice<UInt8>, count: Int) -> [Int64]? {
        var values: [Int64] = []
        values.reserveCapacity(count)
        var position = bytes.startIndex
        var previous: Int64 = 0
        while values.count < count {
            guard let code = Varint.read(bytes, at: &position) else { return nil }
            previous &+= Varint.unzigzag(code)
            values.append(previous)
        }
        return position == bytes.endIndex ? values : nil
    }

    static func encode(unsigned values: some Sequence<UInt64>) -> [UInt8] {
        encode(values.lazy.map { Int64(bitPattern: $0) })
    }

    static func decodeUnsigned(_ bytes: ArraySlice<UInt8>, count: Int) -> [UInt64]? {
        decode(bytes, count: count)?.map { UInt64(bitPattern: $0) }
    }
}
