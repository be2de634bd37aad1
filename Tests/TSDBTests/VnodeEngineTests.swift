import Foundation
import LineProtocol
import RaftStorage
import Testing

@testable import TSDB

/// The engine answers exactly what the in-memory store (`VnodeStore`, the reference) answers for the same
/// writes, whatever has been flushed, compacted or restarted in between, and a crash anywhere in a flush or a
/// compaction loses nothing that the log can give back.
@Suite("Vnode engine")
struct VnodeEngineTests {
    /// A random batch of writes: few series and times, so that upserts of existing rows are common.
    static func batch(_ random: inout CodecTests.Generator) -> [Point] {
        (0..<Int(1 + random.next() % 40)).map { _ in
            let host = "h\(random.next() % 5)"
            let measurement = random.next() % 4 == 0 ? "disk" : "cpu"
            var fields: [Field] = []
            if random.next() % 4 != 0 { fields.append(Field("usage", .float(Double(random.next() % 1_000) / 10))) }
            if random.next() % 3 == 0 { fields.append(Field("count", .integer(Int64(random.next() % 100)))) }
            if random.next() % 5 == 0 {
                fields.append(Field("state", .string(["up", "down"][Int(random.next() % 2)])))
            }
            if fields.isEmpty { fields.append(Field("ok", .boolean(random.next() % 2 == 0))) }
            return Point(
                measurement: measurement, tags: [SeriesTag("host", host)], fields: fields,
                timestamp: Int64(random.next() % 300) * 1_000_000_000)
        }
    }

    /// A `cpu` point of host `host` with one float field.
    static func point(_ host: String, _ value: Double, at time: Int64) -> Point {
        Point(
            measurement: "cpu", tags: [SeriesTag("host", host)], fields: [Field("usage", .float(value))],
            timestamp: time)
    }

    static func options(memtableValues: Int = 1_000_000) -> VnodeEngine.Options {
        var options = VnodeEngine.Options()
        options.memtableValues = memtableValues
        options.blockRows = 16
        options.compactionFanIn = 2
        return options
    }

