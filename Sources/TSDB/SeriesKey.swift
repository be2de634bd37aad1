import LineProtocol

/// The identity of a series: the measurement and the tags sorted by key, in canonical bytes
/// `measurement,k1=v1,k2=v2` (line-protocol escaping of `,`, `=`, space and backslash).
///
/// `hash` picks a point's replica set (`hash % SHARD`, docs/store.md, "Write path"). It is FNV-1a 64 over the canonical bytes
/// and never changes between versions: golden vectors in `Tests/TSDBTests/SeriesKeyTests.swift`.
public struct SeriesKey: Sendable, Hashable, Comparable {
    public let bytes: [UInt8]

    public init(measurement: String, tags: [Tag]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(measurement.utf8.count + tags.count * 16)
        Self.appendEscaped(measurement, to: &bytes)
        // Points come with their tags sorted (the parser sorts them): sorting a copy again is only for the rest.
        let sorted = zip(tags, tags.dropFirst()).allSatisfy { $0.key <= $1.key }
        for tag in sorted ? tags : tags.sorted(by: { $0.key < $1.key }) {
            bytes.append(UInt8(ascii: ","))
            Self.appendEscaped(tag.key, to: &bytes)
            bytes.append(UInt8(ascii: "="))
            Self.appendEscaped(tag.value, to: &bytes)
        }
        self.bytes = bytes
    }

    /// A key from its canonical bytes (as `bytes` gave them).
    init(bytes: [UInt8]) { self.bytes = bytes }

    public init(_ point: Point) { self.init(measurement: point.measurement, tags: point.tags) }

    private static func appendEscaped(_ text: String, to bytes: inout [UInt8]) { appendEscaped(text.utf8, to: &bytes) }

    /// Appends `text`'s bytes with line protocol's escapes, as the key holds them.
    static func appendEscaped<Bytes: Sequence<UInt8>>(_ text: Bytes, to bytes: inout [UInt8]) {
        for byte in text {
            if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: " ")
                || byte == UInt8(ascii: "\\")
            {
                bytes.append(UInt8(ascii: "\\"))
            }
            bytes.append(byte)
        }
    }

    /// FNV-1a 64 of the canonical bytes.
    public var hash: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// `SeriesKey(point).hash` without making the key: the canonical bytes are hashed as they are produced (what
    /// routing a write asks of every point).
    public static func hash(of point: Point) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        func addEscaped(_ text: String) {
            for byte in text.utf8 {
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: " ")
                    || byte == UInt8(ascii: "\\")
                {
                    add(UInt8(ascii: "\\"))
                }
                add(byte)
            }
        }
        addEscaped(point.measurement)
        let tags = point.tags
        let sorted = zip(tags, tags.dropFirst()).allSatisfy { $0.key <= $1.key }
        for tag in sorted ? tags : tags.sorted(by: { $0.key < $1.key }) {
            add(UInt8(ascii: ","))
            addEscaped(tag.key)
            add(UInt8(ascii: "="))
            addEscaped(tag.value)
        }
        return hash
    }

    /// The bytes hashed as one block: `[UInt8]`'s own conformance feeds the hasher a byte at a time, and the
    /// memtable looks a key up for every point it takes.
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public static func == (a: SeriesKey, b: SeriesKey) -> Bool { a.bytes == b.bytes }

    public static func < (a: SeriesKey, b: SeriesKey) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
