import LineProtocol

/// A deletion (`DELETE FROM … WHERE …`): the rows of `measurement` with `start <= time < end` in every series
/// whose tags pass every one of `conditions`, as they stood when the Raft log entry at `index` applied. Rows
/// written by later entries are not touched, whichever layer holds them.
///
/// The engine applies one to its memtable at once (the rows are removed there) and keeps it for the layers it
/// cannot change — the memtable being flushed and the column files — each of which records the last log entry
/// whose writes it holds: a tombstone hides rows of a layer that holds nothing newer than `index - 1`, and a
/// compaction drops those rows for good. The manifest keeps tombstones while a file they apply to exists, and a
/// snapshot carries them to the replica that installs it.
public struct Tombstone: Sendable, Equatable {
    /// The log entry that deleted (0 in a command, set when it applies).
    public var index: UInt64
    public var measurement: String
    /// Every one must hold for a series' rows to go (none: every series of the measurement).
    public var conditions: [TagCondition]
    public var start: Int64
    public var end: Int64

    public init(measurement: String, conditions: [TagCondition] = [], start: Int64 = .min, end: Int64 = .max) {
        index = 0
        self.measurement = measurement
        self.conditions = conditions
        self.start = start
        self.end = end
    }

    /// True if a series of this measurement with `tags` loses its rows in the range.
    public func matches(_ tags: [Tag]) -> Bool { conditions.allSatisfy { $0.holds(for: tags) } }

    /// True if the range holds `time`.
    func covers(_ time: Int64) -> Bool { time >= start && time < end }

    /// True if the range meets `[low, high]`.
    func overlaps(_ low: Int64, _ high: Int64) -> Bool { low < end && high >= start }

    /// True if it hides rows of a layer that holds the writes of entries up to `layerIndex`.
    func applies(toLayerCovering layerIndex: UInt64) -> Bool { layerIndex < index }

    // MARK: - Bytes

    /// Layout: index (u64), measurement (u32 length + UTF-8), start and end (i64), u32 count of conditions, each
    /// as key, u8 negated, u32 count of values, the values. Integers little-endian.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        put64(index, &out)
        putString(measurement, &out)
        put64(UInt64(bitPattern: start), &out)
        put64(UInt64(bitPattern: end), &out)
        put32(UInt32(conditions.count), &out)
        for condition in conditions {
            putString(condition.key, &out)
            out.append(condition.negated ? 1 : 0)
            put32(UInt32(condition.values.count), &out)
            for value in condition.values { putString(value, &out) }
        }
        return out
    }

    public init(bytes: ArraySlice<UInt8>) throws(CodecError) {
        var reader = BinaryReader(bytes)
        index = try reader.u64()
        measurement = try reader.string()
        start = Int64(bitPattern: try reader.u64())
        end = Int64(bitPattern: try reader.u64())
        conditions = []
        let count = Int(try reader.u32())
        try reader.need(count)  // each takes at least a byte: a bad count fails here, not in an allocation
        for _ in 0..<count {
            let key = try reader.string()
            let negated = try reader.u8() == 1
            let valueCount = Int(try reader.u32())
            try reader.need(valueCount)
            var values: [String] = []
            for _ in 0..<valueCount { values.append(try reader.string()) }
            conditions.append(TagCondition(key: key, values: values, negated: negated))
        }
        guard reader.atEnd else { throw CodecError(reason: "bytes after a tombstone") }
    }
}

/// `key IN (values)` (`NOT IN` when `negated`; one value is `=` or `!=`). A series without the tag passes
/// neither form: a missing tag is SQL's NULL, which no comparison matches.
public struct TagCondition: Sendable, Equatable {
    public var key: String
    public var values: [String]
    public var negated: Bool

    public init(key: String, values: [String], negated: Bool = false) {
        self.key = key
        self.values = values
        self.negated = negated
    }

    func holds(for tags: [Tag]) -> Bool {
        guard let tag = tags.first(where: { $0.key == key }) else { return false }
        return values.contains(tag.value) != negated
    }
}

/// The tombstones that hide rows of one series in one layer, and the time ranges they cover.
struct DeletedRanges {
    private(set) var ranges: [(start: Int64, end: Int64)] = []

    /// The ranges of those of `tombstones` that apply to a layer covering `layerIndex` for a series of
    /// `measurement` with `tags`.
    init(_ tombstones: [Tombstone], measurement: String, tags: [Tag], layerIndex: UInt64) {
        for tombstone in tombstones
        where tombstone.applies(toLayerCovering: layerIndex) && tombstone.measurement == measurement
            && tombstone.matches(tags)
        {
            ranges.append((tombstone.start, tombstone.end))
        }
    }

    /// The range of one tombstone, for a series it matches (the caller checked).
    init(_ tombstone: Tombstone) { ranges = [(tombstone.start, tombstone.end)] }

    var isEmpty: Bool { ranges.isEmpty }

    func contains(_ time: Int64) -> Bool { ranges.contains { time >= $0.start && time < $0.end } }

    /// True if one range holds all of `[low, high]`.
    func covers(_ low: Int64, _ high: Int64) -> Bool { ranges.contains { low >= $0.start && high < $0.end } }

    /// True if some range meets `[low, high]`.
    func overlaps(_ low: Int64, _ high: Int64) -> Bool { ranges.contains { low < $0.end && high >= $0.start } }
}

extension DeletedRanges {
    /// `removing(from:_:)` for a block as a file reads it.
    func removing(
        from rows: ([Int64], [(name: String, column: Column)])
    ) -> (timestamps: [Int64], columns: [(name: String, column: Column)]) { removing(from: rows.0, rows.1) }

    /// `timestamps` and `columns` without the rows whose time these ranges hold (unchanged, and not copied,
    /// when they hold none).
    func removing(
        from timestamps: [Int64], _ columns: [(name: String, column: Column)]
    ) -> (timestamps: [Int64], columns: [(name: String, column: Column)]) {
        guard let first = timestamps.first, let last = timestamps.last, overlaps(first, last) else {
            return (timestamps, columns)
        }
        let kept = timestamps.indices.filter { !contains(timestamps[$0]) }
        guard kept.count < timestamps.count else { return (timestamps, columns) }
        return (kept.map { timestamps[$0] }, columns.map { ($0.name, $0.column.selecting(kept)) })
    }
}

extension Tombstone {
    /// Appends a list as the manifest and the snapshot header keep it: the count, then each tombstone's length
    /// and bytes (varints).
    static func append(_ tombstones: [Tombstone], to bytes: inout [UInt8]) {
        Varint.append(UInt64(tombstones.count), to: &bytes)
        for tombstone in tombstones {
            let encoded = tombstone.bytes
            Varint.append(UInt64(encoded.count), to: &bytes)
            bytes += encoded
        }
    }

    /// Reads what `append` wrote at `position`, moving past it; nil if it does not decode.
    static func read(_ bytes: ArraySlice<UInt8>, at position: inout Int) -> [Tombstone]? {
        guard let count = Varint.read(bytes, at: &position), count <= UInt64(bytes.endIndex - position) else {
            return nil
        }
        var tombstones: [Tombstone] = []
        for _ in 0..<count {
            guard let length = Varint.read(bytes, at: &position), length <= UInt64(bytes.endIndex - position),
                let tombstone = try? Tombstone(bytes: bytes[position..<(position + Int(length))])
            else { return nil }
            position += Int(length)
            tombstones.append(tombstone)
        }
        return tombstones
    }
}
