import Coordinator
import Foundation
import LineProtocol
import Meta
import MultiRaft
import RaftCore
import RaftStorage
import RaftTransport
import SQL
import Synchronization
import TSDB
import Testing

@testable import Query

/// The query layer against a fake source: one real vnode (its engine in a temporary directory, flushed now and
/// then, with deletes) answering the same `VnodeQuery` bytes a replica answers over the network. A SELECT whose
/// aggregates the vnodes answer (pushed down) must give what the same SELECT gives from rows, and both must
/// give what the rows themselves say.
@Suite("Query executor over a fake source")
struct QueryExecutorTests {
    /// One vnode as a `QuerySource`: each call counted, answered through `VnodeMachine.prepareAnswer`.
    final class VnodeSource: QuerySource, @unchecked Sendable {
        // @unchecked: the machine is used from the test's task only, one call at a time (the executor awaits
        // each read before the next).
        let machine: VnodeMachine
        let calls = Mutex<[String: Int]>([:])

        init(directory: String) throws {
            machine = VnodeMachine(directory: directory, fileSystem: POSIXFileSystem(), options: Self.options)
            try machine.createDurable()
        }

        static var options: VnodeEngine.Options {
            var options = VnodeEngine.Options()
            options.blockRows = 8
            options.compactionFanIn = 2
            return options
        }

        func count(_ call: String) { calls.withLock { $0[call, default: 0] += 1 } }
        func called(_ call: String) -> Int { calls.withLock { $0[call] ?? 0 } }

        func answer(_ query: VnodeQuery) throws -> [UInt8] {
            switch machine.prepareAnswer(query.bytes) {
            case .done(let bytes): return bytes
            case .background(let work): return try work()
            }
        }

        func scan(
            tenant: String, database: String, measurement: String, start: Int64, end: Int64, tags: [Tag],
            fields: [String]?, seriesLimit: Int?, stale: Bool
        ) async throws(CoordinatorError) -> [Row] {
            count("scan")
            do {
                return try VnodeQuery.rows(
                    from: try answer(
                        .scan(
                            measurement: measurement, start: start, end: end, tags: tags, fields: fields,
                            seriesLimit: seriesLimit, rowBatches: true)))
            } catch {
                throw CoordinatorError(.internalError, "test.scan", "\(error)")
            }
        }

        /// Every row in one page: the streamed path is `PagedScan`'s, tested end to end.
        struct OnePage: RowPages {
            var rows: [Row]?
            var isWhole: Bool { true }
            mutating func next() async throws(CoordinatorError) -> [Row]? {
                defer { rows = nil }
                return rows
            }
        }

        func scanInPages(
            tenant: String, database: String, measurement: String, start: Int64, end: Int64, tags: [Tag],
            fields: [String]?, pageRows: Int, stale: Bool
        ) async throws(CoordinatorError) -> any RowPages {
            OnePage(
                rows: try await scan(
                    tenant: tenant, database: database, measurement: measurement, start: start, end: end, tags: tags,
                    fields: fields, seriesLimit: nil, stale: stale))
        }

        func aggregate(
            tenant: String, database: String, measurement: String, start: Int64, end: Int64, tags: [Tag],
            field: String?, window: Int64?, stale: Bool
        ) async throws(CoordinatorError) -> [SeriesAggregate] {
            count("aggregate")
            do {
                return try VnodeQuery.aggregates(
                    from: try answer(
                        .aggregate(
                            measurement: measurement, start: start, end: end, tags: tags, field: field, window: window
                        )))
            } catch {
                throw CoordinatorError(.internalError, "test.aggregate", "\(error)")
            }
        }

        func schema(tenant: String, database: String) async throws(CoordinatorError) -> [String: MeasurementSchema] {
            count("schema")
            do {
                return try VnodeQuery.schemas(from: try answer(.schema))
            } catch {
                throw CoordinatorError(.internalError, "test.schema", "\(error)")
            }
        }
    }

    /// A coordinator that is never asked anything here (its host never starts): SELECTs read the source.
    static func coordinator() -> Coordinator {
        let host = MultiRaftHost(
            settings: HostSettings(nodeID: NodeID(1), dataDirectory: "/nonexistent"),
            transport: LocalNetwork().transport(for: NodeID(1)), peers: [], stateMachine: { _ in KeyValueMachine() })
        return Coordinator(host: host, meta: MetaStore(), nodeID: 1, metaGroup: GroupID(1), metaNodes: [1])
    }

    static let second: Int64 = 1_000_000_000