    /// The engine's and the model's answers to the same queries agree.
    static func expectSameAnswers(
        _ engine: VnodeEngine, _ model: VnodeStore, _ random: inout CodecTests.Generator, _ context: String
    ) throws {
        for measurement in ["cpu", "disk"] {
            let start = Int64(random.next() % 300) * 1_000_000_000
            let end = start + Int64(random.next() % 200) * 1_000_000_000
            let host = "h\(random.next() % 5)"
            for (from, to, filter) in [
                (Int64.min, Int64.max, { (_: [LineProtocol.Tag]) in true }),
                (start, end, { (tags: [LineProtocol.Tag]) in tags.contains { $0.value == host } }),
            ] {
                let expected = model.scan(measurement, start: from, end: to, seriesFilter: filter).sorted(
                    by: Self.order)
                let got = try engine.scan(measurement, start: from, end: to, seriesFilter: filter).sorted(
                    by: Self.order)
                let firstDifference = zip(got, expected).first { $0 != $1 }
                #expect(
                    got.count == expected.count && firstDifference == nil,
                    """
                    \(context): \(measurement) [\(from), \(to)): \(got.count) rows, expected \(expected.count); \
                    first difference: \(String(describing: firstDifference))
                    """)
            }
        }
        #expect(try engine.checksum().checksum == model.checksum, "\(context): checksum")
    }

    static func order(_ a: Row, _ b: Row) -> Bool {
        let keyA = SeriesKey(measurement: "", tags: a.tags)
        let keyB = SeriesKey(measurement: "", tags: b.tags)
        return keyA != keyB ? keyA < keyB : a.timestamp < b.timestamp
    }

    @Test(
        "random writes, flushes, compactions and restarts answer as the in-memory model",
        arguments: 0..<16 as Range<UInt64>)
    func matchesTheModel(seed: UInt64) throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = CodecTests.Generator(state: seed)
        let options = Self.options(memtableValues: Int(50 + random.next() % 400))
        var engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem(), options: options)
        let model = VnodeStore()
        var log: [(index: UInt64, points: [Point])] = []
        var index: UInt64 = 0
        for step in 1...300 {
            let points = Self.batch(&random)
            index += 1
            log.append((index, points))
            engine.apply(points, at: index)
            for point in points { model.upsert(point) }
            if engine.wantsFlush { try engine.flushNow() }
            switch random.next() % 40 {
            case 0: try engine.flushNow()
            case 1: try engine.compactNow()
            case 2:
                // A restart: the memtable is gone; the log gives back what the files do not cover.
                engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem(), options: options)
                for entry in log where entry.index > engine.coveredIndex { engine.apply(entry.points, at: entry.index) }
            case 3:
                // A flush running while writes go on: they land in the new memtable, above the frozen one.
                if let task = engine.beginFlush() {
                    let more = Self.batch(&random)
                    index += 1
                    log.append((index, more))
                    engine.apply(more, at: index)
                    for point in more { model.upsert(point) }
                    try Self.expectSameAnswers(engine, model, &random, "seed \(seed) step \(step), mid-flush")
                    try engine.finishFlush(try task.run())
                }
            default: break
            }
            if step % 25 == 0 { try Self.expectSameAnswers(engine, model, &random, "seed \(seed) step \(step)") }
        }
        try engine.flushNow()
        try engine.compactNow()
        // Every file is under 1 MiB (one size tier) and the fan-in is 2: compaction leaves one file.
        #expect(engine.files.count == 1, "compaction merged the files of one tier: \(engine.files.count) left")
        try Self.expectSameAnswers(engine, model, &random, "seed \(seed) at the end")
    }

    @Test("a kill at any step of a flush or a compaction loses nothing the log gives back")
    func crashAnywhere() throws {
        var random = CodecTests.Generator(state: 99)
        let batches: [[Point]] = (0..<12).map { _ in Self.batch(&random) }
        var crashPoint = 0
        var crashesSeen = 0
        while true {
            let directory = try ColumnFileTests.directory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let fileSystem = CrashingFileSystem(mutationsBeforeCrash: crashPoint)
            let model = VnodeStore()
            var log: [(UInt64, [Point])] = []
            do {
                let engine = try VnodeEngine.open(directory: directory, fileSystem: fileSystem, options: Self.options())
                for (k, points) in batches.enumerated() {
                    log.append((UInt64(k + 1), points))
                    for point in points { model.upsert(point) }
                    engine.apply(points, at: UInt64(k + 1))
                    if k % 3 == 2 { try engine.flushNow() }
                    if k % 6 == 5 { try engine.compactNow() }
                }
            } catch {
                #expect(fileSystem.hasCrashed, "crash point \(crashPoint): \(error)")
            }
            guard fileSystem.hasCrashed else { break }  // every step survived: the sequence is done
            crashesSeen += 1
            // After the kill: reopen on the real file system, replay the log past what the files cover.
            let engine = try VnodeEngine.open(
                directory: directory, fileSystem: POSIXFileSystem(), options: Self.options())
            for (index, points) in log where index > engine.coveredIndex { engine.apply(points, at: index) }
            // The model holds what reached the log before the kill, as the engine now must.
            try Self.expectSameAnswers(engine, model, &random, "killed after \(crashPoint) mutations")
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(names.allSatisfy { $0 == EngineManifest.fileName || $0.hasSuffix(".tsf") }, "leftovers: \(names)")
            crashPoint += 1
        }
        #expect(crashesSeen > 50, "the sequence has many steps to be killed at: \(crashesSeen) (measured: 62)")
    }

    @Test("a damaged file is named when the engine opens")
    func damagedFileIsNamed() throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = CodecTests.Generator(state: 5)
        let engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem(), options: Self.options())
        engine.apply(Self.batch(&random), at: 1)
        try engine.flushNow()
        let path = directory + "/" + EngineManifest.fileName(of: engine.manifest.files[0])
        var bytes = try POSIXFileSystem().readAll(path)
        bytes[bytes.count - ColumnFileFormat.footerSize - 3] ^= 0x40  // inside the index's checksum
        try POSIXFileSystem().createAtomically(path, content: bytes, directory: directory, sync: false)
        #expect {
            _ = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem(), options: Self.options())
        } throws: { error in
            (error as? ColumnFileError)?.code == .corrupt && "\(error)".contains(path)
        }
    }
}

