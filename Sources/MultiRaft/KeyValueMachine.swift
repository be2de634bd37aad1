import RaftCore

/// A replicated key-value map: the state machine of the meta group and the test groups of the cluster until
/// the time-series store arrives. Commands: `0x01 keyLength:u32 key value` sets a key, `0x02 key` deletes one.
public final class KeyValueMachine: StateMachine {
    public private(set) var values: [String: [UInt8]] = [:]
    public private(set) var appliedCommands = 0

    /// Whether the host writes and restores this machine's snapshots on its background threads (the vnodes' way;
    /// tests use it to exercise that path with a small machine).
    public let snapshotsInBackground: Bool

    public init(snapshotsInBackground: Bool = false) { self.snapshotsInBackground = snapshotsInBackground }

    /// Apply touches only this map.
    public var appliesConcurrently: Bool { true }

    /// Encodes a "set" command.
    public static func setCommand(key: String, value: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [1]
        let keyBytes = Array(key.utf8)
        appendU32(UInt32(keyBytes.count), to: &bytes)
        bytes += keyBytes
        bytes += value
        return bytes
    }

    /// Encodes a "delete" command.
    public static func deleteCommand(key: String) -> [UInt8] { [2] + Array(key.utf8) }

    public func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        guard let kind = command.first else { return [] }
        appliedCommands += 1
        let body = command.dropFirst()
        switch kind {
        case 1:
            guard body.count >= 4 else { return [] }
            let length = Int(readU32(body, at: body.startIndex))
            let keyStart = body.startIndex + 4
            guard body.endIndex - keyStart >= length else { return [] }
            let key = String(decoding: body[keyStart..<(keyStart + length)], as: UTF8.self)
            values[key] = Array(body[(keyStart + length)...])
        case 2:
            values[String(decoding: body, as: UTF8.self)] = nil
        default:
            break
        }
        return []
    }

    public func snapshot() -> [UInt8] {
        var bytes: [UInt8] = []
        appendU32(UInt32(values.count), to: &bytes)
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            let keyBytes = Array(key.utf8)
            appendU32(UInt32(keyBytes.count), to: &bytes)
            bytes += keyBytes
            appendU32(UInt32(value.count), to: &bytes)
            bytes += value
        }
        return bytes
    }

    public func restore(_ data: [UInt8]) throws {
        var restored: [String: [UInt8]] = [:]
        var offset = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, data.count - offset >= count else { throw SnapshotDataError(offset: offset) }
            defer { offset += count }
            return data[offset..<(offset + count)]
        }
        let count = Int(readU32(try take(4), at: offset - 4))
        for _ in 0..<count {
            let keyLength = Int(readU32(try take(4), at: offset - 4))
            let key = String(decoding: try take(keyLength), as: UTF8.self)
            let valueLength = Int(readU32(try take(4), at: offset - 4))
            restored[key] = Array(try take(valueLength))
        }
        guard offset == data.count else { throw SnapshotDataError(offset: offset) }
        values = restored
    }

    /// FNV-1a over the sorted contents.
    public var checksum: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in snapshot() {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

/// Snapshot bytes that do not decode; names the offset.
public struct SnapshotDataError: Error, CustomStringConvertible {
    public var offset: Int
    public var description: String { "snapshot data is malformed at byte \(offset)" }
}

func appendU32(_ value: UInt32, to bytes: inout [UInt8]) {
    for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
}

func readU32(_ bytes: ArraySlice<UInt8>, at start: Int) -> UInt32 {
    var value: UInt32 = 0
    for i in 0..<4 { value |= UInt32(bytes[start + i]) << UInt32(8 * i) }
    return value
}
