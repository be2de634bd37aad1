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
            append(indexOffset, to: &bytes)
            append(UInt64(indexLength) | UInt64(seriesCount) << 32, to: &bytes)
            append(rowCount, to: &bytes)
            append(coveredIndex, to: &bytes)
            append(UInt64(bitPattern: minTime), to: &bytes)
            append(UInt64(bitPattern: maxTime), to: &bytes)
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
            let start = bytes.startIndex
            func word(_ k: Int) -> UInt64 {
                var value: UInt64 = 0
                for j in 0..<8 { value |= UInt64(bytes[start + 8 * k + j]) << UInt64(8 * j) }
                return value
            }
            return Footer(
                indexOffset: word(0), indexLength: UInt32(truncatingIfNeeded: word(1)),
                seriesCount: UInt32(truncatingIfNeeded: word(1) >> 32), rowCount: word(2), coveredIndex: word(3),
                minTime: Int64(bitPattern: word(4)), maxTime: Int64(bitPattern: word(5)))
        }

        /// Where the version byte is in the footer.
        static let versionOffset = 48

        private func append(_ value: UInt64, to bytes: inout [UInt8]) {
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
    }
}
