import LineProtocol

/// The index at the end of a column file, held in memory while the file is open: per series (in key order) its
/// tags and columns, and per block its time range, row count, where its chunks are and what they hold
/// (`ColumnStats`). Reads prune by it: a block outside a query's range, or a column not asked for, is never read.
struct ColumnFileIndex: Sendable, Equatable {
    /// Where a chunk is: its offset in the file and its length, checksum included.
    struct Chunk: Sendable, Equatable {
        var offset: UInt64
        var length: UInt32
    }

    struct ColumnDefinition: Sendable, Equatable {
        var name: String
        var kind: Column.Kind
    }

    /// One column of one block: absent when no row of the block has it.
    struct BlockColumn: Sendable, Equatable {
        var present: Int
        var chunk: Chunk
        var stats: ColumnStats
    }

    struct Block: Sendable, Equatable {
        var minTime: Int64
        var maxTime: Int64
        var rows: Int
        var timestamps: Chunk
        /// In the order of the series' `columns`; `nil` where the block has no value of that column.
        var columns: [BlockColumn?]
    }

    struct Series: Sendable, Equatable {
        let measurement: String
        let tags: [Tag]
        var columns: [ColumnDefinition]
        var blocks: [Block]
        /// The series key of `measurement` and `tags`, built once.
        let key: SeriesKey

        init(measurement: String, tags: [Tag], columns: [ColumnDefinition], blocks: [Block]) {
            self.measurement = measurement
            self.tags = tags
            self.columns = columns
            self.blocks = blocks
            key = SeriesKey(measurement: measurement, tags: tags)
        }
    }

    var series: [Series] = []
}
