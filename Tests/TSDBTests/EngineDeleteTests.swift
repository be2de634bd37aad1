import Foundation
import LineProtocol
import RaftStorage
import Testing

@testable import TSDB

/// Deletions (`Tombstone`) read as the in-memory model reads them — rows gone at the entry that deleted them,
/// later writes kept — whatever was in files, in the memtable or in a flush at the time, and after flushes,
/// compactions, abandoned flushes, restarts that replay the log, and snapshots installed on another replica.
@Suite("Vnode engine deletes")
struct EngineDeleteTests {
    /// One log entry: writes or a deletion.
    enum Entry {
        case write([Point])
        case delete(Tombstone)
    }

    static func tombstone(_ random: inout CodecTests.Generator) -> Tombstone {
        let measurement = random.next() % 4 == 0 ? "disk" : "cpu"
        var conditions: [TagCondition] = []
        switch random.next() % 4 {
        case 0: conditions = [TagCondition(key: "host", values: ["h\(random.next() % 5)"])]
        case 1: conditions = [TagCondition(key: "host", values: ["h\(random.next() % 5)", "h\(random.next() % 5)"])]
        case 2: conditions = [TagCondition(key: "host", values: ["h\(random.next() % 5)"], negated: true)]
        default: break
        }
        let start = random.next() % 3 == 0 ? Int64.min : Int64(random.next() % 300) * 1_000_000_000
        let end = random.next() % 3 == 0 ? Int64.max : start &+ Int64(1 + random.next() % 100) * 1_000_000_000
        return Tombstone(measurement: measurement, conditions: conditions, start: start, end: max(start, end))
    }

    static func apply(_ entry: Entry, at index: UInt64, to engine: VnodeEngine) {
        switch entry {
        case .write(let points): engine.apply(points, at: index)
        case .delete(let tombstone): engine.delete(tombstone, at: index)
        }
    }

    /// The model applies entries as they come: it has no layers.
    static func apply(_ entry: Entry, to model: VnodeStore) {
        switch entry {
        case .write(let points): for point in points { model.upsert(point) }
        case .delete(let tombstone): model.delete(tombstone)
        }
    }

    /// Per series, the rows with a `usage` value that the engine's pushed-down aggregate counts, against the model.
    static func expectSameCounts(_ engine: VnodeEngine, _ model: VnodeStore, _ context: String) throws {
        for measurement in ["cpu", "disk"] {
            var expected: [[LineProtocol.Tag]: Int] = [:]
            for row in model.scan(measurement) where row.fields["usage"] != nil { expected[row.tags, default: 0] += 1 }
            var got: [[LineProtocol.Tag]: Int] = [:]
            for series in try engine.aggregate(measurement, field: "usage").series {
                got[series.tags] = series.aggregate.count
            }
            #expect(got == expected, "\(context): usage counts of \(measurement)")
        }
    }

