import ArgumentParser
import Foundation
import NIOHTTP1
import Synchronization

/// `flotilla bench`: a write load generator against a running cluster, with a progress line and a summary
/// (requests/s, points/s, latency p50/p90/p99/max).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Generate a write load and report throughput and latency.")

    @Option(help: "Node HTTP addresses, comma-separated; clients spread over them.") var url = "http://127.0.0.1:8902"
    @Option(help: "Tenant.") var tenant = "cnosdb"
    @Option(help: "Database (created if missing, with --create options).") var db = "bench"
    @Option(help: "Options for CREATE DATABASE, e.g. \"SHARD 4 REPLICA 3\".") var create = "SHARD 4 REPLICA 3"
    @Option(help: "Concurrent clients.") var concurrency = 64
    @Option(help: "Points per request.") var points = 1000
    @Option(help: "Distinct series.") var series = 100_000
    @Option(help: "Seconds to run.") var duration = 30.0

    func run() async throws {
        let urls = url.split(separator: ",").map(String.init)
        let clients = urls.map { FlotillaClient(url: $0, connections: concurrency) }
        let setup = "CREATE DATABASE IF NOT EXISTS \(db)" + (create.isEmpty ? "" : " WITH \(create)")
        let (status, body) = try await clients[0].send(
            .POST, "/api/v1/sql?tenant=\(encodeQuery(tenant))", body: Array(setup.utf8))
        guard status == 200 else {
            print("cannot create the database (HTTP \(status)): \(body)")
            throw ExitCode(1)
        }
        print(
            "bench: \(concurrency) clients, \(points) points per request, \(series) series, \(Int(duration)) s, against \(urls.joined(separator: " "))"
        )
        let stats = StatsBox()
        let started = Date()
        let deadline = started.addingTimeInterval(duration)
        let path = "/api/v1/write?tenant=\(encodeQuery(tenant))&db=\(encodeQuery(db))"
        let baseTime = Int64(started.timeIntervalSince1970) * 1_000_000_000
        let (points, series) = (self.points, self.series)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                let client = clients[worker % clients.count]
                group.addTask {
                    var sequence = 0
                    var latencies: [Double] = []
                    while Date() < deadline {
                        var body: [UInt8] = []
                        body.reserveCapacity(points * 48)
                        for i in 0..<points {
                            let n = (worker &* 7919 &+ sequence &* points &+ i) % series
                            let time = baseTime &+ Int64(sequence) &* 1_000_000 &+ Int64(worker) &* 1_000 &+ Int64(i)
                            body += Array("bench,host=h\(n) value=\(Double(i) * 0.5) \(time)\n".utf8)
                        }
                        sequence += 1
                        let sent = Date()
                        let ok = ((try? await client.send(.POST, path, body: body))?.0 ?? 0) == 200
                        let latency = Date().timeIntervalSince(sent)
                        latencies.append(latency)
                        stats.mutex.withLock { $0.record(ok: ok, points: points) }
                    }
                    let done = latencies
                    stats.mutex.withLock { $0.latencies += done }
                }
            }
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
            try await group.waitForAll()
        }
        let elapsed = Date().timeIntervalSince(started)
        let s = stats.mutex.withLock { $0 }
        let sorted = s.latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000
        }
        print("")
        print(
            String(
                format: "requests/s %.0f   points/s %.0f   errors %d", Double(s.requests) / elapsed,
                Double(s.points) / elapsed, s.errors))
        print(
            String(
                format: "latency ms: p50 %.1f   p90 %.1f   p99 %.1f   max %.1f", percentile(0.5), percentile(0.9),
                percentile(0.99),
                sorted.last.map { $0 * 1000 } ?? 0))
        for client in clients { await client.shutdown() }
    }
}

/// Counters shared by the bench's clients.
struct Stats {
    var requests = 0
    var points = 0
    var errors = 0
    var latencies: [Double] = []

    mutating func record(ok: Bool, points: Int) {
        if ok {
            requests += 1
            self.points += points
        } else {
            errors += 1
        }
    }
}

/// Shares `Stats` between the bench's tasks.
final class StatsBox: Sendable {
    let mutex = Mutex(Stats())
}
