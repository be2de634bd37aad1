import LineProtocol
import MultiRaft

/// A read of one vnode, as bytes, so that a node without a replica can ask one that has it (over the Raft
/// transport): a query plan the vnode answers itself, so that only what the query needs travels.
///
/// `0x01` scan: measurement, start i64, end i64, then (optional) u32 count + tag key/value pairs, then (optional)
/// u8 1 + u32 count + field names (a projection: only those fields travel, and rows without any of them still
/// do, empty), then (optional) u8 1 + u64 n (at most the first n rows of each series), then (optional) u8 1 for an
/// answer in row batches, then (optional) u8 1 + a `ScanPage` (u64 rows, u8 1 + the cursor's key as u32 length
/// and bytes + u8 1 + i64 time or u8 0, or u8 0 for the first page: the answer is then a page, see
/// `VnodeQuery.page(from:)`; a node that predates pages answers every row) → the rows of the series that have every one of those tags, as a `RowBatchCodec` batch
/// when asked for, else as a `PointCodec` batch (which nodes that predate row batches ask for; a key that is a field of the measurement in
/// that vnode selects nothing there: a row lacking the tag may match through the field, so the caller filters,
/// and the vnode then ignores the series limit). `0x02` schema → per measurement its tag
/// keys and field types. `0x03` checksum → the checksum of the applied data (u64) and the number of points (u64).
/// `0x04` aggregate: measurement, start, end, tags (as a scan: the caller pushes only keys no vnode has as fields), field (u8 0 = rows counted, 1 + string), window
/// (u8 0 = none, 1 + i64 width) → per series its partial aggregate (`VnodeQuery.aggregates(from:)`).
public enum VnodeQuery: Sendable, Equatable {
    case scan(
        measurement: String, start: Int64, end: Int64, tags: [Tag] = [], fields: [String]? = nil,
        seriesLimit: Int? = nil, rowBatches: Bool = false, page: ScanPage? = nil)
    case schema
    case checksum
    case aggregate(measurement: String, start: Int64, end: Int64, tags: [Tag], field: String?, window: Int64?)

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        func range(_ measurement: String, _ start: Int64, _ end: Int64, _ tags: [Tag]) {
            putString(measurement, &out)
            put64(UInt64(bitPattern: start), &out)
            put64(UInt64(bitPattern: end), &out)
            put32(UInt32(tags.count), &out)
            for tag in tags {
                putString(tag.key, &out)
                putString(tag.value, &out)
            }
        }
        switch self {
        case .scan(
            let measurement, let start, let end, let tags, let fields, let seriesLimit, let rowBatches, let page):
            out.append(1)
            range(measurement, start, end, tags)
            if let fields {
                out.append(1)
                put32(UInt32(fields.count), &out)
                for field in fields { putString(field, &out) }
            } else {
                out.append(0)
            }
            if let seriesLimit {
                out.append(1)
                put64(UInt64(seriesLimit), &out)
            } else {
                out.append(0)
            }
            out.append(rowBatches ? 1 : 0)
            if let page {
                out.append(1)
                put64(UInt64(page.rows), &out)
                ScanPage.put(page.after, &out)
            }
        case .schema:
            out.append(2)
        case .checksum:
            out.append(3)
        case .aggregate(let measurement, let start, let end, let tags, let field, let window):
            out.append(4)
            range(measurement, start, end, tags)
            if let field {
                out.append(1)
                putString(field, &out)
            } else {
                out.append(0)
            }
            if let window {
                out.append(1)
                put64(UInt64(bitPattern: window), &out)
            } else {
                out.append(0)
            }
        }
        return out
    }

    public init(bytes: [UInt8]) throws(CodecError) {
        var reader = BinaryReader(bytes[...])
        func tags() throws(CodecError) -> [Tag] {
            guard !reader.atEnd else { return [] }
            var tags: [Tag] = []
            for _ in 0..<Int(try reader.u32()) { tags.append(Tag(try reader.string(), try reader.string())) }
            return tags
        }
        switch try reader.u8() {
        case 1:
            let measurement = try reader.string()
            let start = Int64(bitPattern: try reader.u64())
            let end = Int64(bitPattern: try reader.u64())
            let tags = try tags()
            var fields: [String]?
            var seriesLimit: Int?
            if !reader.atEnd, try reader.u8() == 1 {
                var names: [String] = []
                for _ in 0..<Int(try reader.u32()) { names.append(try reader.string()) }
                fields = names
            }
            if !reader.atEnd, try reader.u8() == 1 {
                let limit = try reader.u64()
                guard limit <= UInt64(Int.max) else { throw CodecError(reason: "a series limit out of range") }
                seriesLimit = Int(limit)
            }
            var rowBatches = false
            if !reader.atEnd { rowBatches = try reader.u8() == 1 }
            var page: ScanPage?
            if !reader.atEnd, try reader.u8() == 1 {
                let rows = try reader.u64()
                guard rows > 0 && rows <= UInt64(Int32.max) else { throw CodecError(reason: "a page of \(rows) rows") }
                page = ScanPage(rows: Int(rows), after: try ScanPage.cursor(&reader))
            }
            self = .scan(
                measurement: measurement, start: start, end: end, tags: tags, fields: fields,
                seriesLimit: seriesLimit, rowBatches: rowBatches, page: page)
        case 2:
            self = .schema
        case 3:
            self = .checksum
        case 4:
            let measurement = try reader.string()
            let start = Int64(bitPattern: try reader.u64())
            let end = Int64(bitPattern: try reader.u64())
            let tags = try tags()
            let field = try reader.u8() == 1 ? try reader.string() : nil
            let window = try reader.u8() == 1 ? Int64(bitPattern: try reader.u64()) : nil
            guard window.map({ $0 > 0 }) ?? true else { throw CodecError(reason: "a window has a positive width") }
            self = .aggregate(
                measurement: measurement, start: start, end: end, tags: tags, field: field, window: window)
        case let kind:
            throw CodecError(reason: "unknown vnode query \(kind)")
        }
    }

    /// True for a series with every one of `tags`.
    static func has(_ tags: [Tag], _ series: [Tag]) -> Bool {
        tags.allSatisfy { wanted in series.contains { $0.key == wanted.key && $0.value == wanted.value } }
    }
}

