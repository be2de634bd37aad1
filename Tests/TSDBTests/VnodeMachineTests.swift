import Foundation
import LineProtocol
import MultiRaft
import RaftCore
import RaftStorage
import Testing

@testable import TSDB

/// The vnode machine on disk: jobs raise the durable index, a new replica or a snapshot starts a generation of
/// its own, a kill during a snapshot install leaves the old vnode or the new one, and the session table of a
/// deduplicating machine comes back with the files.
@Suite("Vnode machine")
struct VnodeMachineTests {
    static func machine(_ directory: String, fileSystem: any FileSystem = POSIXFileSystem()) -> VnodeMachine {
        VnodeMachine(
            directory: directory, fileSystem: fileSystem, options: VnodeEngineTests.options(memtableValues: 50))
    }

    /// Runs every job the machine has due, on this thread.
    static func runJobs(_ machine: any PersistentStateMachine, flush: Bool = false) throws {
        while let job = machine.nextJob(flush: flush, state: { [] }) {
            try machine.finishJob(job, output: try job.run())
        }
    }

    static func write(_ machine: VnodeMachine, _ points: [Point], at index: UInt64) {
        _ = machine.apply(VnodeMachine.writeCommand(points)[...], at: LogIndex(index))
    }

    @Test("jobs flush once the memtable is past its bound or when asked, and raise the durable index")
    func jobsRaiseTheDurableIndex() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let machine = Self.machine(root + "/7")
        try machine.createDurable()
        var random = CodecTests.Generator(state: 3)
        let model = VnodeStore()
        var flushes = 0
        for index in 1...60 as ClosedRange<UInt64> {
            let points = VnodeEngineTests.batch(&random)
            Self.write(machine, points, at: index)
            for point in points { model.upsert(point) }
            let before = machine.durableIndex
            try Self.runJobs(machine)
            if machine.durableIndex > before {
                flushes += 1
                #expect(machine.durableIndex == LogIndex(index), "a flush covers every entry applied")
            }
        }
        #expect(flushes > 20, "50-value memtables flush often: \(flushes) (measured: 24)")
        try Self.runJobs(machine, flush: true)
        #expect(machine.durableIndex == LogIndex(60))
        #expect(machine.engine.memoryIsEmpty)
        // An entry at or below the durable index is already in: applying it again changes nothing.
        Self.write(
            machine, [Point(measurement: "cpu", tags: [], fields: [Field("usage", .float(-1))], timestamp: 0)], at: 60)
        let reopened = Self.machine(root + "/7")
        #expect(try reopened.openDurable() == LogIndex(60))
        try VnodeEngineTests.expectSameAnswers(reopened.engine, model, &random, "reopened")
        try VnodeEngineTests.expectSameAnswers(machine.engine, model, &random, "after a replayed entry")
    }

    @Test("a new replica in the same directory starts empty, in a generation of its own")
    func newReplicaStartsEmpty() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let old = Self.machine(root + "/9")
        try old.createDurable()
        var random = CodecTests.Generator(state: 5)
        Self.write(old, VnodeEngineTests.batch(&random), at: 1)
        try Self.runJobs(old, flush: true)
        let fresh = Self.machine(root + "/9")
        try fresh.createDurable()
        #expect(fresh.durableIndex == .zero)
        #expect(fresh.engine.measurements().isEmpty)
        // A flush of the old replica that was still running lands in the old generation, which is not read.
        Self.write(old, VnodeEngineTests.batch(&random), at: 2)
        try? Self.runJobs(old, flush: true)
        let reopened = Self.machine(root + "/9")
        #expect(try reopened.openDurable() == .zero)
        #expect(reopened.engine.measurements().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/9") == ["2"])
        reopened.removeDurable()
        #expect(!FileManager.default.fileExists(atPath: root + "/9"))
    }

    @Test("a kill at any step of a snapshot install leaves the old vnode or the new one, whole")
    func killDuringInstall() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var random = CodecTests.Generator(state: 11)
        // The snapshot: a vnode at index 40, with several files.
        let source = Self.machine(root + "/source")
        try source.createDurable()
        let sourceModel = VnodeStore()
        for index in 1...40 as ClosedRange<UInt64> {
            let points = VnodeEngineTests.batch(&random)
            Self.write(source, points, at: index)
            for point in points { sourceModel.upsert(point) }
            try Self.runJobs(source)
        }
        try Self.runJobs(source, flush: true)
        var stream: [UInt8] = []
        try source.durableSnapshot().write { stream += $0 }
        #expect(source.engine.fileCount >= 1 && stream.count > 4_096, "a snapshot of real files")
        var crashPoint = 0
        var outcomes: Set<UInt64> = []
        while true {
            let directory = root + "/target-\(crashPoint)"
            // The replica that takes it: an older state at index 5.
            let target = Self.machine(directory)
            try target.createDurable()
            let oldModel = VnodeStore()
            for index in 1...5 as ClosedRange<UInt64> {
                let points = VnodeEngineTests.batch(&random)
                Self.write(target, points, at: index)
                for point in points { oldModel.upsert(point) }
            }
            try Self.runJobs(target, flush: true)
            let fileSystem = CrashingFileSystem(mutationsBeforeCrash: crashPoint)
            let installing = Self.machine(directory, fileSystem: fileSystem)
            do {
                try installing.restore(stream)
            } catch {
                #expect(fileSystem.hasCrashed, "kill point \(crashPoint): \(error)")
            }
            let reopened = Self.machine(directory)
            let durable = try reopened.openDurable()
            outcomes.insert(durable.rawValue)
            switch durable {
            case LogIndex(5): try VnodeEngineTests.expectSameAnswers(reopened.engine, oldModel, &random, "old")
            case LogIndex(40): try VnodeEngineTests.expectSameAnswers(reopened.engine, sourceModel, &random, "new")
            default: Issue.record("kill point \(crashPoint): durable index \(durable), neither 5 nor 40")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 1, "one generation left")
            guard fileSystem.hasCrashed else { break }
            crashPoint += 1
        }
        #expect(outcomes == [5, 40])
        #expect(crashPoint > 10, "the install has many steps to be killed at: \(crashPoint) (measured: 13)")
    }

    @Test("a deduplicating vnode records its session table with each flush and finds it again on open")
    func sessionsComeBack() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let machine = DeduplicatingMachine(Self.machine(root + "/3"))
        try machine.createDurable()
        let request = ClientRequest(client: 42, epoch: 1, sequence: 1, firstIncomplete: 1)
        let point = Point(measurement: "cpu", tags: [], fields: [Field("usage", .float(1))], timestamp: 1)
        let command = request.envelope(VnodeMachine.writeCommand([point]))
        _ = machine.apply(command[...], at: LogIndex(1))
        try Self.runJobs(machine, flush: true)
        let reopened = DeduplicatingMachine(Self.machine(root + "/3"))
        #expect(try reopened.openDurable() == LogIndex(1))
        #expect(reopened.sessions == machine.sessions)
        // The same request again (a retry) is a duplicate: answered, not applied.
        var again = reopened.sessions
        guard case .duplicate = again.check(request, at: LogIndex(2)) else {
            Issue.record("the retried request is not recognized after the restart")
            return
        }
        // A snapshot of it carries the table too.
        let installed = DeduplicatingMachine(Self.machine(root + "/4"))
        try installed.restore(reopened.snapshot())
        #expect(installed.sessions == machine.sessions)
        #expect(installed.durableIndex == LogIndex(1))
    }
}