    @Test(
        "random writes and deletes, flushes, compactions, restarts and snapshots answer as the in-memory model",
        arguments: 0..<24 as Range<UInt64>)
    func matchesTheModel(seed: UInt64) throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var random = CodecTests.Generator(state: seed &* 7919 &+ 3)
        let options = VnodeEngineTests.options(memtableValues: Int(50 + random.next() % 400))
        var directory = root + "/a"
        var engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem(), options: options)
        let model = VnodeStore()
        var log: [(index: UInt64, entry: Entry)] = []
        func next() -> Entry {
            random.next() % 6 == 0 ? .delete(Self.tombstone(&random)) : .write(VnodeEngineTests.batch(&random))
        }
        func append(_ entry: Entry) {
            let index = UInt64(log.count + 1)
            log.append((index, entry))
            Self.apply(entry, at: index, to: engine)
            Self.apply(entry, to: model)
        }
        var deletesSeen = 0
        for step in 1...300 {
            let entry = next()
            if case .delete = entry { deletesSeen += 1 }
            append(entry)
            if engine.wantsFlush { try engine.flushNow() }
            switch random.next() % 30 {
            case 0: try engine.flushNow()
            case 1: try engine.compactNow()
            case 2:
                // A restart: the memtable is gone; the log gives back what the files do not cover.
                engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem(), options: options)
                for (index, entry) in log where index > engine.coveredIndex { Self.apply(entry, at: index, to: engine) }
            case 3, 4:
                // A delete while a flush runs: it hides the frozen rows until they are a file, and after.
                if let task = engine.beginFlush() {
                    append(.delete(Self.tombstone(&random)))
                    append(next())
                    deletesSeen += 1
                    try VnodeEngineTests.expectSameAnswers(
                        engine, model, &random, "seed \(seed) step \(step) mid-flush")
                    if random.next() % 2 == 0 {
                        try engine.finishFlush(try task.run())
                    } else {
                        engine.abandonFlush()  // the frozen rows go back without the deleted ones
                    }
                }
            case 5:
                // Another replica installs a snapshot of this one, then applies the log above it.
                if random.next() % 2 == 0 { try engine.flushNow() }
                let target = root + "/s\(step)"
                var receiver = EngineSnapshotReceiver(
                    directory: target, fileSystem: POSIXFileSystem(), options: options)
                try engine.snapshotSource().write { try receiver.take($0) }
                let installed = try receiver.finish()
                let covered = installed.coveredIndex
                for (index, entry) in log where index > covered { Self.apply(entry, at: index, to: installed) }
                try VnodeEngineTests.expectSameAnswers(installed, model, &random, "seed \(seed) step \(step) snapshot")
                engine = installed
                directory = target
            default: break
            }
            if step % 20 == 0 {
                try VnodeEngineTests.expectSameAnswers(engine, model, &random, "seed \(seed) step \(step)")
                try Self.expectSameCounts(engine, model, "seed \(seed) step \(step)")
            }
        }
        // A last write, so that the memtable is not empty (deletes may have emptied it) and the flush covers
        // every entry.
        append(
            .write([
                Point(
                    measurement: "cpu", tags: [SeriesTag("host", "h0")], fields: [Field("ok", .boolean(true))],
                    timestamp: 7)
            ]))
        try engine.flushNow()
        try engine.compactNow()
        try VnodeEngineTests.expectSameAnswers(engine, model, &random, "seed \(seed) at the end")
        try Self.expectSameCounts(engine, model, "seed \(seed) at the end")
        #expect(deletesSeen > 30, "the run deletes often: \(deletesSeen)")
        // Compacted into one file that holds the writes of the last entry: no tombstone is needed any more.
        #expect(engine.files.count == 1)
        #expect(engine.tombstones.isEmpty, "tombstones left after a full compaction: \(engine.tombstones.count)")
    }

    @Test("a tombstone survives a restart in the manifest, leaves with the last file it hides, and spares later writes")
    func manifestKeepsTombstones() throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func point(_ host: String, _ value: Double, at time: Int64) -> Point {
            VnodeEngineTests.point(host, value, at: time)
        }
        var options = VnodeEngineTests.options()
        options.compactionFanIn = 3
        var engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem(), options: options)
        engine.apply([point("a", 1, at: 10), point("b", 2, at: 10)], at: 1)
        try engine.flushNow()
        engine.delete(Tombstone(measurement: "cpu", conditions: [TagCondition(key: "host", values: ["a"])]), at: 2)
        engine.apply([point("a", 3, at: 20)], at: 3)
        #expect(try engine.scan("cpu").map(\.timestamp) == [20, 10])  // a's new row, b's old one
        try engine.flushNow()  // covers index 3: the log before it is gone, only the manifest knows the delete
        #expect(engine.tombstones.map(\.index) == [2])
        engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem(), options: options)
        #expect(engine.tombstones.map(\.index) == [2])
        #expect(try engine.scan("cpu").map { "\($0.tags[0].value)@\($0.timestamp)" } == ["a@20", "b@10"])
        engine.apply([point("c", 4, at: 5), point("d", 5, at: 5)], at: 4)
        engine.delete(Tombstone(measurement: "cpu", conditions: [TagCondition(key: "host", values: ["c"])]), at: 5)
        #expect(engine.tombstones.count == 2)  // it may hide rows of the files too (none match: it does not look)
        try engine.flushNow()
        try engine.compactNow()  // three files of one tier: merged, the deleted rows dropped for good
        #expect(engine.files.count == 1)
        #expect(engine.tombstones.isEmpty)
        #expect(try engine.scan("cpu").map { "\($0.tags[0].value)@\($0.timestamp)" } == ["a@20", "b@10", "d@5"])
        engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem(), options: options)
        #expect(engine.tombstones.isEmpty)
        #expect(try engine.scan("cpu").count == 3)
    }

    @Test("a tombstone's bytes decode to the same tombstone, and garbage is refused")
    func tombstoneBytes() throws {
        var tombstone = Tombstone(
            measurement: "cpu", conditions: [TagCondition(key: "host", values: ["a", "b"], negated: true)],
            start: -5, end: .max)
        tombstone.index = 42
        #expect(try Tombstone(bytes: tombstone.bytes[...]) == tombstone)
        #expect(throws: CodecError.self) { try Tombstone(bytes: tombstone.bytes.dropLast()) }
        #expect(throws: CodecError.self) { try Tombstone(bytes: (tombstone.bytes + [0])[...]) }
        // A condition on a tag the series lacks matches neither `=` nor `!=` (SQL's NULL).
        #expect(!TagCondition(key: "rack", values: ["1"]).holds(for: [SeriesTag("host", "a")]))
        #expect(!TagCondition(key: "rack", values: ["1"], negated: true).holds(for: [SeriesTag("host", "a")]))
    }
}
