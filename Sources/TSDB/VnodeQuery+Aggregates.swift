import LineProtocol

/// The answer to `VnodeQuery.aggregate`: u32 series count, then per series its tags (u32 count, key/value
/// strings), the field's kind (u8, 255 when rows are counted), its aggregate over the range, and u32 windows
/// count with each window's start (i64) and aggregate. An aggregate is count u64, sum f64, then min and max each
/// as u8 presence + f64.
extension VnodeQuery {
    static func encode(_ series: [SeriesAggregate]) -> [UInt8] {
        var out: [UInt8] = []
        func put(_ aggregate: FieldAggregate) {
            put64(UInt64(aggregate.count), &out)
            put64(aggregate.sum.bitPattern, &out)
            for bound in [aggregate.min, aggregate.max] {
                out.append(bound == nil ? 0 : 1)
                put64((bound ?? 0).bitPattern, &out)
            }
        }
        put32(UInt32(series.count), &out)
        for part in series {
            put32(UInt32(part.tags.count), &out)
            for tag in part.tags {
                putString(tag.key, &out)
                putString(tag.value, &out)
            }
            out.append(part.kind ?? 255)
            put(part.aggregate)
            put32(UInt32(part.windows.count), &out)
            for window in part.windows {
                put64(UInt64(bitPattern: window.start), &out)
                put(window.aggregate)
            }
        }
        return out
    }

    /// Decodes an aggregate answer.
    public static func aggregates(from answer: [UInt8]) throws(CodecError) -> [SeriesAggregate] {
        var reader = BinaryReader(answer[...])
        func aggregate() throws(CodecError) -> FieldAggregate {
            var aggregate = FieldAggregate()
            aggregate.count = Int(try reader.u64())
            aggregate.sum = Double(bitPattern: try reader.u64())
            let hasMin = try reader.u8() == 1
            let min = Double(bitPattern: try reader.u64())
            let hasMax = try reader.u8() == 1
            let max = Double(bitPattern: try reader.u64())
            aggregate.min = hasMin ? min : nil
            aggregate.max = hasMax ? max : nil
            return aggregate
        }
        var series: [SeriesAggregate] = []
        for _ in 0..<Int(try reader.u32()) {
            var tags: [Tag] = []
            for _ in 0..<Int(try reader.u32()) { tags.append(Tag(try reader.string(), try reader.string())) }
            let kind = try reader.u8()
            let total = try aggregate()
            var windows: [WindowAggregate] = []
            for _ in 0..<Int(try reader.u32()) {
                let start = Int64(bitPattern: try reader.u64())
                windows.append(WindowAggregate(start: start, aggregate: try aggregate()))
            }
            series.append(
                SeriesAggregate(tags: tags, kind: kind == 255 ? nil : kind, aggregate: total, windows: windows))
        }
        return series
    }
}

extension SeriesAggregate {
    /// True when the field holds integers (signed or not): its sum, min and max are whole numbers.
    public var isIntegral: Bool { kind == Column.Kind.integer.rawValue || kind == Column.Kind.unsigned.rawValue }
    /// True when the field holds numbers.
    public var isNumeric: Bool { isIntegral || kind == Column.Kind.float.rawValue }
}
