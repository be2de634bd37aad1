import LineProtocol
import RaftStorage

/// An open, immutable column file: its footer and index in memory, its chunks read on demand with their
/// checksums verified. Safe to share between threads (reads are positioned, nothing in it changes).
final class ColumnFile: Sendable {
    let path: String
    let fileSystem: any FileSystem
    private let descriptor: Int32
    let footer: ColumnFileFormat.Footer
    let index: ColumnFileIndex
    /// The file's size in bytes.
    let size: Int
    /// Per measurement its series' positions, the inverted index and each measurement's columns.
    private let lookups: ColumnFileIndex.Lookups
    /// Each measurement's columns in this file.
    var schemas: [String: MeasurementColumns] { lookups.schemas }

    private init(
        path: String, fileSystem: any FileSystem, descriptor: Int32, footer: ColumnFileFormat.Footer,
        index: ColumnFileIndex, lookups: ColumnFileIndex.Lookups, size: Int
    ) {
        self.path = path
        self.fileSystem = fileSystem
        self.descriptor = descriptor
        self.footer = footer
        self.index = index
        self.lookups = lookups
        self.size = size
    }

    /// The series of `measurement` with every one of `tags`, in key order, each decoded once: through the
    /// shortest of the tag lists (or the measurement's list without tags).
    func entries(of measurement: String, with tags: [Tag]) -> [(position: Int, series: ColumnFileIndex.Series)] {
        var candidates = lookups.byMeasurement[measurement] ?? []
        for tag in tags {
            let list = positions(with: tag)
            if list.count < candidates.count { candidates = list }
        }
        var result: [(position: Int, series: ColumnFileIndex.Series)] = []
        for position in candidates {
            let series = index.series[Int(position)]
            if series.measurement == measurement && VnodeQuery.has(tags, series.tags) {
                result.append((Int(position), series))
            }
        }
        return result
    }

    /// The positions whose series may have `tag` (a hash match), ascending.
    private func positions(with tag: Tag) -> [UInt32] {
        let byTag = lookups.byTag
        let hash = ColumnFileIndex.hash(tag)
        var low = 0
        var high = byTag.count
        while low < high {
            let middle = (low + high) / 2
            if byTag[middle].hash < hash { low = middle + 1 } else { high = middle }
        }
        var result: [UInt32] = []
        while low < byTag.count && byTag[low].hash == hash {
            result.append(byTag[low].position)
            low += 1
        }
        return result
    }

    deinit { fileSystem.close(descriptor) }

    /// Opens `path`, checking its header, footer and index.
    /// - Throws: `.corrupt` (with the offset) for a damaged file, `.unsupportedVersion`, `.io`.
    static func open(_ path: String, fileSystem: any FileSystem) throws(ColumnFileError) -> ColumnFile {
        let descriptor: Int32
        do {
            descriptor = try fileSystem.open(path, .read)
        } catch {
            throw ColumnFileError.io("cannot open \(path)", cause: error)
        }
        do throws(ColumnFileError) {
            let size = try io(path) { () throws(WALError) in try fileSystem.size(descriptor, path: path) }
            let minimum = ColumnFileFormat.headerSize + ColumnFileFormat.footerSize
            guard size >= minimum else {
                throw ColumnFileError.corrupt(path, at: 0, "\(size) bytes, shorter than an empty file (\(minimum))")
            }
            let header = try read(fileSystem, descriptor, path, at: 0, count: ColumnFileFormat.headerSize)
            guard Array(header.prefix(4)) == ColumnFileFormat.magic else {
                throw ColumnFileError.corrupt(path, at: 0, "not a column file (bad magic)")
            }
            guard header[4] == ColumnFileFormat.version else {
                throw ColumnFileError(
                    .unsupportedVersion,
                    "\(path): format version \(header[4]); this build reads version "
                        + "\(ColumnFileFormat.version)")
            }
            let footerOffset = size - ColumnFileFormat.footerSize
            let footerBytes = try read(
                fileSystem, descriptor, path, at: footerOffset, count: ColumnFileFormat.footerSize)
            guard let footer = ColumnFileFormat.Footer.decode(footerBytes[...]) else {
                throw ColumnFileError.corrupt(path, at: UInt64(footerOffset), "the footer does not decode")
            }
            let footerVersion = footerBytes[ColumnFileFormat.Footer.versionOffset]
            guard footerVersion == ColumnFileFormat.version else {
                throw ColumnFileError(
                    .unsupportedVersion,
                    "\(path): the footer says format version \(footerVersion), the header "
                        + "\(header[4])")
            }
            let indexEnd = footer.indexOffset + UInt64(footer.indexLength) + 4
            guard footer.indexOffset >= UInt64(ColumnFileFormat.headerSize), indexEnd == UInt64(footerOffset) else {
                throw ColumnFileError.corrupt(
                    path, at: UInt64(footerOffset),
                    "the footer places the index at \(footer.indexOffset), outside the file")
            }
            let indexBytes = try verifiedChunk(
                fileSystem, descriptor, path,
                ColumnFileIndex.Chunk(offset: footer.indexOffset, length: footer.indexLength + 4))
            guard let (index, lookups) = ColumnFileIndex.decodeWithLookups(indexBytes[...]),
                index.series.count == Int(footer.seriesCount)
            else {
                throw ColumnFileError.corrupt(path, at: footer.indexOffset, "the index does not decode")
            }
            return ColumnFile(
                path: path, fileSystem: fileSystem, descriptor: descriptor, footer: footer, index: index,
                lookups: lookups, size: size)
        } catch {
            fileSystem.close(descriptor)
            throw error
        }
    }

