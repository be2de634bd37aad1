/// Strings of one block. Tag-like values repeat, so when fewer than half the values are distinct the block is a
/// dictionary (form 1: the distinct strings, then one varint index per value); otherwise each value is written
/// in full (form 0: varint length + UTF-8 bytes).
enum StringCodec {
    static func encode(_ values: some Collection<String>) -> [UInt8] {
        guard !values.isEmpty else { return [] }
        var bytes: [UInt8] = []
        var indexOf: [String: Int] = [:]
        var distinct: [String] = []
        for value in values where indexOf[value] == nil {
            indexOf[value] = distinct.count
            distinct.append(value)
            if distinct.count * 2 > values.count { break }
        }
        if distinct.count * 2 <= values.count {
            bytes.append(1)
            Varint.append(UInt64(distinct.count), to: &bytes)
            for value in distinct { appendString(value, to: &bytes) }
            for value in values { Varint.append(UInt64(indexOf[value]!), to: &bytes) }
        } else {
            bytes.append(0)
            for value in values { appendString(value, to: &bytes) }
        }
        return bytes
    }

    /// The `count` strings in `bytes`; `nil` if the bytes are malformed.
    static func decode(_ bytes: ArraySlice<UInt8>, count: Int) -> [String]? {
        guard count > 0 else { return bytes.isEmpty ? [] : nil }
        guard let form = bytes.first else { return nil }
        var position = bytes.startIndex + 1
        var values: [String] = []
        values.reserveCapacity(count)
        switch form {
        case 0:
            while values.count < count {
                guard let value = readString(bytes, at: &position) else { return nil }
                values.append(value)
            }
        case 1:
            guard let distinctCount = Varint.read(bytes, at: &position), distinctCount <= UInt64(count) else {
                return nil
            }
            var distinct: [String] = []
            for _ in 0..<Int(distinctCount) {
                guard let value = readString(bytes, at: &position) else { return nil }
                distinct.append(value)
            }
            while values.count < count {
                guard let index = Varint.read(bytes, at: &position), index < UInt64(distinct.count) else { return nil }
                values.append(distinct[Int(index)])
            }
        default:
            return nil
        }
        return position == bytes.endIndex ? values : nil
    }

    private static func appendString(_ value: String, to bytes: inout [UInt8]) {
        Varint.append(UInt64(value.utf8.count), to: &bytes)
        bytes.append(contentsOf: value.utf8)
    }

    private static func readString(_ bytes: ArraySlice<UInt8>, at position: inout Int) -> String? {
        guard let length = Varint.read(bytes, at: &position), length <= UInt64(bytes.endIndex - position) else {
            return nil
        }
        let end = position + Int(length)
        defer { position = end }
        return String(validating: bytes[position..<end], as: UTF8.self)
    }
}
