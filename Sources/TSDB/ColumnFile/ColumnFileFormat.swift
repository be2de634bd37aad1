/// The layout of a column file (version 1), every integer little-endian:
///
/// ```
/// header  "FLCF", version (u8), 3 zero bytes                                              8 bytes
/// chunks  per series in key order, per block of at most `blockRows` rows: the timestamps
///         (`TimestampCodec`), then one chunk per column the block has values of (`ColumnChunk`);
///         each chunk is its payload followed by its CRC32C (u32)
/// index   `ColumnFileIndex` (varints), then its CRC32C (u32)
/// footer  index offset (u64), index length without its checksum (u32), series count (u32),
///         row count (u64), covered Raft index (u64), min time (i64), max time (i64),
///         version (u8), 3 zero bytes, "FLCF"                                              56 bytes
/// ```
///
/// A file is immutable once written: it is built in memory, written to a temporary name, synced, renamed into
/// place and its directory synced. The covered Raft index is the last log entry whose effects the file holds
/// (with the files before it): the log before it is no longer needed to rebuild the vnode.
enum ColumnFileFormat {
    static let magic: [UInt8] = Array("FLCF".utf8)
    static let version: UInt8 = 1
    static let headerSize = 8
    static let footerSize = 56
    /// Rows per block: large enough for the codecs to pay off, small enough that a point query reads little.
    static let blockRows = 1_000

    static var header: [UInt8] { magic + [version, 0, 0, 0] }

    /// What the footer says.
    struct Footer: Sendable, Equatable {
        var indexOffset: UInt64
        var indexLength: UInt32
        var seriesCount: UInt32
        var rowCount: UInt64
        var coveredIndex: UInt64
        var minTime: Int64
        var maxTime: Int64

        func encoded() -> [UInt8] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(ColumnFileFormat.footerSize)
            put64(indexOffset, &bytes)
            put32(indexLength, &bytes)
            put32(seriesCount, &bytes)
            put64(rowCount, &bytes)
            put64(coveredIndex, &bytes)
            put64(UInt64(bitPattern: minTime), &bytes)
            put64(UInt64(bitPattern: maxTime), &bytes)
            bytes += [ColumnFileFormat.version, 0, 0, 0]
            bytes += ColumnFileFormat.magic
            return bytes
        }

        /// The footer in the file's last `footerSize` bytes; `nil` unless they hold one (of any version: the
        /// version byte is at `versionOffset`).
        static func decode(_ bytes: ArraySlice<UInt8>) -> Footer? {
            guard bytes.count == ColumnFileFormat.footerSize, Array(bytes.suffix(4)) == ColumnFileFormat.magic else {
                return nil
            }
            var reader = BinaryReader(bytes)
            return try? Footer(
                indexOffset: reader.u64(), indexLength: reader.u32(), seriesCount: reader.u32(), rowCount: reader.u64(),
                coveredIndex: reader.u64(), minTime: Int64(bitPattern: reader.u64()),
                maxTime: Int64(bitPattern: reader.u64()))
        }

        /// Where the version byte is in the footer.
        static let versionOffset = 48
    }
}
