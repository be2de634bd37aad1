/// Booleans (and presence flags) as bits, eight to a byte, first value in the highest bit.
enum BooleanCodec {
    static func encode(_ values: some Sequence<Bool>) -> [UInt8] {
        var writer = BitWriter()
        for value in values { writer.write(bit: value) }
        return writer.bytes
    }

    /// The `count` booleans in `bytes`; `nil` if the byte count is not exactly what `count` needs.
    static func decode(_ bytes: ArraySlice<UInt8>, count: Int) -> [Bool]? {
        guard bytes.count == (count + 7) / 8 else { return nil }
        var reader = BitReader(bytes)
        var values: [Bool] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(reader.readBit()!) }
        return values
    }
}
