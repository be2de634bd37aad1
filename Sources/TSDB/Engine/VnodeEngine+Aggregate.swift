import LineProtocol

/// A field's count, sum, min and max over a time range of one series: the partial aggregate a vnode answers, for
/// the query node to combine across series and replica sets (`merge`). Numbers of every type are summed and
/// compared as `Double` (integers beyond 2^53 lose precision); strings and booleans are counted only.
public struct FieldAggregate: Sendable, Equatable {
    public var count = 0
    public var sum = 0.0
    public var min: Double?
    public var max: Double?

    public init() {}

    mutating func add(_ value: FieldValue) {
        count += 1
        let number: Double
        switch value {
        case .float(let v): number = v
        case .integer(let v): number = Double(v)
        case .unsigned(let v): number = Double(v)
        case .string, .boolean: return
        }
        sum += number
        min = Swift.min(min ?? number, number)
        max = Swift.max(max ?? number, number)
    }

    /// Adds another part (another block, series or replica set).
    public mutating func merge(_ other: FieldAggregate) {
        count += other.count
        sum += other.sum
        if let low = other.min { min = Swift.min(min ?? low, low) }
        if let high = other.max { max = Swift.max(max ?? high, high) }
    }

    /// The aggregate of a block from its stats: `nil` when they cannot stand for its values (an integer sum that
    /// overflowed).
    init?(present: Int, stats: ColumnStats) {
        count = present
        switch stats {
        case .float(let low, let high, let total):
            (min, max, sum) = (low, high, total)
        case .integer(let low, let high, let total, let exact):
            guard exact else { return nil }
            (min, max, sum) = (Double(low), Double(high), Double(total))
        case .unsigned(let low, let high, let total, let exact):
            guard exact else { return nil }
            (min, max, sum) = (Double(low), Double(high), Double(total))
        case .boolean, .string:
            break
        }
    }
}

/// One series' part of an aggregate query.
public struct SeriesAggregate: Sendable, Equatable {
    public var tags: [Tag]
    /// The field's column kind (`Column.Kind`'s raw value; `nil` when rows are counted).
    public var kind: UInt8?
    /// Over the whole range.
    public var aggregate: FieldAggregate
    /// Per window of the query's width that holds values, in time order (empty without a width).
    public var windows: [WindowAggregate] = []
}

/// One time window's part of an aggregate: `start` is a multiple of the width (`GROUP BY time(width)`).
public struct WindowAggregate: Sendable, Equatable {
    public var start: Int64
    public var aggregate: FieldAggregate
}

/// The start of the window of width `width` holding `time` (windows are aligned to multiples of the width).
func windowStart(_ time: Int64, width: Int64) -> Int64 {
    let offset = time % width
    return offset >= 0 ? time - offset : time - offset - width
}

extension VnodeEngine {
    /// `field`'s aggregate per series of `measurement` over `start <= time < end`, as `scan` would see the rows,
    /// and per window of `window` nanoseconds when given. A file block wholly inside the range (and inside one
    /// window) whose time span no other layer of the series touches is answered from its stats without being
    /// read; the rest is read and merged (newest write wins) first.
    /// - Returns: the series with at least one value of the field, in key order, and how many blocks were
    ///   answered from their stats.
    public func aggregate(
        _ measurement: String, field: String?, start: Int64 = .min, end: Int64 = .max, window: Int64? = nil,
        seriesFilter: ([Tag]) -> Bool = { _ in true }
    ) throws(ColumnFileError) -> (series: [SeriesAggregate], blocksFromStats: Int) {
        try view(of: measurement).aggregate(
            measurement, field: field, start: start, end: end, window: window, seriesFilter: seriesFilter)
    }
}