    /// The timestamps of block `block` of the series `series` (an entry of `index`).
    func timestamps(_ series: ColumnFileIndex.Series, block: Int) throws(ColumnFileError) -> [Int64] {
        let entry = series.blocks[block]
        let payload = try Self.verifiedChunk(fileSystem, descriptor, path, entry.timestamps)
        guard let timestamps = TimestampCodec.decode(payload[...], count: entry.rows) else {
            throw ColumnFileError.corrupt(path, at: entry.timestamps.offset, "the timestamps do not decode")
        }
        return timestamps
    }

    /// Column `column` (a position in the series' `columns`) of block `block`, with one entry per row of the
    /// block; `nil` if the block has no value of that column.
    func column(_ entry: ColumnFileIndex.Series, block: Int, column: Int) throws(ColumnFileError) -> Column? {
        guard let blockColumn = entry.blocks[block].columns[column] else { return nil }
        let payload = try Self.verifiedChunk(fileSystem, descriptor, path, blockColumn.chunk)
        guard
            let decoded = ColumnChunk.decode(
                payload[...], kind: entry.columns[column].kind, rows: entry.blocks[block].rows,
                present: blockColumn.present)
        else {
            throw ColumnFileError.corrupt(
                path, at: blockColumn.chunk.offset, "column '\(entry.columns[column].name)' does not decode")
        }
        return decoded
    }

    /// Block `block` of series `series`: its timestamps and the columns `wanted` picks that it has values of.
    func rows(
        _ series: ColumnFileIndex.Series, block: Int,
        wanted: (ColumnFileIndex.ColumnDefinition) -> Bool = { _ in true }
    ) throws(ColumnFileError) -> (timestamps: [Int64], columns: [(name: String, column: Column)]) {
        let timestamps = try timestamps(series, block: block)
        var columns: [(name: String, column: Column)] = []
        for (c, definition) in series.columns.enumerated() where wanted(definition) {
            if let values = try column(series, block: block, column: c) {
                columns.append((definition.name, values))
            }
        }
        return (timestamps, columns)
    }

    /// `count` bytes of the file from `offset`, as they are on disk (a snapshot sends them).
    func readRaw(at offset: Int, count: Int) throws(ColumnFileError) -> [UInt8] {
        let bytes = try Self.read(fileSystem, descriptor, path, at: offset, count: count)
        guard bytes.count == count else {
            throw ColumnFileError(.io, "\(path): \(bytes.count) bytes at \(offset), expected \(count)")
        }
        return bytes
    }

    /// A chunk's payload, its checksum verified.
    private static func verifiedChunk(
        _ fileSystem: any FileSystem, _ descriptor: Int32, _ path: String, _ chunk: ColumnFileIndex.Chunk
    ) throws(ColumnFileError) -> [UInt8] {
        let bytes = try read(fileSystem, descriptor, path, at: Int(chunk.offset), count: Int(chunk.length))
        guard bytes.count == Int(chunk.length) else {
            throw ColumnFileError.corrupt(path, at: chunk.offset, "the file ends inside a chunk")
        }
        guard let (payload, stored, computed) = Checksummed.split(bytes[...]) else {
            throw ColumnFileError.corrupt(path, at: chunk.offset, "a chunk shorter than its checksum")
        }
        guard stored == computed else {
            throw ColumnFileError.corrupt(
                path, at: chunk.offset,
                "checksum mismatch in a \(chunk.length)-byte chunk (stored \(stored), computed \(computed))")
        }
        return Array(payload)
    }

    private static func read(
        _ fileSystem: any FileSystem, _ descriptor: Int32, _ path: String, at offset: Int, count: Int
    ) throws(ColumnFileError) -> [UInt8] {
        try io(path) { () throws(WALError) in try fileSystem.read(descriptor, at: offset, count: count, path: path) }
    }

    private static func io<T>(_ path: String, _ body: () throws(WALError) -> T) throws(ColumnFileError) -> T {
        do {
            return try body()
        } catch {
            throw ColumnFileError.io("cannot read \(path)", cause: error)
        }
    }
}