    /// Random writes (few series, times mostly moving on, some late upserts, fields sometimes missing), deletes
    /// and flushes.
    static func fill(_ source: VnodeSource, seed: UInt64) {
        var random = SplitMix(seed)
        var index: UInt64 = 0
        for _ in 0..<120 {
            index += 1
            if random.next(12) == 0 {
                let host = "h\(random.next(3))"
                let start = Int64(random.next(Int(index))) * second
                let tombstone = Tombstone(
                    measurement: "cpu", conditions: [TagCondition(key: "host", values: [host])], start: start,
                    end: start + Int64(1 + random.next(30)) * second)
                _ = source.machine.apply(VnodeMachine.deleteCommand(tombstone)[...], at: LogIndex(index))
                continue
            }
            var points: [Point] = []
            for _ in 0..<(1 + random.next(8)) {
                var fields: [Field] = []
                if random.next(4) != 0 { fields.append(Field("usage", .float(Double(random.next(1_000)) / 10))) }
                if random.next(3) != 0 { fields.append(Field("n", .integer(Int64(random.next(50)) - 10))) }
                if fields.isEmpty { fields.append(Field("ok", .boolean(true))) }
                points.append(
                    Point(
                        measurement: "cpu",
                        tags: [
                            LineProtocol.Tag("dc", "d\(random.next(2))"),
                            LineProtocol.Tag("host", "h\(random.next(3))"),
                        ],
                        fields: fields,
                        // Mostly in time order, as time series come (so that whole blocks are answered from their
                        // stats), with some late upserts.
                        timestamp: random.next(10) == 0
                            ? Int64(random.next(Int(index))) * second
                            : Int64(index) * second + Int64(random.next(4)) * second / 4))
            }
            _ = source.machine.apply(VnodeMachine.writeCommand(points)[...], at: LogIndex(index))
            if random.next(10) == 0 { try? source.machine.engine.flushNow() }
            if random.next(25) == 0 { try? source.machine.engine.compactNow() }
        }
    }

    static func close(_ a: [[SQLValue]], _ b: [[SQLValue]]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            guard x.count == y.count else { return false }
            for (u, v) in zip(x, y) {
                switch (u, v) {
                case (.double(let p), .double(let q)):
                    guard abs(p - q) <= 1e-9 * max(1, abs(p)) else { return false }
                default:
                    guard u == v else { return false }
                }
            }
        }
        return true
    }

    @Test(
        "aggregates answered by the vnode equal the same aggregates computed from rows, and the rows' own sums",
        arguments: 0..<12 as Range<UInt64>)
    func pushedEqualsRows(seed: UInt64) async throws {
        let directory = NSTemporaryDirectory() + "flotilla-query-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = try VnodeSource(directory: directory)
        Self.fill(source, seed: seed)
        let executor = SQLExecutor(
            coordinator: Self.coordinator(), source: source, tenant: "cnosdb", database: "db", stale: true)
        var random = SplitMix(seed &+ 1_000)
        for _ in 0..<6 {
            let start = Int64(random.next(80)) * Self.second
            let end = start + Int64(1 + random.next(60)) * Self.second
            let host = "h\(random.next(3))"
            let grouping = ["", " GROUP BY host", " GROUP BY host, dc", " GROUP BY t"][random.next(4)]
            let bin = grouping == " GROUP BY t" ? "date_bin(INTERVAL '10 seconds', time) AS t, " : ""
            let tags = grouping.contains("dc") ? "host, dc, " : grouping.contains("host") ? "host, " : ""
            let onHost = random.next(2) == 0 ? " AND host = '\(host)'" : ""
            let columns =
                "\(bin)\(tags)count(usage), sum(usage), min(usage), max(usage), avg(usage), count(n), sum(n), max(n)"
            let range = "time >= \(start) AND time < \(end)\(onHost)"
            let pushed = "SELECT \(columns) FROM cpu WHERE \(range)\(grouping)"
            // A condition on a field keeps the same rows for these aggregates, and makes rows travel.
            let fromRows = "SELECT \(columns) FROM cpu WHERE \(range) AND (usage > -1 OR n > -100)\(grouping)"
            let aggregateCalls = source.called("aggregate")
            let a = try await executor.run(try SQLParser.parse(pushed))
            #expect(source.called("aggregate") > aggregateCalls, "pushed down: \(pushed)")
            let scanCalls = source.called("scan")
            let b = try await executor.run(try SQLParser.parse(fromRows))
            #expect(source.called("scan") > scanCalls, "from rows: \(fromRows)")
            #expect(a.columns == b.columns)
            #expect(Self.close(a.rows, b.rows), "seed \(seed): \(pushed)\n pushed: \(a.rows)\n rows:   \(b.rows)")
        }
        // The rows themselves: the sum of usage over everything, from a raw SELECT.
        let raw = try await executor.run(try SQLParser.parse("SELECT usage FROM cpu"))
        let total = raw.rows.reduce(0.0) { sum, row in
            if case .double(let v) = row[0] { return sum + v }
            return sum
        }
        let summed = try await executor.run(try SQLParser.parse("SELECT sum(usage) FROM cpu"))
        #expect(Self.close(summed.rows, [[.double(total)]]) || (raw.rows.isEmpty && summed.rows == [[.null]]))
    }
}

/// A small seeded generator for the test's choices.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(max(1, bound)))
    }
}