/// A measurement's columns.
public struct MeasurementSchema: Sendable, Equatable {
    public var tags: Set<String>
    public var fields: [String: String]
    public init(tags: Set<String>, fields: [String: String]) {
        self.tags = tags
        self.fields = fields
    }
}

extension VnodeQuery {
    /// Decodes the rows of a scan answer.
    public static func rows(from answer: [UInt8]) throws(CodecError) -> [Row] {
        if RowBatchCodec.isRowBatch(answer[...]) { return try RowBatchCodec.decode(answer[...]) }
        return try PointCodec.decode(answer[...]).map { point in
            Row(
                tags: point.tags, timestamp: point.timestamp,
                fields: Dictionary(point.fields.map { ($0.key, $0.value) }) { _, b in b })
        }
    }

    /// Decodes a schema answer.
    public static func schemas(from answer: [UInt8]) throws(CodecError) -> [String: MeasurementSchema] {
        var reader = BinaryReader(answer[...])
        var result: [String: MeasurementSchema] = [:]
        let count = Int(try reader.u32())
        for _ in 0..<count {
            let name = try reader.string()
            var tags: Set<String> = []
            for _ in 0..<Int(try reader.u32()) { tags.insert(try reader.string()) }
            var fields: [String: String] = [:]
            for _ in 0..<Int(try reader.u32()) { fields[try reader.string()] = try reader.string() }
            result[name] = MeasurementSchema(tags: tags, fields: fields)
        }
        return result
    }
}

/// The answer to `VnodeQuery.checksum`.
public struct VnodeChecksum: Sendable, Equatable {
    public var checksum: UInt64
    public var points: UInt64

    public init(checksum: UInt64, points: UInt64) {
        self.checksum = checksum
        self.points = points
    }

    public init(answer: [UInt8]) throws(CodecError) {
        var reader = BinaryReader(answer[...])
        checksum = try reader.u64()
        points = try reader.u64()
    }
}
