import LineProtocol
import MultiRaft

extension VnodeMachine {
    /// Answers a `VnodeQuery` (the read handler of the node's host): a view of the engine's layers is taken now,
    /// on the loop thread (copy-on-write, no rows copied), and read by the returned work off it.
    /// A read that meets a damaged file fails naming it, and so does every later one (`damage`): a damaged
    /// vnode serves nothing, so that the coordinator reads another replica.
    public func prepareAnswer(_ request: [UInt8]) -> ReadWork {
        guard let query = try? VnodeQuery(bytes: request) else { return .done([]) }
        let damage = damageFound
        switch query {
        case .scan(
            let measurement, let start, let end, let wanted, let fields, let seriesLimit, let rowBatches, let page):
            let tags = engine.seriesSelectors(wanted, of: measurement)
            let view = engine.view(of: measurement, tags: tags)
            if let page {
                // A page: no series limit (the caller pages only scans without one) and always a row batch.
                return .background {
                    try damage.watch {
                        var encoder = RowBatchCodec.Encoder()
                        let next = try view.scanPage(
                            measurement, start: start, end: end, tags: tags, fields: fields.map(Set.init),
                            after: page.after, rowBudget: page.rows, into: &encoder)
                        return ScanPage.answer(next: next, rows: encoder.finish())
                    }
                }
            }
            // A tag equality ignored here (a field of that name) is filtered by the caller: a limit would cut
            // rows before that filter ran.
            let limit = tags.count == wanted.count ? seriesLimit : nil
            return .background {
                try damage.watch {
                    try Self.answerScan(
                        view, measurement, start: start, end: end, tags: tags, fields: fields.map(Set.init),
                        seriesLimit: limit, rowBatches: rowBatches)
                }
            }
        case .aggregate(let measurement, let start, let end, let wanted, let field, let window):
            let tags = engine.seriesSelectors(wanted, of: measurement)
            let view = engine.view(of: measurement, tags: tags)
            return .background {
                let series = try damage.watch {
                    try view.aggregate(
                        measurement, field: field, start: start, end: end, window: window, tags: tags
                    ).series
                }
                return VnodeQuery.encode(series)
            }
        case .schema:
            // From the layers' indexes, at once: no rows are read.
            if let why = damage.value { return .background { throw ColumnFileError(.corrupt, why) } }
            return .done(Self.encode(engine.schemas()))
        case .checksum:
            let view = engine.view()
            return .background {
                var out: [UInt8] = []
                let (sum, rows) = try damage.watch { try view.checksum() }
                put64(sum, &out)
                put64(UInt64(rows), &out)
                return out
            }
        }
    }

    /// The rows of a scan as a `RowBatchCodec` batch, or (`rowBatches` false) a `PointCodec` batch, fields in
    /// name order.
    static func answerScan(
        _ view: EngineView, _ measurement: String, start: Int64, end: Int64, tags: [Tag],
        fields: Set<String>? = nil, seriesLimit: Int? = nil, rowBatches: Bool = false
    ) throws(ColumnFileError) -> [UInt8] {
        if rowBatches {
            // Straight from the merged columns: no row is made.
            var encoder = RowBatchCodec.Encoder()
            try view.scanSeries(
                measurement, start: start, end: end, tags: tags, fields: fields, seriesFilter: { _ in true }
            ) { seriesTags, merger in
                var rows = merger.sortedColumns()
                if let seriesLimit { rows.keepFirst(seriesLimit) }
                encoder.addSeries(tags: seriesTags, rows)
                return true
            }
            return encoder.finish()
        }
        var points: [Point] = []
        try view.scanInBatches(
            measurement, start: start, end: end, tags: tags, fields: fields, seriesLimit: seriesLimit,
            keepRowsWithoutFields: true
        ) { rows in
            for row in rows {
                var point = Point(
                    measurement: measurement, tags: [],
                    fields: row.fields.sorted { $0.key < $1.key }.map { Field($0.key, $0.value) },
                    timestamp: row.timestamp)
                point.tags = row.tags
                points.append(point)
            }
            return true
        }
        return PointCodec.encode(points)
    }

    /// Per measurement its tag keys and field types, as `VnodeQuery.schema` answers them.
    static func encode(_ schemas: [String: MeasurementColumns]) -> [UInt8] {
        var out: [UInt8] = []
        put32(UInt32(schemas.count), &out)
        for name in schemas.keys.sorted() {
            let schema = schemas[name]!
            putString(name, &out)
            put32(UInt32(schema.tags.count), &out)
            for tag in schema.tags.sorted() { putString(tag, &out) }
            put32(UInt32(schema.fields.count), &out)
            for field in schema.fields.keys.sorted() {
                putString(field, &out)
                putString(schema.fields[field]!.typeName, &out)
            }
        }
        return out
    }
}
