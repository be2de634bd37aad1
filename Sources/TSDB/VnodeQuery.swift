import LineProtocol
import MultiRaft

/// A read of one vnode, as bytes, so that a node without a replica can ask one that has it (over the Raft
/// transport). `0x01` scan: measurement, start i64, end i64 → the rows as a `PointCodec` batch. `0x02` schema →
/// per measurement its tag keys and field types. `0x03` checksum → the checksum of the applied data (u64) and the
/// number of points (u64).
public enum VnodeQuery: Sendable, Equatable {
    case scan(measurement: String, start: Int64, end: Int64)
    case schema
    case checksum

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .scan(let measurement, let start, let end):
            out.append(1)
            putString(measurement, &out)
            put64(UInt64(bitPattern: start), &out)
            put64(UInt64(bitPattern: end), &out)
        case .schema:
            out.append(2)
        case .checksum:
            out.append(3)
        }
        return out
    }

    public init(bytes: [UInt8]) throws(CodecError) {
        var reader = BinaryReader(bytes[...])
        switch try reader.u8() {
        case 1:
            self = .scan(
                measurement: try reader.string(), start: Int64(bitPattern: try reader.u64()),
                end: Int64(bitPattern: try reader.u64()))
        case 2:
            self = .schema
        case 3:
            self = .checksum
        case let kind:
            throw CodecError(reason: "unknown vnode query \(kind)")
        }
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

extension VnodeStore {
    /// Answers a `VnodeQuery` (the read handler of the node's host).
    /// `answer(request)`, with a scan computed off the loop thread: the series of the measurement are frozen
    /// now (copy-on-write: nothing is copied until the store writes to them) and read by the returned work.
    public func prepareAnswer(_ request: [UInt8]) -> ReadWork {
        guard case .scan(let measurement, let start, let end)? = try? VnodeQuery(bytes: request) else {
            return .done(answer(request))
        }
        let frozen = (byMeasurement[measurement] ?? []).map { $0.frozen() }
        return .background { Self.encodeScan(of: frozen, start: start, end: end) }
    }

    /// The rows of `series` in `[start, end)`, as `answer` encodes a scan (fields in name order).
    static func encodeScan(of series: [SeriesColumns], start: Int64, end: Int64) -> [UInt8] {
        var points: [Point] = []
        for data in series {
            var low = 0
            var high = data.timestamps.count
            while low < high {
                let middle = (low + high) / 2
                if data.timestamps[middle] < start { low = middle + 1 } else { high = middle }
            }
            var row = low
            while row < data.timestamps.count && data.timestamps[row] < end {
                points.append(data.point(at: row))
                row += 1
            }
        }
        return PointCodec.encode(points)
    }

    public func answer(_ request: [UInt8]) -> [UInt8] {
        guard let query = try? VnodeQuery(bytes: request) else { return [] }
        switch query {
        case .checksum:
            var out: [UInt8] = []
            put64(checksum, &out)
            put64(UInt64(pointCount), &out)
            return out
        case .scan(let measurement, let start, let end):
            let rows = scan(measurement, start: start, end: end)
            return PointCodec.encode(
                rows.map { row in
                    var point = Point(
                        measurement: measurement, tags: [],
                        fields: row.fields.sorted { $0.key < $1.key }.map { Field($0.key, $0.value) },
                        timestamp: row.timestamp)
                    point.tags = row.tags
                    return point
                })
        case .schema:
            var out: [UInt8] = []
            let names = measurements
            put32(UInt32(names.count), &out)
            for name in names {
                let s = schema(of: name)
                putString(name, &out)
                put32(UInt32(s.tags.count), &out)
                for tag in s.tags.sorted() { putString(tag, &out) }
                put32(UInt32(s.fields.count), &out)
                for (field, type) in s.fields.sorted(by: { $0.key < $1.key }) {
                    putString(field, &out)
                    putString(type, &out)
                }
            }
            return out
        }
    }
}

extension VnodeQuery {
    /// Decodes the rows of a scan answer.
    public static func rows(from answer: [UInt8]) throws(CodecError) -> [Row] {
        try PointCodec.decode(answer[...]).map { point in
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