extension VnodeMachineTests {
    /// The timestamps a scan of `m` with `tags` answers on `machine`.
    static func scanned(_ machine: VnodeMachine, tags: [LineProtocol.Tag]) throws -> [Int64] {
        try scannedRows(machine, .scan(measurement: "m", start: .min, end: .max, tags: tags)).map(\.timestamp).sorted()
    }

    /// The rows `query` answers on `machine`.
    static func scannedRows(_ machine: VnodeMachine, _ query: VnodeQuery) throws -> [Row] {
        #expect(try VnodeQuery(bytes: query.bytes) == query, "the query survives its encoding")
        let answer: [UInt8]
        switch machine.prepareAnswer(query.bytes) {
        case .done(let bytes): answer = bytes
        case .background(let compute): answer = try compute()
        }
        return try VnodeQuery.rows(from: answer)
    }

    @Test("row batches carry the same rows as point batches, whole and projected, from memory and from files")
    func rowBatchesMatchPointBatches() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let machine = Self.machine(root + "/1")
        try machine.createDurable()
        var random = CodecTests.Generator(state: 11)
        for index in UInt64(1)...4 {
            let points = VnodeEngineTests.batch(&random).map {
                Point(measurement: "m", tags: $0.tags, fields: $0.fields, timestamp: $0.timestamp)
            }
            Self.write(machine, points, at: index)
        }
        for flushed in [false, true] {
            if flushed { try Self.runJobs(machine, flush: true) }
            for fields in [nil, ["usage"], ["count", "nothing"]] as [[String]?] {
                let points = try Self.scannedRows(
                    machine, .scan(measurement: "m", start: .min, end: .max, fields: fields))
                let batches = try Self.scannedRows(
                    machine, .scan(measurement: "m", start: .min, end: .max, fields: fields, rowBatches: true))
                #expect(!points.isEmpty)
                #expect(batches == points, "flushed \(flushed), fields \(String(describing: fields))")
            }
        }
    }

    @Test("a row batch decodes to the rows encoded, series split across calls included, and damage is an error")
    func rowBatchRoundTrip() throws {
        let rows = [
            Row(tags: [Tag("host", "a")], timestamp: 1, fields: ["f": .float(-0.0), "s": .string("é,\"x\"")]),
            Row(tags: [Tag("host", "a")], timestamp: 2, fields: ["i": .integer(-7), "b": .boolean(true)]),
            Row(tags: [Tag("host", "b")], timestamp: 1, fields: ["u": .unsigned(.max)]),
            Row(tags: [], timestamp: 3, fields: [:]),
            Row(
                tags: [Tag("host", "c"), Tag("z", "9")], timestamp: 4,
                fields: (0..<10).reduce(into: [:]) { $0["k\($1)"] = .integer(Int64($1)) }),
        ]
        var encoder = RowBatchCodec.Encoder()
        encoder.add(Array(rows[0..<1]))
        encoder.add(Array(rows[1...]))
        let bytes = encoder.finish()
        #expect(try RowBatchCodec.decode(bytes[...]) == rows)
        #expect(try VnodeQuery.rows(from: bytes) == rows)
        var empty = RowBatchCodec.Encoder()
        #expect(try RowBatchCodec.decode(empty.finish()[...]) == [])
        for cut in 1..<bytes.count {
            #expect(throws: CodecError.self) { try RowBatchCodec.decode(bytes[..<cut]) }
        }
    }

    @Test(
        "a scan takes each series' first rows up to its limit and only the fields asked for, keeping rows without them")
    func projectionAndSeriesLimit() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let machine = Self.machine(root + "/1")
        try machine.createDurable()
        var points: [Point] = []
        for host in ["a", "b"] {
            for t in Int64(1)...5 {
                let fields =
                    t == 3 ? [Field("w", .integer(t))] : [Field("v", .float(Double(t))), Field("w", .integer(t))]
                points.append(Point(measurement: "m", tags: [Tag("host", host)], fields: fields, timestamp: t))
            }
        }
        Self.write(machine, points, at: 1)
        for flushed in [false, true] {
            if flushed { try Self.runJobs(machine, flush: true) }
            let limited = try Self.scannedRows(
                machine, .scan(measurement: "m", start: 2, end: .max, fields: ["v"], seriesLimit: 2))
            #expect(limited.map(\.timestamp) == [2, 3, 2, 3], "flushed: \(flushed)")
            #expect(limited.map { $0.fields["v"] } == [.float(2), nil, .float(2), nil], "only v; the row at 3 kept")
            #expect(limited.allSatisfy { $0.fields["w"] == nil })
            let whole = try Self.scannedRows(machine, .scan(measurement: "m", start: .min, end: .max))
            #expect(whole.count == 10 && whole.allSatisfy { $0.fields["w"] != nil })
        }
        // A vnode with a field named like the tag asked for ignores the tag and so the limit: the caller filters.
        Self.write(
            machine, [Point(measurement: "m", tags: [], fields: [Field("host", .string("b"))], timestamp: 9)], at: 2)
        let ignored = try Self.scannedRows(
            machine, .scan(measurement: "m", start: .min, end: .max, tags: [Tag("host", "b")], seriesLimit: 1))
        #expect(ignored.count == 11)
    }

    @Test(
        "a tag equality selects series through the index, unless the vnode has a field of that name (then rows travel)")
    func tagEqualityOnAFieldName() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let plain = Self.machine(root + "/1")
        try plain.createDurable()
        Self.write(
            plain,
            [
                Point(measurement: "m", tags: [Tag("host", "a")], fields: [Field("v", .float(1))], timestamp: 1),
                Point(measurement: "m", tags: [Tag("name", "x")], fields: [Field("v", .float(3))], timestamp: 3),
            ], at: 1)
        #expect(try Self.scanned(plain, tags: [Tag("name", "x")]) == [3])
        let mixed = Self.machine(root + "/2")
        try mixed.createDurable()
        Self.write(
            mixed,
            [
                Point(measurement: "m", tags: [Tag("host", "a")], fields: [Field("v", .float(1))], timestamp: 1),
                Point(measurement: "m", tags: [], fields: [Field("name", .string("x"))], timestamp: 2),
                Point(measurement: "m", tags: [Tag("name", "x")], fields: [Field("v", .float(3))], timestamp: 3),
            ], at: 1)
        // `name` is a field here: a row without the tag may match through it, so every row is left to the caller.
        #expect(try Self.scanned(mixed, tags: [Tag("name", "x")]) == [1, 2, 3])
        try Self.runJobs(mixed, flush: true)
        #expect(try Self.scanned(mixed, tags: [Tag("name", "x")]) == [1, 2, 3], "from a file too")
        try Self.runJobs(plain, flush: true)
        #expect(try Self.scanned(plain, tags: [Tag("name", "x")]) == [3], "from a file too")
    }
}
