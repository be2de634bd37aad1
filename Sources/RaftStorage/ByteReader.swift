/// Reads little-endian values from a record's payload, failing (with `nil`) instead of reading past its end.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    /// True when every byte has been read.
    var isAtEnd: Bool { position == bytes.endIndex }
    /// The bytes not read yet.
    var remaining: Int { bytes.endIndex - position }

    mutating func readU8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readU16() -> UInt16? { readLE(UInt16.self) }
    mutating func readU32() -> UInt32? { readLE(UInt32.self) }
    mutating func readU64() -> UInt64? { readLE(UInt64.self) }

    /// `count` raw bytes.
    mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// A u32 length followed by that many bytes.
    mutating func readLengthPrefixed() -> [UInt8]? {
        guard let count = readU32() else { return nil }
        return readBytes(Int(count))
    }

    private mutating func readLE<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        var value: T = 0
        for k in 0..<size { value |= T(bytes[position + k]) << T(8 * k) }
        position += size
        return value
    }
}
