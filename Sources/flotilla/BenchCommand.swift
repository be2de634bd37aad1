import ArgumentParser
import Foundation
import NIOHTTP1
import Synchronization

/// `flotilla bench`: a load generator with a progress line and a summary (requests/s, points/s, latency
/// p50/p90/p99/max). It writes line protocol, or reads points back, against Flotilla or against an InfluxDB 1.x
/// server (`--target influxdb`), so that one generator drives both sides of a comparison.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Generate a write or read load and report throughput and latency.")

    /// Whose HTTP API the load speaks.
    enum Target: String, ExpressibleByArgument { case flotilla, influxdb }
    /// What each request does.
    enum Operation: String, ExpressibleByArgument {
        /// Writes `--points` points.
        case write
        /// Reads one point by series and time (the series were written first, one point each).
        case point
        /// Reads the last minute of one series.
        case recent
    }

    @Option(help: "Node HTTP addresses, comma-separated; clients spread over them.") var url = "http://127.0.0.1:8902"
    @Option(help: "flotilla or influxdb (its 1.x /write and /query).") var target = Target.flotilla
    @Option(help: "write, point (read one point by series and time) or recent (read a series' last minute).")
    var operation = Operation.write
    @Option(help: "Tenant.") var tenant = "cnosdb"
    @Option(help: "Database (created if missing, with --create options).") var db = "bench"
    @Option(help: "Options for CREATE DATABASE, e.g. \"SHARD 4 REPLICA 3\" (Flotilla only).")
    var create = "SHARD 4 REPLICA 3"
    @Option(help: "Concurrent clients.") var concurrency = 64
    @Option(help: "Points per write request.") var points = 1000
    @Option(help: "Float fields per point.") var fields = 1
    @Option(help: "Distinct series.") var series = 100_000
    @Option(help: "Seconds to run.") var duration = 30.0
    @Flag(help: "Print the summary as one JSON line, without the progress line.") var json = false

    func run() async throws {
        let urls = url.split(separator: ",").map(String.init)
        let clients = urls.map { FlotillaClient(url: $0, connections: concurrency) }
        let api = BenchAPI(target: target, tenant: tenant, db: db)
        try await api.createDatabase(clients[0], options: create)
        let started = Date()
        let baseTime = Int64(started.timeIntervalSince1970) * 1_000_000_000
        let readSeries = min(series, 1000)
        if operation != .write {
            try await api.prefill(clients[0], series: readSeries, fields: fields, time: baseTime - 1_000_000_000)
        }
        if !json {
            print(
                "bench: \(operation.rawValue), \(concurrency) clients, \(points) points per request, \(series) series,"
                    + " \(Int(duration)) s, against \(urls.joined(separator: " "))")
        }
        let stats = StatsBox()
        let deadline = started.addingTimeInterval(duration)
        let (points, series, fields, operation, json) = (
            self.points, self.series, self.fields, self.operation, self.json
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                let client = clients[worker % clients.count]
                group.addTask {
                    var sequence = 0
                    var latencies: [Double] = []
                    var body: [UInt8] = []
                    while Date() < deadline {
                        let request: (HTTPMethod, String, [UInt8]?)
                        var count = points
                        switch operation {
                        case .write:
                            body.removeAll(keepingCapacity: true)
                            LineProtocolLoad.append(
                                worker: worker, sequence: sequence, points: points, series: series, fields: fields,
                                baseTime: baseTime, to: &body)
                            request = (.POST, api.writePath, body)
                        case .point, .recent:
                            let n = (worker &* 7919 &+ sequence) % readSeries
                            request = api.read(series: n, at: baseTime - 1_000_000_000, recent: operation == .recent)
                            count = 1
                        }
                        sequence += 1
                        let sent = Date()
                        let status = (try? await client.send(request.0, request.1, body: request.2))?.0 ?? 0
                        latencies.append(Date().timeIntervalSince(sent))
                        stats.mutex.withLock { $0.record(status: status, points: count) }
                    }
                    let done = latencies
                    stats.mutex.withLock { $0.latencies += done }
                }
            }
            if !json {
                group.addTask {
                    while Date() < deadline {
                        try await Task.sleep(for: .seconds(1))
                        let s = stats.mutex.withLock { $0 }
                        let elapsed = Date().timeIntervalSince(started)
                        print(
                            String(
                                format: "\r%5.0f s  requests %8d  points %11d  errors %5d  points/s %10.0f", elapsed,
                                s.requests, s.points, s.errors, Double(s.points) / elapsed), terminator: "")
                        fflush(nil)
                    }
                }
            }
            try await group.waitForAll()
        }
        let summary = stats.mutex.withLock { $0 }.summary(seconds: Date().timeIntervalSince(started))
        print(json ? summary.json : summary.text)
        for client in clients { await client.shutdown() }
    }
}

/// The HTTP calls of one target's API.
struct BenchAPI: Sendable {
    let target: BenchCommand.Target
    let tenant: String
    let db: String

    var writePath: String {
        switch target {
        case .flotilla: "/api/v1/write?tenant=\(encodeQuery(tenant))&db=\(encodeQuery(db))"
        case .influxdb: "/write?db=\(encodeQuery(db))"
        }
    }

    func createDatabase(_ client: FlotillaClient, options: String) async throws {
        let (status, body): (Int, String)
        switch target {
        case .flotilla:
            let statement = "CREATE DATABASE IF NOT EXISTS \(db)" + (options.isEmpty ? "" : " WITH \(options)")
            (status, body) = try await client.send(
                .POST, "/api/v1/sql?tenant=\(encodeQuery(tenant))", body: Array(statement.utf8))
        case .influxdb:
            (status, body) = try await client.send(.POST, "/query?q=" + encodeQuery("CREATE DATABASE \(db)"))
        }
        guard status == 200 else {
            print("cannot create the database (HTTP \(status)): \(body)")
            throw ExitCode(1)
        }
    }

