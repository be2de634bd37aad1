import LineProtocol

/// The index's bytes: varints throughout (zigzag for signed values), floats as their 64-bit patterns.
extension ColumnFileIndex {
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        Varint.append(UInt64(series.count), to: &bytes)
        bytes += series.bytes
        return bytes
    }

    static func encode(_ entry: Series, to bytes: inout [UInt8]) {
        append(entry.measurement, to: &bytes)
        Varint.append(UInt64(entry.tags.count), to: &bytes)
        for tag in entry.tags {
            append(tag.key, to: &bytes)
            append(tag.value, to: &bytes)
        }
        Varint.append(UInt64(entry.columns.count), to: &bytes)
        for column in entry.columns {
            append(column.name, to: &bytes)
            bytes.append(column.kind.rawValue)
        }
        Varint.append(UInt64(entry.blocks.count), to: &bytes)
        for block in entry.blocks {
            Varint.append(Varint.zigzag(block.minTime), to: &bytes)
            Varint.append(UInt64(bitPattern: block.maxTime &- block.minTime), to: &bytes)
            Varint.append(UInt64(block.rows), to: &bytes)
            append(block.timestamps, to: &bytes)
            for column in block.columns {
                guard let column else {
                    bytes.append(0)
                    continue
                }
                Varint.append(UInt64(column.present), to: &bytes)
                append(column.chunk, to: &bytes)
                append(column.stats, to: &bytes)
            }
        }
    }

    /// One entry, exactly `bytes`; `nil` if they are not one.
    static func decodeEntry(_ bytes: ArraySlice<UInt8>) -> Series? {
        var cursor = Cursor(bytes: bytes)
        guard let entry = cursor.entry(), cursor.isAtEnd else { return nil }
        return entry
    }

    private static func append(_ text: String, to bytes: inout [UInt8]) {
        Varint.append(UInt64(text.utf8.count), to: &bytes)
        bytes.append(contentsOf: text.utf8)
    }

    private static func append(_ chunk: Chunk, to bytes: inout [UInt8]) {
        Varint.append(chunk.offset, to: &bytes)
        Varint.append(UInt64(chunk.length), to: &bytes)
    }

    private static func append(_ stats: ColumnStats, to bytes: inout [UInt8]) {
        switch stats {
        case .float(let low, let high, let sum):
            for value in [low, high, sum] {
                for shift in stride(from: 0, to: 64, by: 8) {
                    bytes.append(UInt8(truncatingIfNeeded: value.bitPattern >> UInt64(shift)))
                }
            }
        case .integer(let low, let high, let sum, let exact):
            for value in [low, high, sum] { Varint.append(Varint.zigzag(value), to: &bytes) }
            bytes.append(exact ? 1 : 0)
        case .unsigned(let low, let high, let sum, let exact):
            for value in [low, high, sum] { Varint.append(value, to: &bytes) }
            bytes.append(exact ? 1 : 0)
        case .boolean(let trues):
            Varint.append(UInt64(trues), to: &bytes)
        case .string:
            break
        }
    }

    /// Reads the index's parts, failing with `nil` at the first that does not decode.
    struct Cursor {
        let bytes: ArraySlice<UInt8>
        var position: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            position = bytes.startIndex
        }

        var isAtEnd: Bool { position == bytes.endIndex }

        mutating func entry() -> Series? {
            guard let measurement = string(), let tagCount = count() else { return nil }
            var tags: [Tag] = []
            tags.reserveCapacity(tagCount)
            for _ in 0..<tagCount {
                guard let key = string(), let value = string() else { return nil }
                tags.append(Tag(key, value))
            }
            guard let columnCount = count() else { return nil }
            var columns: [ColumnDefinition] = []
            for _ in 0..<columnCount {
                guard let name = string(), let code = byte(), let kind = Column.Kind(rawValue: code) else {
                    return nil
                }
                columns.append(ColumnDefinition(name: name, kind: kind))
            }
            guard let blockCount = count() else { return nil }
            var blocks: [Block] = []
            for _ in 0..<blockCount {
                guard let minCode = varint(), let span = varint(), let rows = count(), let timestamps = chunk()
                else { return nil }
                let minTime = Varint.unzigzag(minCode)
                var blockColumns: [BlockColumn?] = []
                for column in columns {
                    guard let present = count() else { return nil }
                    if present == 0 {
                        blockColumns.append(nil)
                        continue
                    }
                    guard present <= rows, let chunk = chunk(), let stats = stats(column.kind) else { return nil }
                    blockColumns.append(BlockColumn(present: present, chunk: chunk, stats: stats))
                }
                blocks.append(
                    Block(
                        minTime: minTime, maxTime: minTime &+ Int64(bitPattern: span), rows: rows,
                        timestamps: timestamps, columns: blockColumns))
            }
            return Series(measurement: measurement, tags: tags, columns: columns, blocks: blocks)
        }

        mutating func varint() -> UInt64? { Varint.read(bytes, at: &position) }

        /// A count or length: a varint no larger than the bytes could hold (so damage cannot ask for a huge array).
        mutating func count() -> Int? {
            guard let value = varint(), value <= UInt64(Int32.max) else { return nil }
            return Int(value)
        }

        mutating func byte() -> UInt8? {
            guard position < bytes.endIndex else { return nil }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func string() -> String? {
            guard let length = count(), length <= bytes.endIndex - position else { return nil }
            defer { position += length }
            // The bytes were checked as UTF-8 when the file was opened (`decodeWithLookups`) or built from
            // strings: decoding need not validate again (it cost a third of a count over every series).
            return String(decoding: bytes[position..<(position + length)], as: UTF8.self)
        }

        mutating func chunk() -> Chunk? {
            guard let offset = varint(), let length = varint(), length <= UInt64(UInt32.max) else { return nil }
            return Chunk(offset: offset, length: UInt32(length))
        }

        mutating func float() -> Double? {
            guard bytes.endIndex - position >= 8 else { return nil }
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(bytes[position + k]) << UInt64(8 * k) }
            position += 8
            return Double(bitPattern: bits)
        }

        mutating func flag() -> Bool? {
            guard let value = byte(), value <= 1 else { return nil }
            return value == 1
        }

        mutating func stats(_ kind: Column.Kind) -> ColumnStats? {
            switch kind {
            case .float:
                guard let low = float(), let high = float(), let sum = float() else { return nil }
                return .float(min: low, max: high, sum: sum)
            case .integer:
                guard let low = varint(), let high = varint(), let sum = varint(), let exact = flag() else {
                    return nil
                }
                return .integer(
                    min: Varint.unzigzag(low), max: Varint.unzigzag(high), sum: Varint.unzigzag(sum), exact: exact)
            case .unsigned:
                guard let low = varint(), let high = varint(), let sum = varint(), let exact = flag() else {
                    return nil
                }
                return .unsigned(min: low, max: high, sum: sum, exact: exact)
            case .boolean:
                guard let trues = count() else { return nil }
                return .boolean(trues: trues)
            case .string:
                return .string
            }
        }
    }
}
