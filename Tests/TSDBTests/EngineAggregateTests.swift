import Foundation
import LineProtocol
import RaftStorage
import Testing

@testable import TSDB

/// Aggregates answered by the engine — from block stats where a block stands alone, by reading and merging
/// where layers overlap — equal those computed from the in-memory model's rows.
@Suite("Vnode engine aggregates")
struct EngineAggregateTests {
    static func expected(
        _ model: VnodeStore, _ measurement: String, _ field: String, _ start: Int64, _ end: Int64
    ) -> [SeriesKey: FieldAggregate] {
        var parts: [SeriesKey: FieldAggregate] = [:]
        for row in model.scan(measurement, start: start, end: end) {
            guard let value = row.fields[field] else { continue }
            parts[SeriesKey(measurement: measurement, tags: row.tags), default: FieldAggregate()].add(value)
        }
        return parts
    }

    /// Per series, per window of `width`: what the model's rows add up to.
    static func expectedWindows(
        _ model: VnodeStore, _ field: String, _ start: Int64, _ end: Int64, width: Int64
    ) -> [SeriesKey: [WindowAggregate]] {
        var parts: [SeriesKey: [Int64: FieldAggregate]] = [:]
        for row in model.scan("cpu", start: start, end: end) {
            guard let value = row.fields[field] else { continue }
            parts[SeriesKey(measurement: "cpu", tags: row.tags), default: [:]][
                windowStart(row.timestamp, width: width), default: .init()
            ].add(value)
        }
        return parts.mapValues { windows in
            windows.keys.sorted().map { WindowAggregate(start: $0, aggregate: windows[$0]!) }
        }
    }

    static func close(_ a: FieldAggregate, _ b: FieldAggregate) -> Bool {
        a.count == b.count && a.min == b.min && a.max == b.max && abs(a.sum - b.sum) <= 1e-9 * max(1, abs(b.sum))
    }

    static func expectEqual(
        _ engine: VnodeEngine, _ model: VnodeStore, _ start: Int64, _ end: Int64, _ context: String,
        window: Int64 = 7_000_000_000
    ) throws -> Int {
        var fromStats = 0
        for field in ["usage", "count", "state"] {
            let (windowed, windowBlocks) = try engine.aggregate(
                "cpu", field: field, start: start, end: end, window: window)
            fromStats += windowBlocks
            let wantWindows = Self.expectedWindows(model, field, start, end, width: window)
            for part in windowed {
                let got = part.windows
                let want = wantWindows[SeriesKey(measurement: "cpu", tags: part.tags)] ?? []
                #expect(
                    got.count == want.count
                        && zip(got, want).allSatisfy { $0.start == $1.start && Self.close($0.aggregate, $1.aggregate) },
                    "\(context) \(field) windows of \(part.tags): \(got.count) vs \(want.count)")
            }
            let (series, blocks) = try engine.aggregate("cpu", field: field, start: start, end: end)
            fromStats += blocks
            let want = Self.expected(model, "cpu", field, start, end)
            #expect(series.count == want.count, "\(context) \(field): \(series.count) series, expected \(want.count)")
            for part in series {
                let key = SeriesKey(measurement: "cpu", tags: part.tags)
                guard let expected = want[key] else {
                    Issue.record("\(context) \(field): \(key) has no values in the model")
                    continue
                }
                let got = part.aggregate
                #expect(
                    got.count == expected.count && got.min == expected.min && got.max == expected.max
                        && abs(got.sum - expected.sum) <= 1e-9 * max(1, abs(expected.sum)),
                    "\(context) \(field) \(key): \(got) vs \(expected)")
            }
        }
        return fromStats
    }

    @Test("random layers: the aggregates match the model's rows", arguments: 0..<12 as Range<UInt64>)
    func matchesTheModel(seed: UInt64) throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = CodecTests.Generator(state: seed)
        let engine = try VnodeEngine.open(
            directory: directory, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        let model = VnodeStore()
        var fromStats = 0
        for index in 1...200 as ClosedRange<UInt64> {
            let points = VnodeEngineTests.batch(&random)
            engine.apply(points, at: index)
            for point in points { model.upsert(point) }
            if random.next() % 15 == 0 { try engine.flushNow() }
            if random.next() % 60 == 0 { try engine.compactNow() }
            if index % 20 == 0 {
                let start = Int64(random.next() % 300) * 1_000_000_000
                let end = start + Int64(random.next() % 300) * 1_000_000_000
                fromStats += try Self.expectEqual(engine, model, start, end, "seed \(seed) at \(index)")
                fromStats += try Self.expectEqual(engine, model, .min, .max, "seed \(seed) at \(index), all")
            }
        }
        try engine.flushNow()
        try engine.compactNow()
        fromStats += try Self.expectEqual(engine, model, .min, .max, "seed \(seed) at the end")
        #expect(fromStats > 0, "some blocks stood alone and were answered from their stats")
    }

    @Test("points written in time order and flushed are aggregated from the stats alone")
    func inOrderDataUsesTheStats() throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let engine = try VnodeEngine.open(
            directory: directory, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        let model = VnodeStore()
        for k in 0..<640 {
            let point = Point(
                measurement: "cpu", tags: [SeriesTag("host", "a")], fields: [Field("usage", .float(Double(k % 17)))],
                timestamp: Int64(k) * 1_000_000_000)
            engine.apply([point], at: UInt64(k + 1))
            model.upsert(point)
        }
        try engine.flushNow()
        let (series, fromStats) = try engine.aggregate("cpu", field: "usage")
        #expect(fromStats == 640 / 16, "every block of 16 rows from its stats")
        #expect(series.first?.aggregate == Self.expected(model, "cpu", "usage", .min, .max).values.first)
        // Windows of 32 s hold two blocks of 16 rows each; windows of 24 s split one block of every three (the
        // 13 blocks starting at 16 s + 48 s·k).
        #expect(try engine.aggregate("cpu", field: "usage", window: 32_000_000_000).blocksFromStats == 40)
        #expect(try engine.aggregate("cpu", field: "usage", window: 24_000_000_000).blocksFromStats == 27)
        _ = try Self.expectEqual(engine, model, .min, .max, "windows of 24 s", window: 24_000_000_000)
        // A range that cuts the first and last blocks reads those two and takes the stats of the rest.
        let (_, partial) = try engine.aggregate("cpu", field: "usage", start: 8_000_000_000, end: 632_000_000_000)
        #expect(partial == 640 / 16 - 2)
        _ = try Self.expectEqual(engine, model, 8_000_000_000, 632_000_000_000, "cut range")
    }
}
