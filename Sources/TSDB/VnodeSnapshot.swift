import LineProtocol
import MultiRaft

/// A vnode's snapshot format and its frozen source.
///
/// The data is a sequence of frames, `u32` little-endian length + one `PointCodec` batch of at most
/// `pointsPerFrame` points, in canonical order (series sorted by key, rows by time, fields by name). Frames let
/// the snapshot be written and restored a piece at a time: neither side ever holds the whole vnode as bytes.
struct VnodeSnapshotSource: SnapshotSource {
    static let pointsPerFrame = 4_096

    /// Every series' columns as of the moment the source was taken (copy-on-write arrays: taking them copies
    /// nothing; the store's later writes copy only what they touch).
    let series: [SeriesColumns]

    func write(_ emit: ([UInt8]) throws -> Void) throws {
        var batch: [Point] = []
        batch.reserveCapacity(Self.pointsPerFrame)
        func flush() throws {
            guard !batch.isEmpty else { return }
            let body = PointCodec.encode(batch)
            var frame: [UInt8] = []
            frame.reserveCapacity(4 + body.count)
            let length = UInt32(body.count)
            for shift in stride(from: 0, to: 32, by: 8) {
                frame.append(UInt8(truncatingIfNeeded: length >> UInt32(shift)))
            }
            frame += body
            try emit(frame)
            batch.removeAll(keepingCapacity: true)
        }
        for data in series {
            for row in 0..<data.timestamps.count {
                batch.append(data.point(at: row))
                if batch.count == Self.pointsPerFrame { try flush() }
            }
        }
        try flush()
    }
}

/// One series' rows, frozen: what `SeriesData` holds, as values.
struct SeriesColumns: Sendable {
    let measurement: String
    let tags: [Tag]
    let timestamps: [Int64]
    /// Sorted by field name.
    let columns: [(name: String, column: Column)]

    func point(at row: Int) -> Point {
        var fields: [Field] = []
        for (name, column) in columns { if let value = column.value(at: row) { fields.append(Field(name, value)) } }
        var point = Point(measurement: measurement, tags: [], fields: fields, timestamp: timestamps[row])
        point.tags = tags
        return point
    }
}

/// Reads a vnode snapshot's frames from chunks of any size.
struct VnodeSnapshotFrames {
    private var buffer: [UInt8] = []
    private var start = 0

    /// Adds `chunk` and returns the points of every frame now complete.
    mutating func take(_ chunk: [UInt8]) throws(CodecError) -> [[Point]] {
        buffer += chunk
        var batches: [[Point]] = []
        while buffer.count - start >= 4 {
            var length = 0
            for k in 0..<4 { length |= Int(buffer[start + k]) << (8 * k) }
            guard buffer.count - start - 4 >= length else { break }
            batches.append(try PointCodec.decode(buffer[(start + 4)..<(start + 4 + length)]))
            start += 4 + length
        }
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        return batches
    }

    /// Checks that the data ended on a frame boundary.
    func finish() throws(CodecError) {
        guard buffer.isEmpty else {
            throw CodecError(reason: "the snapshot ends inside a frame (\(buffer.count) bytes left over)")
        }
    }
}
