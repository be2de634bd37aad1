import LineProtocol

/// The index at the end of a column file, held in memory while the file is open: per series (in key order) its
/// tags and columns, and per block its time range, row count, where its chunks are and what they hold
/// (`ColumnStats`). Reads prune by it: a block outside a query's range, or a column not asked for, is never read.
///
/// It is kept as its encoded bytes (about a fifth of the decoded structures' size: what keeps a node's memory
/// flat as files accumulate) with each entry's start, and an entry is decoded when it is asked for; the bytes
/// were checked whole when the file was opened (checksum, and a pass that checks every part of every entry).
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

    /// The entries, in key order; each decoded on access (decode once per use, not once per block).
    struct Entries: RandomAccessCollection, Sendable, Equatable {
        /// The entries' bytes, one after the other.
        private(set) var bytes: [UInt8] = []
        /// Where each entry starts in `bytes`.
        private(set) var starts: [UInt32] = []

        init() {}

        /// Entries already checked to decode (`ColumnFileIndex.decode`).
        init(bytes: [UInt8], starts: [UInt32]) {
            self.bytes = bytes
            self.starts = starts
        }

        var startIndex: Int { 0 }
        var endIndex: Int { starts.count }

        subscript(position: Int) -> Series {
            let end = position + 1 < starts.count ? Int(starts[position + 1]) : bytes.count
            // Checked whole when the index was built or opened: a failure here is a bug, not damage.
            guard let entry = ColumnFileIndex.decodeEntry(bytes[Int(starts[position])..<end]) else {
                preconditionFailure("an index entry that decoded when the file was opened no longer decodes")
            }
            return entry
        }

        /// Adds an entry (the builder).
        mutating func append(_ entry: Series) {
            starts.append(UInt32(bytes.count))
            ColumnFileIndex.encode(entry, to: &bytes)
        }
    }

    var series = Entries()
}