extension EngineView {
    /// `VnodeEngine.aggregate` over this view; `tags`: only series with every one of them (found through the
    /// files' inverted indexes).
    public func aggregate(
        _ measurement: String, field: String?, start: Int64 = .min, end: Int64 = .max, window: Int64? = nil,
        tags: [Tag] = [], seriesFilter: ([Tag]) -> Bool = { _ in true }
    ) throws(ColumnFileError) -> (series: [SeriesAggregate], blocksFromStats: Int) {
        precondition(window.map { $0 > 0 } ?? true, "a window has a positive width")
        /// Where a series' rows are, layer by layer (files by position, then the memory layers).
        struct Span {
            var layer: Int
            var minTime: Int64
            var maxTime: Int64
        }
        var spans: [SeriesKey: [Span]] = [:]
        var tagsOf: [SeriesKey: [Tag]] = [:]
        /// Per series, its positions in the files that hold it (by file).
        var inFiles: [SeriesKey: [(file: Int, position: Int)]] = [:]
        for (layer, file) in files.enumerated() {
            for (position, series) in file.entries(of: measurement, with: tags) {
                guard seriesFilter(series.tags) else { continue }
                let key = series.key
                tagsOf[key] = series.tags
                inFiles[key, default: []].append((layer, position))
                for block in series.blocks {
                    spans[key, default: []].append(Span(layer: layer, minTime: block.minTime, maxTime: block.maxTime))
                }
            }
        }
        let memoryLayers = memory
        for (offset, layer) in memoryLayers.enumerated() {
            for (key, data) in layer
            where data.measurement == measurement && !data.timestamps.isEmpty && VnodeQuery.has(tags, data.tags)
                && seriesFilter(data.tags)
            {
                tagsOf[key] = data.tags
                spans[key, default: []].append(
                    Span(layer: files.count + offset, minTime: data.timestamps[0], maxTime: data.timestamps.last!))
            }
        }
        var result: [SeriesAggregate] = []
        var blocksFromStats = 0
        for key in tagsOf.keys.sorted() {
            let seriesSpans = spans[key] ?? []
            var total = FieldAggregate()
            var windows: [Int64: FieldAggregate] = [:]
            var merger = RowMerger()
            // The field's type is the one its oldest layer gives it (values of another type are skipped, as
            // `scan` skips them).
            let held = (inFiles[key] ?? []).map { (layer: $0.file, series: files[$0.file].index.series[$0.position]) }
            var fieldKind: Column.Kind?
            for (layer, series) in held where fieldKind == nil && field != nil {
                // A file whose rows of the series are all deleted gives the field no type (`RowMerger.add`).
                let deleted = self.deleted(in: files[layer], measurement, series.tags)
                guard !series.blocks.allSatisfy({ deleted.covers($0.minTime, $0.maxTime) }) else { continue }
                fieldKind = series.columns.first { $0.name == field }?.kind
            }
            for layer in memoryLayers where fieldKind == nil && field != nil {
                fieldKind = layer[key]?.columns.first { $0.name == field }?.column.kind
            }
            for (layer, series) in held {
                let file = files[layer]
                let column = series.columns.firstIndex { $0.name == field && $0.kind == fieldKind }
                let deleted = self.deleted(in: file, measurement, series.tags)
                for (b, block) in series.blocks.enumerated() where block.maxTime >= start && block.minTime < end {
                    // A block some of whose rows are deleted is read: its stats count them.
                    let inside =
                        !deleted.overlaps(block.minTime, block.maxTime) && block.minTime >= start
                        && block.maxTime < end
                        && window.map { windowStart(block.minTime, width: $0) == windowStart(block.maxTime, width: $0) }
                            ?? true
                    let alone = !seriesSpans.contains {
                        $0.layer != layer && $0.minTime <= block.maxTime && $0.maxTime >= block.minTime
                    }
                    if inside && alone && field == nil {
                        var part = FieldAggregate()
                        part.count = block.rows
                        total.merge(part)
                        if let window {
                            windows[windowStart(block.minTime, width: window), default: .init()].merge(part)
                        }
                        blocksFromStats += 1
                        continue
                    }
                    if inside && alone {
                        guard let column, let entry = block.columns[column] else { continue }  // no value here
                        if let part = FieldAggregate(present: entry.present, stats: entry.stats) {
                            total.merge(part)
                            if let window {
                                windows[windowStart(block.minTime, width: window), default: .init()].merge(part)
                            }
                            blocksFromStats += 1
                            continue
                        }
                    }
                    let (timestamps, columns) = deleted.removing(
                        from: try file.rows(series, block: b) {
                            field == nil || ($0.name == field && $0.kind == fieldKind)
                        })
                    // Rows without the field still hide nothing: an upsert keeps the fields it lacks.
                    merger.add(timestamps: timestamps, columns: columns, start: start, end: end)
                }
            }
            for layer in memoryLayers {
                guard let data = layer[key] else { continue }
                merger.add(
                    timestamps: data.timestamps,
                    columns: data.columns.filter {
                        field == nil || ($0.name == field && $0.column.kind == fieldKind)
                    }, start: start,
                    end: end)
            }
            // From the merged columns: no row is made.
            let merged = merger.sortedColumns()
            if let field {
                if let column = merged.names.firstIndex(of: field) {
                    for (row, value) in merged.values[column].enumerated() {
                        guard let value else { continue }
                        total.add(value)
                        if let window {
                            windows[windowStart(merged.timestamps[row], width: window), default: .init()].add(value)
                        }
                    }
                }
            } else {
                // Rows counted: every row holds at least one field.
                for (row, timestamp) in merged.timestamps.enumerated()
                where merged.values.contains(where: { $0[row] != nil }) {
                    total.count += 1
                    if let window { windows[windowStart(timestamp, width: window), default: .init()].count += 1 }
                }
            }
            if total.count > 0 {
                result.append(
                    SeriesAggregate(
                        tags: tagsOf[key]!, kind: fieldKind?.rawValue, aggregate: total,
                        windows: windows.keys.sorted().map { WindowAggregate(start: $0, aggregate: windows[$0]!) }))
            }
        }
        return (result, blocksFromStats)
    }
}
