import LineProtocol
import RaftStorage

/// Builds one column file's bytes, series by series in key order (a flushed memtable, or the merge of a
/// compaction): whole in memory (`finished`), or handed out as they are built (`drain`) to a `ColumnFileWriter`,
/// which writes them crash-safely.
struct ColumnFileBuilder {
    /// The file's bytes from `drained` on, not yet handed out by `drain()`.
    private(set) var bytes: [UInt8] = ColumnFileFormat.header
    /// How many of the file's first bytes `drain()` has handed out.
    private var drained: UInt64 = 0
    private var index = ColumnFileIndex()
    private var lastKey: SeriesKey?
    private var rowCount: UInt64 = 0
    private var minTime = Int64.max
    private var maxTime = Int64.min
    let blockRows: Int

    init(blockRows: Int = ColumnFileFormat.blockRows) {
        precondition(blockRows > 0)
        self.blockRows = blockRows
    }

    var isEmpty: Bool { index.series.isEmpty }

    /// Adds one series: `timestamps` strictly ascending, each column with one entry per timestamp. Series must
    /// come in ascending key order; a series without rows is skipped.
    mutating func append(
        measurement: String, tags: [Tag], timestamps: [Int64], columns: [(name: String, column: Column)]
    ) {
        guard !timestamps.isEmpty else { return }
        let sortedColumns = columns.sorted { $0.name < $1.name }
        var entry = ColumnFileIndex.Series(
            measurement: measurement, tags: tags.sorted { $0.key < $1.key },
            columns: sortedColumns.map { ColumnFileIndex.ColumnDefinition(name: $0.name, kind: $0.column.kind) },
            blocks: [])
        precondition(lastKey.map { $0 < entry.key } ?? true, "series must be appended in ascending key order")
        lastKey = entry.key
        var start = 0
        while start < timestamps.count {
            let rows = start..<min(timestamps.count, start + blockRows)
            let timestampChunk = appendChunk(TimestampCodec.encode(timestamps[rows]))
            var blockColumns: [ColumnFileIndex.BlockColumn?] = []
            for (_, column) in sortedColumns {
                guard let stats = ColumnStats.of(column, rows: rows) else {
                    blockColumns.append(nil)
                    continue
                }
                let present = rows.count { column.present[$0] }
                let chunk = appendChunk(ColumnChunk.encode(column, rows: rows))
                blockColumns.append(ColumnFileIndex.BlockColumn(present: present, chunk: chunk, stats: stats))
            }
            entry.blocks.append(
                ColumnFileIndex.Block(
                    minTime: timestamps[rows.lowerBound], maxTime: timestamps[rows.upperBound - 1], rows: rows.count,
                    timestamps: timestampChunk, columns: blockColumns))
            start = rows.upperBound
        }
        rowCount += UInt64(timestamps.count)
        minTime = min(minTime, timestamps[0])
        maxTime = max(maxTime, timestamps[timestamps.count - 1])
        index.series.append(entry)
    }

    /// The bytes built since the last call (the file's next bytes, in order), forgotten here: what lets a writer
    /// stream a large file to disk in bounded memory.
    mutating func drain() -> [UInt8] {
        drained += UInt64(bytes.count)
        defer { bytes = [] }
        return bytes
    }

    private mutating func appendChunk(_ payload: [UInt8]) -> ColumnFileIndex.Chunk {
        let offset = drained + UInt64(bytes.count)
        Checksummed.append(payload, to: &bytes)
        return ColumnFileIndex.Chunk(offset: offset, length: UInt32(payload.count + 4))
    }

    /// The rest of the file (the whole file if nothing was drained): chunks, index, footer. `coveredIndex`: the
    /// last Raft log entry whose effects the file holds.
    func finished(coveredIndex: UInt64) -> [UInt8] {
        var file = bytes
        let indexBytes = index.encoded()
        let footer = ColumnFileFormat.Footer(
            indexOffset: drained + UInt64(file.count), indexLength: UInt32(indexBytes.count),
            seriesCount: UInt32(index.series.count), rowCount: rowCount, coveredIndex: coveredIndex,
            minTime: isEmpty ? 0 : minTime, maxTime: isEmpty ? 0 : maxTime)
        Checksummed.append(indexBytes, to: &file)
        file += footer.encoded()
        return file
    }
}
