import Foundation
import LineProtocol
import RaftStorage
import Testing

@testable import TSDB

typealias SeriesTag = LineProtocol.Tag

/// Column files hold exactly what was written, say what is in each block, and name the file and offset of any
/// damage.
@Suite("Column files")
struct ColumnFileTests {
    /// A series as the tests build it: rows by timestamp, fields by name.
    struct SeriesRows {
        var measurement: String
        var tags: [SeriesTag]
        var rows: [(Int64, [String: FieldValue])]

        var key: SeriesKey { SeriesKey(measurement: measurement, tags: tags) }
    }

    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "flotilla-columnfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Random series with gaps in their fields, one type per field.
    static func randomSeries(seed: UInt64) -> [SeriesRows] {
        var random = CodecTests.Generator(state: seed)
        var all: [SeriesRows] = []
        for s in 0..<Int(1 + random.next() % 6) {
            var series = SeriesRows(
                measurement: s % 2 == 0 ? "cpu" : "disk", tags: [SeriesTag("host", "h\(s)"), SeriesTag("dc", "eu")],
                rows: [])
            var time = Int64(random.next() % 1_000_000) * 1_000_000_000
            for _ in 0..<Int(1 + random.next() % 2_500) {
                time += Int64(1 + random.next() % 3) * 1_000_000_000
                var fields: [String: FieldValue] = [:]
                if random.next() % 10 != 0 { fields["usage"] = .float(Double(random.next() % 10_000) / 100) }
                if random.next() % 3 == 0 { fields["count"] = .integer(Int64(bitPattern: random.next()) >> 40) }
                if random.next() % 4 == 0 { fields["bytes"] = .unsigned(random.next() >> 20) }
                if random.next() % 5 == 0 {
                    fields["state"] = .string(["up", "down", "degraded"][Int(random.next() % 3)])
                }
                if random.next() % 6 == 0 { fields["ok"] = .boolean(random.next() % 2 == 0) }
                if fields.isEmpty { fields["usage"] = .float(1) }
                series.rows.append((time, fields))
            }
            all.append(series)
        }
        return all.sorted { $0.key < $1.key }
    }

    /// The series' rows as in-memory columns (what a memtable flush hands the builder).
    static func columns(of series: SeriesRows) -> [(name: String, column: Column)] {
        var columns: [String: Column] = [:]
        for (row, (_, fields)) in series.rows.enumerated() {
            for (name, value) in fields where columns[name] == nil {
                columns[name] = Column(like: value, rows: series.rows.count)
            }
            for (name, value) in fields {
                let stored = columns[name]!.set(value, at: row)
                #expect(stored)
            }
        }
        return columns.map { ($0.key, $0.value) }
    }

    static func build(_ all: [SeriesRows], blockRows: Int = ColumnFileFormat.blockRows) -> ColumnFileBuilder {
        var builder = ColumnFileBuilder(blockRows: blockRows)
        for series in all {
            builder.append(
                measurement: series.measurement, tags: series.tags, timestamps: series.rows.map(\.0),
                columns: columns(of: series))
        }
        return builder
    }

    /// Every row of every series, read back block by block.
    static func readBack(_ file: ColumnFile) throws -> [SeriesKey: [(Int64, [String: FieldValue])]] {
        var result: [SeriesKey: [(Int64, [String: FieldValue])]] = [:]
        for series in file.index.series {
            var rows: [(Int64, [String: FieldValue])] = []
            for b in series.blocks.indices {
                let timestamps = try file.timestamps(series, block: b)
                var fields = Array(repeating: [String: FieldValue](), count: timestamps.count)
                for (c, definition) in series.columns.enumerated() {
                    guard let column = try file.column(series, block: b, column: c) else { continue }
                    for row in timestamps.indices {
                        if let value = column.value(at: row) { fields[row][definition.name] = value }
                    }
                }
                rows += zip(timestamps, fields).map { ($0, $1) }
            }
            result[series.key] = rows
        }
        return result
    }

