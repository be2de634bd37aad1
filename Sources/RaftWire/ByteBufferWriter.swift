import RaftCore

/// Appends little-endian integers and length-prefixed bytes to a byte array: the wire codec's writer.
struct WireWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
    mutating func blob(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }
}

/// Reads what `WireWriter` wrote; every read checks bounds and throws `WireError.malformed` with the offset.
struct WireReader {
    let bytes: [UInt8]
    var offset: Int
    /// Reads stop here (the end of the frame), so a frame is read in place inside a larger buffer.
    let end: Int

    init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var isAtEnd: Bool { offset == end }

    mutating func need(_ count: Int, _ what: String) throws(WireError) {
        guard count >= 0, end - offset >= count else {
            throw .malformed("\(what) needs \(count) bytes at offset \(offset), \(end - offset) left")
        }
    }
    mutating func u8(_ what: String) throws(WireError) -> UInt8 {
        try need(1, what)
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func bool(_ what: String) throws(WireError) -> Bool {
        switch try u8(what) {
        case 0: return false
        case 1: return true
        case let other: throw .malformed("\(what) is \(other) at offset \(offset - 1), not a boolean")
        }
    }
    mutating func u32(_ what: String) throws(WireError) -> UInt32 {
        try need(4, what)
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << UInt32(8 * i) }
        offset += 4
        return value
    }
    mutating func u64(_ what: String) throws(WireError) -> UInt64 {
        try need(8, what)
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
        offset += 8
        return value
    }
    mutating func blob(_ what: String) throws(WireError) -> [UInt8] {
        let count = Int(try u32(what + " length"))
        try need(count, what)
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }
}

/// Why bytes from a peer could not be decoded. The transport closes the connection and logs the reason.
public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The frame does not start with Flotilla's magic bytes: not a Flotilla peer.
    case badMagic(offset: Int)
    /// A wire-format version this node does not speak.
    case unsupportedVersion(UInt8)
    /// The frame announces more bytes than the configured maximum.
    case frameTooLarge(length: Int, limit: Int)
    /// The frame's content is not a valid message.
    case malformed(String)

    public var description: String {
        switch self {
        case .badMagic(let offset): return "wire.bad_magic: no Flotilla frame at offset \(offset) (a stranger?)"
        case .unsupportedVersion(let v): return "wire.unsupported_version: version \(v); this node speaks 1"
        case .frameTooLarge(let length, let limit):
            return "wire.frame_too_large: \(length) bytes announced, limit \(limit)"
        case .malformed(let why): return "wire.malformed: \(why)"
        }
    }
}
