import LineProtocol

/// The binary form of a batch of points inside a Raft entry (a vnode's write command).
///
/// `u32 count`, then per point: measurement, `u16` tag count and tags, `u16` field count and fields (key,
/// type byte 0 float / 1 integer / 2 unsigned / 3 string / 4 boolean, value), `i64` timestamp. Strings are
/// `u32` length + UTF-8. Little-endian. Decoding checks every length.
public enum PointCodec {
    public static func encode(_ points: [Point]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(points.count * 64)
        put32(UInt32(points.count), &out)
        for point in points {
            putString(point.measurement, &out)
            put16(UInt16(point.tags.count), &out)
            for tag in point.tags {
                putString(tag.key, &out)
                putString(tag.value, &out)
            }
            put16(UInt16(point.fields.count), &out)
            for field in point.fields {
                putString(field.key, &out)
                switch field.value {
                case .float(let v):
                    out.append(0)
                    put64(v.bitPattern, &out)
                case .integer(let v):
                    out.append(1)
                    put64(UInt64(bitPattern: v), &out)
                case .unsigned(let v):
                    out.append(2)
                    put64(v, &out)
                case .string(let v):
                    out.append(3)
                    putString(v, &out)
                case .boolean(let v):
                    out.append(4)
                    out.append(v ? 1 : 0)
                }
            }
            put64(UInt64(bitPattern: point.timestamp), &out)
        }
        return out
    }

    /// Reads a point's field count and fields, appending them to `fields`.
    static func readFields(_ reader: inout BinaryReader, into fields: inout [Field]) throws(CodecError) {
        let fieldCount = Int(try reader.u16())
        fields.reserveCapacity(fields.count + fieldCount)
        for _ in 0..<fieldCount {
            let key = try reader.string()
            let value: FieldValue
            switch try reader.u8() {
            case 0: value = .float(Double(bitPattern: try reader.u64()))
            case 1: value = .integer(Int64(bitPattern: try reader.u64()))
            case 2: value = .unsigned(try reader.u64())
            case 3: value = .string(try reader.string())
            case 4: value = .boolean(try reader.u8() != 0)
            case let other: throw CodecError(reason: "unknown field type \(other)")
            }
            fields.append(Field(key, value))
        }
    }

    /// Checks that `bytes` decode whole (every length and type byte, as `decode` reads them) without
    /// making anything.
    public static func validate(_ bytes: ArraySlice<UInt8>) throws(CodecError) {
        var reader = BinaryReader(bytes)
        let count = Int(try reader.u32())
        for _ in 0..<count {
            _ = try reader.stringBytes()
            for _ in 0..<Int(try reader.u16()) {
                _ = try reader.stringBytes()
                _ = try reader.stringBytes()
            }
            for _ in 0..<Int(try reader.u16()) {
                _ = try reader.stringBytes()
                switch try reader.u8() {
                case 0, 1, 2: _ = try reader.u64()
                case 3: _ = try reader.stringBytes()
                case 4: _ = try reader.u8()
                case let other: throw CodecError(reason: "unknown field type \(other)")
                }
            }
            _ = try reader.u64()
        }
    }

    public static func decode(_ bytes: ArraySlice<UInt8>) throws(CodecError) -> [Point] {
        var reader = BinaryReader(bytes)
        let count = Int(try reader.u32())
        var points: [Point] = []
        points.reserveCapacity(min(count, 1 << 20))
        for _ in 0..<count {
            let measurement = try reader.string()
            let tagCount = Int(try reader.u16())
            var tags: [Tag] = []
            tags.reserveCapacity(tagCount)
            for _ in 0..<tagCount { tags.append(Tag(try reader.string(), try reader.string())) }
            var fields: [Field] = []
            try readFields(&reader, into: &fields)
            let timestamp = Int64(bitPattern: try reader.u64())
            var point = Point(measurement: measurement, tags: [], fields: fields, timestamp: timestamp)
            point.tags = tags  // already sorted by the encoder's source
            points.append(point)
        }
        return points
    }
}

/// Bytes that do not decode.
public struct CodecError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "malformed command: \(reason)" }
}

func put16(_ v: UInt16, _ out: inout [UInt8]) {
    out.append(UInt8(truncatingIfNeeded: v))
    out.append(UInt8(truncatingIfNeeded: v >> 8))
}
func put32(_ v: UInt32, _ out: inout [UInt8]) {
    for s in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) }
}
func put64(_ v: UInt64, _ out: inout [UInt8]) {
    for s in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
}
func putString(_ s: String, _ out: inout [UInt8]) {
    let utf8 = s.utf8
    put32(UInt32(utf8.count), &out)
    out.append(contentsOf: utf8)
}

/// Reads what the `put*` helpers wrote, checking bounds.
struct BinaryReader {
    let bytes: ArraySlice<UInt8>
    var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var atEnd: Bool { position >= bytes.endIndex }

    mutating func need(_ n: Int) throws(CodecError) {
        guard n >= 0, bytes.endIndex - position >= n else {
            throw CodecError(reason: "needs \(n) bytes at \(position - bytes.startIndex)")
        }
    }
    mutating func u8() throws(CodecError) -> UInt8 {
        try need(1)
        defer { position += 1 }
        return bytes[position]
    }
    mutating func u16() throws(CodecError) -> UInt16 {
        try need(2)
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }
    mutating func u32() throws(CodecError) -> UInt32 {
        try need(4)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << UInt32(8 * i) }
        position += 4
        return v
    }
    mutating func u64() throws(CodecError) -> UInt64 {
        try need(8)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += 8
        return v
    }
    /// A string's bytes as `putString` wrote them, not decoded.
    mutating func stringBytes() throws(CodecError) -> ArraySlice<UInt8> {
        let n = Int(try u32())
        try need(n)
        defer { position += n }
        return bytes[position..<(position + n)]
    }
    mutating func string() throws(CodecError) -> String {
        let n = Int(try u32())
        try need(n)
        defer { position += n }
        return String(decoding: bytes[position..<(position + n)], as: UTF8.self)
    }
}
