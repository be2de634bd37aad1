import Testing

@testable import TSDB

/// The block codecs round-trip every value bit-exactly, compress the shapes time series have, and never trap
/// on damaged bytes.
@Suite("Column codecs")
struct CodecTests {
    /// SplitMix64: the seeded values of these tests.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("timestamps round-trip: regular, jittery, out of range and random", arguments: 0..<40 as Range<UInt64>)
    func timestampsRoundTrip(seed: UInt64) {
        var random = Generator(state: seed)
        let count = Int(random.next() % 3_000)
        var timestamps: [Int64] = []
        var now = Int64.random(in: -1 << 62...1 << 62, using: &random)
        let step = [1, 1_000, 1_000_000_000, Int64.random(in: 1...1 << 40, using: &random)][Int(seed % 4)]
        for _ in 0..<count {
            timestamps.append(now)
            switch random.next() % 10 {
            case 0: now &+= Int64(bitPattern: random.next())  // anything at all
            case 1, 2: now &+= step + Int64.random(in: -1_000...1_000, using: &random)
            default: now &+= step
            }
        }
        let encoded = TimestampCodec.encode(timestamps[...])
        #expect(TimestampCodec.decode(encoded[...], count: count) == timestamps)
    }

    @Test("timestamps at a regular interval cost about a bit each")
    func regularTimestampsCompress() {
        let timestamps = (0..<1_000).map { 1_767_225_600_000_000_000 + Int64($0) * 10_000_000_000 }
        let encoded = TimestampCodec.encode(timestamps[...])
        #expect(encoded.count <= 16 + 1_000 / 8 + 1, "\(encoded.count) bytes")
    }

    @Test(
        "floats round-trip bit-exactly, NaN, infinities and negative zero included", arguments: 0..<40 as Range<UInt64>)
    func floatsRoundTrip(seed: UInt64) {
        var random = Generator(state: seed)
        let count = Int(random.next() % 3_000)
        var values: [Double] = []
        var gauge = Double.random(in: -1e6...1e6, using: &random)
        for _ in 0..<count {
            switch random.next() % 12 {
            case 0: values.append(Double(bitPattern: random.next()))
            case 1:
                values.append(
                    [.nan, -.nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude][Int(random.next() % 7)])
            case 2, 3: values.append(values.last ?? 1)
            default:
                gauge += Double.random(in: -1...1, using: &random)
                values.append((gauge * 100).rounded() / 100)
            }
        }
        let encoded = FloatCodec.encode(values)
        let decoded = FloatCodec.decode(encoded[...], count: count)
        #expect(decoded?.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test("a slowly moving gauge takes far less than 8 bytes a value")
    func gaugeFloatsCompress() {
        let values = (0..<1_000).map { 20 + Double($0 % 7) * 0.5 }
        #expect(FloatCodec.encode(values).count < 1_000, "under a byte a value (measured: 637 bytes)")
    }

    @Test("decimal floats round-trip bit-exactly as scaled integers, and other floats are left to XOR codes")
    func decimalsRoundTrip() {
        var random = Generator(state: 3)
        var gauge = 50.0
        let tenths = (0..<1_000).map { _ -> Double in
            gauge += Double(Int(random.next() % 21) - 10) / 10
            return (gauge * 10).rounded() / 10
        }
        let encoded = DecimalCodec.encode(tenths)
        #expect(encoded?.first == 1, "one decimal digit")
        #expect(DecimalCodec.decode(encoded![...], count: tenths.count)?.map(\.bitPattern) == tenths.map(\.bitPattern))
        #expect(encoded!.count < 1_100, "\(encoded!.count) bytes: about a byte a value (measured: 1,002)")
        let prices = [3.99, 4.05, 19.99, 0.01, 1e6 + 0.25, -7.5]
        #expect(
            DecimalCodec.decode(DecimalCodec.encode(prices)![...], count: 6)?.map(\.bitPattern)
                == prices.map(\.bitPattern))
        // Not decimals, or not representable: no decimal form.
        #expect(DecimalCodec.encode([1.0 / 3.0]) == nil)
        #expect(DecimalCodec.encode([Double.nan]) == nil)
        #expect(DecimalCodec.encode([-0.0]) == nil, "-0.0 would come back as +0.0")
        #expect(DecimalCodec.encode([1e300]) == nil)
        #expect(hex(DecimalCodec.encode([20.5, 20.5, 21.0])!) == "019a03000a")
    }

