import LineProtocol

/// The rows of a scan answer grouped by series, so that what a series shares is written once: its tags and
/// its field names and kinds, then per row the time, a presence bitmap over those fields and the values present.
///
/// `u32 0xFFFF_FFFF` (never a `PointCodec` count, so a reader tells the two apart), `u8` version 2, `u32` series
/// count; per series: `u16` tag count and tags, `u16` field count and per field its name and kind (the column
/// file's kind byte), `u32` row count; per row: `i64` time, `ceil(fields / 8)` bytes of presence (bit `k % 8`
/// of byte `k / 8` for field `k`), each present value (floats as their bit pattern, integers and unsigned
/// integers in 8 bytes, strings `u32` length + UTF-8, booleans a byte). Little-endian; decoding checks every
/// length. A field whose values in one series differ in type takes the kind of its first row there; a value of
/// another kind is not sent (the engine never yields such a row: a field keeps its oldest layer's type).
public enum RowBatchCodec {
    static let marker: UInt32 = 0xFFFF_FFFF
    static let version: UInt8 = 2

    /// Encodes rows as they come from a scan: the rows of one series next to each other.
    public struct Encoder {
        private var out: [UInt8] = []
        private var seriesCount: UInt32 = 0
        private var pending: [Row] = []

        public init() {
            put32(RowBatchCodec.marker, &out)
            out.append(RowBatchCodec.version)
            put32(0, &out)  // the series count, filled in by `finish`
        }

        /// Adds rows (a series may continue from the previous call).
        public mutating func add(_ rows: [Row]) {
            for row in rows {
                if let last = pending.last, last.tags != row.tags { flushSeries() }
                pending.append(row)
            }
        }

        /// Adds one whole series from its merged columns (no series may be pending from `add`).
        mutating func addSeries(tags: [Tag], _ rows: MergedRows) {
            precondition(pending.isEmpty, "a series from columns goes between whole series")
            guard !rows.timestamps.isEmpty else { return }
            put16(UInt16(tags.count), &out)
            for tag in tags {
                putString(tag.key, &out)
                putString(tag.value, &out)
            }
            put16(UInt16(rows.names.count), &out)
            for (name, kind) in zip(rows.names, rows.kinds) {
                putString(name, &out)
                out.append(kind.rawValue)
            }
            put32(UInt32(rows.timestamps.count), &out)
            let presenceBytes = (rows.names.count + 7) / 8
            for (row, timestamp) in rows.timestamps.enumerated() {
                put64(UInt64(bitPattern: timestamp), &out)
                let presence = out.count
                out.append(contentsOf: repeatElement(0, count: presenceBytes))
                for k in rows.values.indices {
                    guard let value = rows.values[k][row] else { continue }
                    out[presence + k / 8] |= 1 << UInt8(k % 8)
                    Self.append(value, to: &out)
                }
            }
            seriesCount += 1
        }

        private static func append(_ value: FieldValue, to out: inout [UInt8]) {
            switch value {
            case .float(let v): put64(v.bitPattern, &out)
            case .integer(let v): put64(UInt64(bitPattern: v), &out)
            case .unsigned(let v): put64(v, &out)
            case .string(let v): putString(v, &out)
            case .boolean(let v): out.append(v ? 1 : 0)
            }
        }

        /// The encoded answer.
        public mutating func finish() -> [UInt8] {
            flushSeries()
            let count = seriesCount
            for k in 0..<4 { out[5 + k] = UInt8(truncatingIfNeeded: count >> UInt32(8 * k)) }
            return out
        }

