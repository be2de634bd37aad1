import LineProtocol

/// Where a paged scan goes on: after the whole series `key` (`time` nil), or in that series after `time`.
public struct ScanCursor: Sendable, Equatable {
    public var key: SeriesKey
    public var time: Int64?

    public init(key: SeriesKey, time: Int64?) {
        self.key = key
        self.time = time
    }
}

extension EngineView {
    /// One page of a scan: the rows `scanSeries` gives after `after` (from the start when nil), series in key
    /// order and each in time order, into `encoder`, until about `rowBudget` rows are in; answers where the next
    /// page starts, nil when the scan is done. A series bigger than what is left of the budget is cut in time:
    /// its rows before the first block that would pass the budget (block row counts from the files' indexes, so
    /// no block past the cut is read), and the page ends there. Memory holds one page and the blocks it reads;
    /// a page goes past `rowBudget` by at most one block per file and a series' memtable rows.
    func scanPage(
        _ measurement: String, start: Int64, end: Int64, tags: [Tag], fields: Set<String>?, after: ScanCursor?,
        rowBudget: Int, into encoder: inout RowBatchCodec.Encoder
    ) throws(ColumnFileError) -> ScanCursor? {
        let located = locate(measurement, tags: tags) { _ in true }
        var first = 0
        if let after {
            var (low, high) = (0, located.count)
            while low < high {
                let middle = (low + high) / 2
                if located[middle].key < after.key { low = middle + 1 } else { high = middle }
            }
            first = low
            if after.time == nil && first < located.count && located[first].key == after.key { first += 1 }
        }
        var used = 0
        var previous: SeriesKey?
        for position in first..<located.count {
            let series = located[position]
            var from = start
            if let after, let time = after.time, series.key == after.key {
                guard time < Int64.max else { continue }
                from = max(start, time + 1)
            }
            guard from < end else { continue }
            let until: Int64
            switch cut(series, from: from, end: end, budget: rowBudget - used, pageIsEmpty: used == 0) {
            case .whole: until = end
            case .before(let time): until = time
            case .nextPage:
                // The next page starts with this series (`used > 0`: a series before it gave this page rows).
                return ScanCursor(key: previous!, time: nil)
            }
            let rows = try merge(series, start: from, end: until, fields: fields).sortedColumns()
            encoder.addSeries(tags: series.tags, rows)
            used += rows.timestamps.count
            previous = series.key
            if until < end { return ScanCursor(key: series.key, time: until - 1) }
            if used >= rowBudget { return position + 1 < located.count ? ScanCursor(key: series.key, time: nil) : nil }
        }
        return nil
    }

    /// How much of a series goes into a page with `budget` rows left.
    private enum Cut {
        /// The whole series (its rows in range fit, as far as the block counts tell).
        case whole
        /// Its rows before this time.
        case before(Int64)
        /// None of it: its first blocks alone pass the budget, and the page has rows already.
        case nextPage
    }

    private func cut(_ series: SeriesLocation, from: Int64, end: Int64, budget: Int, pageIsEmpty: Bool) -> Cut {
        var blocks: [(minTime: Int64, maxTime: Int64, rows: Int)] = []
        var total = 0
        for (f, s) in series.files {
            for block in files[f].index.series[s].blocks where block.maxTime >= from && block.minTime < end {
                blocks.append((block.minTime, block.maxTime, block.rows))
                total += block.rows
            }
        }
        guard total > budget else { return .whole }
        blocks.sort { $0.minTime < $1.minTime }
        // The blocks that start at `from` or before (one per file at most: a file's blocks of a series do not
        // overlap): any page that starts at `from` holds rows of them.
        var counted = 0
        var next = 0
        while next < blocks.count && blocks[next].minTime <= from {
            counted += blocks[next].rows
            next += 1
        }
        if counted > budget {
            guard pageIsEmpty else { return .nextPage }
            // A page of their rows up to where the first of them ends or another block begins: nothing else.
            let firstEnd = blocks[..<next].map(\.maxTime).min()!
            let cut = min(
                firstEnd == Int64.max ? Int64.max : firstEnd + 1, next < blocks.count ? blocks[next].minTime : .max)
            return cut >= end ? .whole : .before(cut)
        }
        // Then block by block: the rows before a block's start are in the blocks counted before it.
        while next < blocks.count {
            counted += blocks[next].rows
            if counted > budget { return .before(blocks[next].minTime) }
            next += 1
        }
        return .whole
    }
}