    @Test("integers and unsigned integers round-trip, extremes included", arguments: 0..<30 as Range<UInt64>)
    func integersRoundTrip(seed: UInt64) {
        var random = Generator(state: seed)
        let count = Int(random.next() % 2_000)
        let values = (0..<count).map { k -> Int64 in
            switch random.next() % 5 {
            case 0: return [Int64.min, .max, 0, -1][Int(random.next() % 4)]
            case 1: return Int64(bitPattern: random.next())
            default: return Int64(k) * 3 + Int64(random.next() % 5)
            }
        }
        #expect(IntegerCodec.decode(IntegerCodec.encode(values)[...], count: count) == values)
        let unsigned = values.map { UInt64(bitPattern: $0) }
        #expect(IntegerCodec.decodeUnsigned(IntegerCodec.encode(unsigned: unsigned)[...], count: count) == unsigned)
    }

    @Test("strings round-trip in both forms, and repeated values take the dictionary")
    func stringsRoundTrip() {
        let repeated = (0..<500).map { ["ok", "warn", "fail", "ünïcødé ✓"][$0 % 4] }
        let unique = (0..<500).map { "request-\($0)" }
        let encodedRepeated = StringCodec.encode(repeated)
        #expect(encodedRepeated.first == 1 && encodedRepeated.count < 600, "a byte an index (measured: 531)")
        #expect(StringCodec.decode(encodedRepeated[...], count: 500) == repeated)
        let encodedUnique = StringCodec.encode(unique)
        #expect(encodedUnique.first == 0)
        #expect(StringCodec.decode(encodedUnique[...], count: 500) == unique)
        #expect(StringCodec.decode(StringCodec.encode([String]())[...], count: 0) == [])
    }

    @Test("booleans pack eight to a byte")
    func booleansRoundTrip() {
        let values = (0..<1_001).map { $0 % 3 == 0 }
        let encoded = BooleanCodec.encode(values)
        #expect(encoded.count == 126)
        #expect(BooleanCodec.decode(encoded[...], count: values.count) == values)
    }

    @Test("golden bytes: the encodings never change")
    func goldenBytes() {
        let timestamps: [Int64] = [1_000, 2_000, 3_000, 4_000, 4_500]
        #expect(hex(TimestampCodec.encode(timestamps[...])) == "00000000000003e800000000000007d031f380")
        #expect(hex(FloatCodec.encode([1.0, 1.0, 1.5, -2.0])) == "3ff00000000000006601c033ffe0")
        #expect(hex(IntegerCodec.encode([5, 4, 4, -300])) == "0a0100df04")
        #expect(hex(StringCodec.encode(["a", "b", "a", "a"])) == "01020161016200010000")
        #expect(hex(BooleanCodec.encode([true, false, true])) == "a0")
    }

    @Test("damaged bytes decode to nil, never a trap", arguments: 0..<60 as Range<UInt64>)
    func damagedBytesAreRefused(seed: UInt64) {
        var random = Generator(state: seed)
        let garbage = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let count = Int(random.next() % 100)
        // Any answer is fine except a crash; a decoded answer must have the count asked for.
        if let values = TimestampCodec.decode(garbage[...], count: count) { #expect(values.count == count) }
        if let values = FloatCodec.decode(garbage[...], count: count) { #expect(values.count == count) }
        if let values = IntegerCodec.decode(garbage[...], count: count) { #expect(values.count == count) }
        if let values = StringCodec.decode(garbage[...], count: count) { #expect(values.count == count) }
        if let values = BooleanCodec.decode(garbage[...], count: count) { #expect(values.count == count) }
    }

    func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