    @Test(
        "a file holds exactly the rows written, with the block index and stats to match",
        arguments: 0..<12 as Range<UInt64>)
    func roundTrip(seed: UInt64) throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let all = Self.randomSeries(seed: seed)
        let path = directory + "/1.tsf"
        // Streamed to disk through a small buffer (many partial writes): the same bytes as built in memory.
        var writer = try ColumnFileWriter(
            path: path, directory: directory, fileSystem: POSIXFileSystem(), blockRows: 700, bufferBytes: 512)
        for series in all {
            try writer.append(
                measurement: series.measurement, tags: series.tags, timestamps: series.rows.map(\.0),
                columns: Self.columns(of: series))
        }
        try writer.finish(coveredIndex: 42)
        #expect(
            try POSIXFileSystem().readAll(path) == Self.build(all, blockRows: 700).finished(coveredIndex: 42))
        let file = try ColumnFile.open(path, fileSystem: POSIXFileSystem())
        #expect(file.footer.coveredIndex == 42)
        #expect(file.footer.rowCount == UInt64(all.map(\.rows.count).reduce(0, +)))
        #expect(file.footer.minTime == all.map { $0.rows[0].0 }.min())
        #expect(file.footer.maxTime == all.map { $0.rows.last!.0 }.max())
        let read = try Self.readBack(file)
        #expect(read.count == all.count)
        for series in all {
            let rows = try #require(read[series.key])
            #expect(rows.count == series.rows.count)
            for (got, want) in zip(rows, series.rows) {
                #expect(got.0 == want.0 && got.1 == want.1, "series \(series.key) at \(want.0)")
            }
        }
        for (s, entry) in file.index.series.enumerated() {
            let source = all[s]
            #expect(entry.key == source.key)
            var offset = 0
            for block in entry.blocks {
                let rows = source.rows[offset..<(offset + block.rows)]
                #expect(block.rows <= 700)
                #expect(block.minTime == rows.first!.0 && block.maxTime == rows.last!.0)
                if let usage = entry.columns.firstIndex(where: { $0.name == "usage" }),
                    case .float(let low, let high, let sum)? = block.columns[usage]?.stats
                {
                    let values = rows.compactMap { row -> Double? in
                        if case .float(let v)? = row.1["usage"] { return v } else { return nil }
                    }
                    #expect(block.columns[usage]?.present == values.count)
                    #expect(low == values.min() && high == values.max())
                    #expect(abs(sum - values.reduce(0, +)) < 1e-6)
                }
                offset += block.rows
            }
        }
    }

    @Test("golden bytes: a small file's format never changes")
    func goldenFile() {
        var column = Column(like: .float(0), rows: 3)
        for (row, value) in [20.5, 20.5, 21.0].enumerated() { _ = column.set(.float(value), at: row) }
        var builder = ColumnFileBuilder()
        builder.append(
            measurement: "cpu", tags: [SeriesTag("host", "a")],
            timestamps: [1_000_000_000, 2_000_000_000, 3_000_000_000],
            columns: [("usage", column)])
        let bytes = builder.finished(coveredIndex: 7)
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        #expect(hex == Self.goldenHex, "\(hex)")
    }

    /// Header; timestamps chunk (1 s, 2 s, 3 s: 64-bit first value, 64-bit first delta, one zero bit) and its
    /// CRC; the float chunk (all present; decimal form, exponent 1: 205, 205, 210 as zigzag deltas) and its CRC;
    /// the index (one series `cpu,host=a`, one float column `usage`, one block of 3 rows with min 20.5, max 21,
    /// sum 62) and its CRC; the footer (index at 40, 62 bytes, 1 series, 3 rows, covered index 7, times 1 s to
    /// 3 s). Checked by hand against the format when pinned.
    static let goldenHex =
        "464c434601000000000000003b9aca00000000007735940000c0472bd40101019a03000a3e92377701036370750104686f73"
        + "74016101057573616765000180a8d6b90780a8d6b907030815031d0b00000000008034400000000000003540000000000000"
        + "4f4028eaf85a28000000000000003e000000010000000300000000000000070000000000000000ca9a3b00000000005ed0b2"
        + "0000000001000000464c4346"

    @Test(
        "a flipped bit anywhere in a chunk is reported with the file and the chunk's offset",
        arguments: 0..<20 as Range<UInt64>)
    func bitFlipInAChunkIsDetected(seed: UInt64) throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/1.tsf"
        var bytes = Self.build(Self.randomSeries(seed: seed)).finished(coveredIndex: 1)
        let indexOffset = Int(ColumnFileFormat.Footer.decode(bytes.suffix(ColumnFileFormat.footerSize))!.indexOffset)
        var random = CodecTests.Generator(state: seed)
        let position =
            ColumnFileFormat.headerSize + Int(random.next() % UInt64(indexOffset - ColumnFileFormat.headerSize))
        bytes[position] ^= 1 << UInt8(random.next() % 8)
        try POSIXFileSystem().createAtomically(path, content: bytes, directory: directory, sync: false)
        let file = try ColumnFile.open(path, fileSystem: POSIXFileSystem())
        var caught: ColumnFileError?
        do {
            _ = try Self.readBack(file)
        } catch let error as ColumnFileError {
            caught = error
        }
        let error = try #require(caught, "the flipped bit at \(position) went unnoticed")
        #expect(error.code == .corrupt)
        #expect(error.message.hasPrefix(path + " at offset "))
        let chunks = file.index.series.flatMap { series in
            series.blocks.flatMap { [$0.timestamps] + $0.columns.compactMap { $0?.chunk } }
        }
        let hit = try #require(
            chunks.first { Int($0.offset) <= position && position < Int($0.offset) + Int($0.length) })
        #expect(error.message.hasPrefix("\(path) at offset \(hit.offset):"), "\(error)")
    }

    @Test(
        "the index check at open accepts only indexes whose every entry decodes, and its lookups match the entries",
        arguments: 0..<8 as Range<UInt64>)
    func indexCheckMatchesTheDecoder(seed: UInt64) throws {
        let all = Self.randomSeries(seed: seed)
        let file = Self.build(all).finished(coveredIndex: 1)
        let footer = try #require(ColumnFileFormat.Footer.decode(file[(file.count - ColumnFileFormat.footerSize)...]))
        let encoded = Array(file[Int(footer.indexOffset)..<(Int(footer.indexOffset) + Int(footer.indexLength))])
        var random = CodecTests.Generator(state: seed)
        var accepted = 0
        for trial in 0..<300 {
            var bytes = encoded
            if trial > 0 {
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1 << (random.next() % 8))
                }
            }
            guard let (index, lookups) = ColumnFileIndex.decodeWithLookups(bytes[...]) else {
                #expect(trial > 0, "the undamaged index is accepted")
                continue
            }
            accepted += 1
            // What the lookups would be, from fully decoded entries (each decode would trap if it failed).
            var byMeasurement: [String: [UInt32]] = [:]
            var byTag: [ColumnFileIndex.TagPosition] = []
            var schemas: [String: MeasurementColumns] = [:]
            for (position, series) in index.series.enumerated() {
                byMeasurement[series.measurement, default: []].append(UInt32(position))
                for tag in series.tags {
                    byTag.append(.init(hash: ColumnFileIndex.hash(tag), position: UInt32(position)))
                }
                schemas[series.measurement, default: MeasurementColumns()].add(tags: series.tags)
                for column in series.columns where schemas[series.measurement]!.fields[column.name] == nil {
                    schemas[series.measurement]!.fields[column.name] = column.kind
                }
            }
            #expect(lookups.byMeasurement == byMeasurement)
            #expect(lookups.byTag == byTag.sorted())
            #expect(lookups.schemas.mapValues(\.tags) == schemas.mapValues(\.tags))
            #expect(lookups.schemas.mapValues(\.fields) == schemas.mapValues(\.fields))
        }
        #expect(accepted > 1, "some damage leaves a decodable index (a changed value): \(accepted)")
    }

    @Test("a damaged index, footer, header or a truncated file is refused when opened")
    func damagedStructureIsRefused() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = Self.build(Self.randomSeries(seed: 3)).finished(coveredIndex: 9)
        let footerStart = good.count - ColumnFileFormat.footerSize
        let indexOffset = Int(ColumnFileFormat.Footer.decode(good[footerStart...])!.indexOffset)
        var cases: [(String, [UInt8], ColumnFileError.Code)] = []
        var flippedIndex = good
        flippedIndex[indexOffset + 3] ^= 0x10
        cases.append(("index", flippedIndex, .corrupt))
        var flippedFooter = good
        flippedFooter[footerStart + 2] ^= 0x01
        cases.append(("footer", flippedFooter, .corrupt))
        cases.append(("truncated", Array(good.dropLast(5)), .corrupt))
        var otherVersion = good
        otherVersion[4] = 9
        cases.append(("version", otherVersion, .unsupportedVersion))
        var notOurs = good
        notOurs[0] = UInt8(ascii: "X")
        cases.append(("magic", notOurs, .corrupt))
        for (name, bytes, code) in cases {
            let path = directory + "/\(name).tsf"
            try POSIXFileSystem().createAtomically(path, content: bytes, directory: directory, sync: false)
            #expect(throws: ColumnFileError.self, "\(name)") {
                _ = try ColumnFile.open(path, fileSystem: POSIXFileSystem())
            }
            do {
                _ = try ColumnFile.open(path, fileSystem: POSIXFileSystem())
            } catch {
                #expect(error.code == code, "\(name): \(error)")
                #expect(error.message.contains(path), "\(name): \(error)")
            }
        }
    }

    @Test("float columns of a regular series take a fraction of their raw size")
    func compression() {
        var series = SeriesRows(measurement: "cpu", tags: [SeriesTag("host", "a")], rows: [])
        for k in 0..<10_000 {
            let time = 1_767_225_600_000_000_000 + Int64(k) * 10_000_000_000
            let user = FieldValue.float(Double(20 + k % 13) * 0.5)
            let idle = FieldValue.float(Double(70 - k % 13))
            series.rows.append((time, ["user": user, "system": .float(3.25), "idle": idle]))
        }
        let bytes = Self.build([series]).finished(coveredIndex: 1)
        let raw = 10_000 * (8 + 3 * 8)
        #expect(bytes.count * 10 < raw, "\(bytes.count) bytes for \(raw) raw (measured: 23,062, 13.9 times less)")
    }
}