/// An offline import becomes the oldest layer and leaves the covered index alone.
@Suite("Vnode engine offline import")
struct EngineImportTests {
    @Test("imported points read under the replicated ones, which win an upsert, and survive a reopen")
    func importedUnderReplicated() throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func point(_ host: String, _ value: Double, at time: Int64) -> Point {
            VnodeEngineTests.point(host, value, at: time)
        }
        let order = VnodeEngineTests.order
        let engine = try VnodeEngine.open(
            directory: directory, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        let model = VnodeStore()
        let replicated = [point("a", 1, at: 10), point("b", 2, at: 20)]
        engine.apply(replicated, at: 7)
        try engine.flushNow()
        let imported = [point("a", 99, at: 10), point("a", 3, at: 5), point("c", 4, at: 1)]
        var batches = [imported]
        try engine.importAsOldest { batches.popLast() }
        for p in imported + replicated { model.upsert(p) }  // the model applies the older layer first
        #expect(engine.coveredIndex == 7)
        #expect(engine.fileCount == 2)
        #expect(try engine.scan("cpu").sorted(by: order) == model.scan("cpu").sorted(by: order))
        #expect(try engine.scan("cpu").first { $0.timestamp == 10 }?.fields["usage"] == .float(1))
        let reopened = try VnodeEngine.open(
            directory: directory, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        #expect(reopened.coveredIndex == 7)
        #expect(try reopened.scan("cpu").sorted(by: order) == model.scan("cpu").sorted(by: order))
    }
}

/// A field's type is the one its oldest layer gave it, in reads and in compaction, as in the memtable.
@Suite("Vnode engine field types")
struct EngineFieldTypeTests {
    @Test("a value of another type written later is skipped in every layer, as the in-memory store skips it")
    func laterTypeIsSkipped() throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let engine = try VnodeEngine.open(
            directory: directory, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        let model = VnodeStore()
        func write(_ value: FieldValue, at index: UInt64) {
            let point = Point(
                measurement: "cpu", tags: [SeriesTag("host", "a")], fields: [Field("usage", value)], timestamp: 5)
            engine.apply([point], at: index)
            model.upsert(point)
        }
        write(.float(1.5), at: 1)
        try engine.flushNow()
        write(.integer(7), at: 2)
        try engine.flushNow()
        #expect(try engine.scan("cpu") == model.scan("cpu"))
        #expect(try engine.aggregate("cpu", field: "usage").series.map(\.aggregate.sum) == [1.5])
        try engine.compactNow()
        #expect(try engine.scan("cpu") == model.scan("cpu"))
        #expect(model.scan("cpu").first?.fields["usage"] == .float(1.5))
    }
}

/// A scan streams in batches, series by series, and stops at its limit.
@Suite("Vnode engine streaming scans")
struct EngineStreamingScanTests {
    @Test(
        "batches of any size add up to the whole scan, and a limit keeps its first rows",
        arguments: 0..<6 as Range<UInt64>)
    func batchesAndLimits(seed: UInt64) throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = CodecTests.Generator(state: seed)
        let engine = try VnodeEngine.open(
            directory: directory, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        for index in 1...80 as ClosedRange<UInt64> {
            engine.apply(VnodeEngineTests.batch(&random), at: index)
            if index % 25 == 0 { try engine.flushNow() }
        }
        let whole = try engine.scan("cpu")
        let batchRows = Int(1 + random.next() % 50)
        var batches: [[Row]] = []
        try engine.scanInBatches("cpu", batchRows: batchRows) { batch in
            batches.append(batch)
            return true
        }
        #expect(batches.flatMap { $0 } == whole)
        #expect(batches.dropLast().allSatisfy { $0.count == batchRows })
        let limit = Int(random.next() % UInt64(whole.count + 1))
        var limited: [Row] = []
        try engine.scanInBatches("cpu", limit: limit, batchRows: 7) { batch in
            limited += batch
            return true
        }
        #expect(limited == Array(whole.prefix(limit)))
        var first: [Row] = []
        try engine.scanInBatches("cpu", batchRows: 5) { batch in
            first = batch
            return false
        }
        #expect(first == Array(whole.prefix(5)), "emit answering false stops the scan")
    }
}