    /// Writes one point at `time` into each of the first `series` series, for the reads to find.
    func prefill(_ client: FlotillaClient, series: Int, fields: Int, time: Int64) async throws {
        var body: [UInt8] = []
        for n in 0..<series { LineProtocolLoad.appendPoint(series: n, value: 1, fields: fields, time: time, to: &body) }
        let status = try await client.send(.POST, writePath, body: body).0
        guard status == 200 || status == 204 else {
            print("cannot write the points to read (HTTP \(status))")
            throw ExitCode(1)
        }
    }

    /// A query for series `n`: its point at `time`, or (`recent`) its last minute.
    func read(series n: Int, at time: Int64, recent: Bool) -> (HTTPMethod, String, [UInt8]?) {
        let minuteAgo = Int64(Date().timeIntervalSince1970 * 1e9) - 60_000_000_000
        let condition = recent ? "time > \(minuteAgo)" : "time = \(time)"
        let statement = "SELECT * FROM bench WHERE host = 'h\(n)' AND \(condition)"
        switch target {
        case .flotilla:
            return (
                .POST, "/api/v1/sql?tenant=\(encodeQuery(tenant))&db=\(encodeQuery(db))", Array(statement.utf8)
            )
        case .influxdb:
            return (.GET, "/query?db=\(encodeQuery(db))&q=\(encodeQuery(statement))", nil)
        }
    }
}

/// The line protocol the bench writes: measurement `bench`, tag `host=h<n>`, float fields `value`, `f1`, ….
enum LineProtocolLoad {
    /// Appends one request's points: series spread over `series` by worker and sequence, times unique per point.
    static func append(
        worker: Int, sequence: Int, points: Int, series: Int, fields: Int, baseTime: Int64, to body: inout [UInt8]
    ) {
        for i in 0..<points {
            let n = (worker &* 7919 &+ sequence &* points &+ i) % series
            let time = baseTime &+ Int64(sequence) &* 1_000_000 &+ Int64(worker) &* 1_000 &+ Int64(i)
            appendPoint(series: n, value: i, fields: fields, time: time, to: &body)
        }
    }

    static func appendPoint(series n: Int, value: Int, fields: Int, time: Int64, to body: inout [UInt8]) {
        body.append(contentsOf: "bench,host=h".utf8)
        appendDecimal(Int64(n), to: &body)
        for field in 0..<max(fields, 1) {
            body.append(contentsOf: field == 0 ? " value=".utf8 : ",f".utf8)
            if field > 0 {
                appendDecimal(Int64(field), to: &body)
                body.append(UInt8(ascii: "="))
            }
            appendDecimal(Int64(value &+ field), to: &body)
            body.append(contentsOf: ".5".utf8)
        }
        body.append(UInt8(ascii: " "))
        appendDecimal(time, to: &body)
        body.append(UInt8(ascii: "\n"))
    }

    static func appendDecimal(_ value: Int64, to body: inout [UInt8]) {
        if value < 0 { body.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, Int) = (0, 0)
        repeat {
            digits.0 = digits.0 &* 10 &+ magnitude % 10
            digits.1 += 1
            magnitude /= 10
        } while magnitude > 0 && digits.1 < 18
        if magnitude > 0 {
            // More than 18 digits: the leading ones first.
            appendDecimal(Int64(magnitude), to: &body)
        }
        for _ in 0..<digits.1 {
            body.append(UInt8(ascii: "0") + UInt8(digits.0 % 10))
            digits.0 /= 10
        }
    }
}

/// Counters shared by the bench's clients.
struct Stats {
    var requests = 0
    var points = 0
    var errors = 0
    /// Requests the server turned away as busy (503): counted apart from failures.
    var refused = 0
    var latencies: [Double] = []

    mutating func record(status: Int, points: Int) {
        switch status {
        case 200, 204:
            requests += 1
            self.points += points
        case 503: refused += 1
        default: errors += 1
        }
    }

    /// The figures of a run that took `seconds`.
    func summary(seconds: Double) -> BenchSummary {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000
        }
        return BenchSummary(
            requestsPerSecond: Double(requests) / seconds, pointsPerSecond: Double(points) / seconds, errors: errors,
            refused: refused,
            p50: percentile(0.5), p90: percentile(0.9), p99: percentile(0.99), max: (sorted.last ?? 0) * 1000)
    }
}

/// A bench run's result; latencies in milliseconds.
struct BenchSummary {
    let requestsPerSecond: Double
    let pointsPerSecond: Double
    let errors: Int
    let refused: Int
    let p50: Double
    let p90: Double
    let p99: Double
    let max: Double

    var text: String {
        String(
            format:
                "\nrequests/s %.0f   points/s %.0f   errors %d   refused (503) %d\nlatency ms: p50 %.1f   p90 %.1f   p99 %.1f   max %.1f",
            requestsPerSecond, pointsPerSecond, errors, refused, p50, p90, p99, max)
    }

    var json: String {
        String(
            format:
                #"{"requests_per_s": %.1f, "points_per_s": %.1f, "errors": %d, "refused": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}"#,
            requestsPerSecond, pointsPerSecond, errors, refused, p50, p90, p99, max)
    }
}

/// Shares `Stats` between the bench's tasks.
final class StatsBox: Sendable {
    let mutex = Mutex(Stats())
}
