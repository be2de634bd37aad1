/// Floats that are decimals with few digits — a sensor's 21.5, a price's 3.99, a percentage's 37.4 — as scaled
/// integers: when every value `v` of a block equals `Double(n) / 10^e` exactly, bit for bit, for one exponent
/// `e` (0...15) and integers `n` below 2^53 in magnitude, the block is the exponent (one byte) and the `n` as
/// zigzag-delta varints (`IntegerCodec`). A gauge moving by tenths then costs a byte or two a value, where XOR
/// codes need five to seven (the idea of ALP, Afroozeh et al., SIGMOD 2024, in its simplest form). Otherwise
/// `encode` answers `nil` and the block keeps Gorilla's codes.
enum DecimalCodec {
    private static let powers: [Double] = (0...15).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    static func encode(_ values: some Collection<Double>) -> [UInt8]? {
        guard !values.isEmpty else { return nil }
        exponents: for exponent in powers.indices {
            let scale = powers[exponent]
            var integers: [Int64] = []
            integers.reserveCapacity(values.count)
            for value in values {
                let scaled = (value * scale).rounded()
                // Below 2^53 an integer is exact as a Double; the check is the decoder's own arithmetic (so -0.0,
                // which comes back as +0.0, and NaN fail it).
                guard scaled.magnitude < 9_007_199_254_740_992 else { continue exponents }
                let integer = Int64(scaled)
                guard (Double(integer) / scale).bitPattern == value.bitPattern else { continue exponents }
                integers.append(integer)
            }
            return [UInt8(exponent)] + IntegerCodec.encode(integers)
        }
        return nil
    }

    /// The `count` floats in `bytes`; `nil` if they are malformed.
    static func decode(_ bytes: ArraySlice<UInt8>, count: Int) -> [Double]? {
        guard let exponent = bytes.first, Int(exponent) < powers.count,
            let integers = IntegerCodec.decode(bytes.dropFirst(), count: count)
        else { return nil }
        let scale = powers[Int(exponent)]
        return integers.map { Double($0) / scale }
    }
}