        private mutating func flushSeries() {
            guard let first = pending.first else { return }
            var kinds: [String: Column.Kind] = [:]
            for row in pending {
                for (name, value) in row.fields where kinds[name] == nil { kinds[name] = Column.Kind(of: value) }
            }
            let names = kinds.keys.sorted()
            put16(UInt16(first.tags.count), &out)
            for tag in first.tags {
                putString(tag.key, &out)
                putString(tag.value, &out)
            }
            put16(UInt16(names.count), &out)
            for name in names {
                putString(name, &out)
                out.append(kinds[name]!.rawValue)
            }
            put32(UInt32(pending.count), &out)
            let presenceBytes = (names.count + 7) / 8
            let nameKinds = names.map { kinds[$0]! }
            var values: [FieldValue?] = Array(repeating: nil, count: names.count)
            for row in pending {
                put64(UInt64(bitPattern: row.timestamp), &out)
                let presence = out.count
                out.append(contentsOf: repeatElement(0, count: presenceBytes))
                for (k, name) in names.enumerated() {
                    values[k] = row.fields[name].flatMap { Column.Kind(of: $0) == nameKinds[k] ? $0 : nil }
                    if values[k] != nil { out[presence + k / 8] |= 1 << UInt8(k % 8) }
                }
                for case let value? in values { Self.append(value, to: &out) }
            }
            seriesCount += 1
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// True when `bytes` are a row batch (not a `PointCodec` batch).
    static func isRowBatch(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.count >= 5 && bytes.prefix(4).allSatisfy { $0 == 0xFF }
    }

    /// The rows, each series' tags and field names shared by its rows.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(CodecError) -> [Row] {
        var reader = BinaryReader(bytes)
        guard try reader.u32() == marker else { throw CodecError(reason: "not a row batch") }
        let version = try reader.u8()
        guard version == Self.version else { throw CodecError(reason: "row batch version \(version)") }
        var rows: [Row] = []
        for _ in 0..<Int(try reader.u32()) {
            var tags: [Tag] = []
            for _ in 0..<Int(try reader.u16()) { tags.append(Tag(try reader.string(), try reader.string())) }
            var fields: [(name: String, kind: Column.Kind)] = []
            for _ in 0..<Int(try reader.u16()) {
                let name = try reader.string()
                let code = try reader.u8()
                guard let kind = Column.Kind(rawValue: code) else { throw CodecError(reason: "field kind \(code)") }
                fields.append((name, kind))
            }
            let presenceBytes = (fields.count + 7) / 8
            var presence: [UInt8] = []  // reused row after row
            // Rows with the fields of the row before copy its dictionary and overwrite the values in place, by
            // the positions of their keys: no field name is hashed again (the same layout, so key order too).
            var template: (presence: [UInt8], fields: [String: FieldValue], positions: [[String: FieldValue].Index])?
            for _ in 0..<Int(try reader.u32()) {
                let timestamp = Int64(bitPattern: try reader.u64())
                presence.removeAll(keepingCapacity: true)
                for _ in 0..<presenceBytes { presence.append(try reader.u8()) }
                var values: [FieldValue] = []
                values.reserveCapacity(fields.count)
                for (k, field) in fields.enumerated() where presence[k / 8] & (1 << UInt8(k % 8)) != 0 {
                    switch field.kind {
                    case .float: values.append(.float(Double(bitPattern: try reader.u64())))
                    case .integer: values.append(.integer(Int64(bitPattern: try reader.u64())))
                    case .unsigned: values.append(.unsigned(try reader.u64()))
                    case .string: values.append(.string(try reader.string()))
                    case .boolean: values.append(.boolean(try reader.u8() != 0))
                    }
                }
                if template?.presence != presence {
                    var named: [String: FieldValue] = [:]
                    named.reserveCapacity(values.count)
                    var next = values.makeIterator()
                    for (k, field) in fields.enumerated() where presence[k / 8] & (1 << UInt8(k % 8)) != 0 {
                        named[field.name] = next.next()
                    }
                    let positions = fields.indices.filter { presence[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }.map {
                        named.index(forKey: fields[$0].name)!
                    }
                    template = (presence, named, positions)
                }
                var named = template!.fields
                for (position, value) in zip(template!.positions, values) { named.values[position] = value }
                rows.append(Row(tags: tags, timestamp: timestamp, fields: named))
            }
        }
        guard reader.atEnd else { throw CodecError(reason: "bytes after the last series") }
        return rows
    }
}
