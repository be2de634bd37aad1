/// Floats of one block as Gorilla XOR codes (the Gorilla paper, VLDB 2015, §4.1.2): the first value in 64 bits,
/// then each value XORed with the one before it:
/// - `0`: the same value;
/// - `10` + the meaningful bits: the XOR fits inside the previous code's window of leading and trailing zeros;
/// - `11` + 6 bits of leading zeros + 6 bits of (length − 1) + the meaningful bits: a new window.
///
/// Bit-exact: NaN payloads and negative zero round-trip.
enum FloatCodec {
    static func encode(_ values: some Collection<Double>) -> [UInt8] {
        var writer = BitWriter(reservingCapacity: 8 + values.count * 2)
        guard let first = values.first else { return [] }
        var previous = first.bitPattern
        writer.write(previous, bits: 64)
        var windowLeading = 65  // no window yet
        var windowTrailing = 0
        for value in values.dropFirst() {
            let bits = value.bitPattern
            let xor = bits ^ previous
            previous = bits
            if xor == 0 {
                writer.write(0, bits: 1)
                continue
            }
            let leading = xor.leadingZeroBitCount
            let trailing = xor.trailingZeroBitCount
            if windowLeading <= 64 && leading >= windowLeading && trailing >= windowTrailing {
                writer.write(0b10, bits: 2)
                let length = 64 - windowLeading - windowTrailing
                writer.write(xor >> UInt64(windowTrailing), bits: length)
            } else {
                let length = 64 - leading - trailing
                writer.write(0b11, bits: 2)
                writer.write(UInt64(leading), bits: 6)
                writer.write(UInt64(length - 1), bits: 6)
                writer.write(xor >> UInt64(trailing), bits: length)
                windowLeading = leading
                windowTrailing = trailing
            }
        }
        return writer.bytes
    }

    /// The `count` floats in `bytes`; `nil` if the bytes are too short or malformed.
    static func decode(_ bytes: ArraySlice<UInt8>, count: Int) -> [Double]? {
        guard count > 0 else { return [] }
        var reader = BitReader(bytes)
        guard var previous = reader.read(bits: 64) else { return nil }
        var values: [Double] = []
        values.reserveCapacity(count)
        values.append(Double(bitPattern: previous))
        var windowLeading = 65
        var windowTrailing = 0
        while values.count < count {
            guard let same = reader.readBit() else { return nil }
            if !same {
                values.append(Double(bitPattern: previous))
                continue
            }
            guard let fresh = reader.readBit() else { return nil }
            if fresh {
                guard let leading = reader.read(bits: 6), let lengthLess1 = reader.read(bits: 6) else { return nil }
                let length = Int(lengthLess1) + 1
                guard Int(leading) + length <= 64 else { return nil }
                windowLeading = Int(leading)
                windowTrailing = 64 - windowLeading - length
            } else if windowLeading > 64 {
                return nil
            }
            let length = 64 - windowLeading - windowTrailing
            guard let meaningful = reader.read(bits: length) else { return nil }
            previous ^= meaningful << UInt64(windowTrailing)
            values.append(Double(bitPattern: previous))
        }
        return values
    }
}
