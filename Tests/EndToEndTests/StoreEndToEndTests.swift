import Foundation
import Synchronization
import Testing

/// The store on real processes: writes through every node while nodes are killed, then every acknowledged point
/// reads back through SQL on every node and the replicas of each group agree by checksum; bad input is refused.
extension EndToEnd {
    @Suite("Store on real processes", .serialized)
    struct StoreEndToEndTests {
        @Test("concurrent writes through every node survive kill -9 and restarts; replicas agree")
        func writesSurviveKills() async throws {
            try await ProcessCluster.run(nodes: 3) { cluster in
                guard await cluster.waitForLeaders(groups: 1) else { return }
                let create = await cluster.eventually(20, "CREATE DATABASE") {
                    await cluster.sql(1, "CREATE DATABASE IF NOT EXISTS load WITH SHARD 4 REPLICA 3")?.status == 200
                }
                guard create else { return }
                let acknowledged = AcknowledgedKeys()
                // A million points by default (FLOTILLA_E2E_POINTS overrides): 4 clients, 1,000-point requests.
                let total = Int(ProcessInfo.processInfo.environment["FLOTILLA_E2E_POINTS"] ?? "") ?? 1_000_000
                let writers = 4
                let perRequest = min(1_000, total / writers)
                let requests = max(1, total / writers / perRequest)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<writers {
                        group.addTask {
                            for r in 0..<requests {
                                var lines: [String] = []
                                var keys: [String] = []
                                for i in 0..<perRequest {
                                    let series = (writer * 31 + i) % 1_000
                                    let time = 1_700_000_000_000_000_000 + Int64(writer * 1_000_000 + r * 1_000 + i)
                                    lines.append("m,host=h\(series) v=\(r)i \(time)")
                                    keys.append("h\(series)@\(time)")
                                }
                                let node = (writer + r) % 3 + 1
                                guard cluster.nodes[node]?.process != nil else { continue }
                                if await cluster.request(
                                    node, "POST", "/api/v1/write?db=load", body: lines.joined(separator: "\n"))?
                                    .status == 200
                                {
                                    acknowledged.keys.withLock { $0.formUnion(keys) }
                                }
                            }
                        }
                    }
                    group.addTask {
                        // Each node in turn is killed once a quarter more of the load was acknowledged, and restarted once
                        // the others acknowledged another twentieth without it.
                        func acked() -> Int { acknowledged.keys.withLock { $0.count } }
                        func waitFor(_ count: Int) async throws {
                            let deadline = Date().addingTimeInterval(120)
                            while acked() < count && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
                        }
                        for (turn, victim) in [1, 2, 3].enumerated() {
                            try await waitFor(total * (turn + 1) / 4)
                            cluster.kill9(victim)
                            try await waitFor(acked() + total / 20)
                            try cluster.start(victim)
                        }
                    }
                    try await group.waitForAll()
                }
                let acked = acknowledged.keys.withLock { $0 }
                cluster.check(
                    acked.count > writers * requests * perRequest / 3, "most writes were acknowledged (\(acked.count))")
                for node in 1...3 {
                    var missing = acked
                    _ = await cluster.eventually(120, "node \(node) reads back every acknowledged point") {
                        guard
                            let reply = await cluster.request(
                                node, "POST", "/api/v1/sql?db=load&epoch=ns", body: "SELECT host, time FROM m",
                                accept: "text/csv", timeout: 120),
                            reply.status == 200
                        else { return false }
                        var present: Set<String> = []
                        present.reserveCapacity(acked.count)
                        for line in reply.body.split(separator: "\n").dropFirst() {
                            present.insert(line.replacingOccurrences(of: ",", with: "@"))
                        }
                        missing = acked.subtracting(present)
                        return missing.isEmpty
                    }
                    cluster.check(
                        missing.isEmpty,
                        "node \(node) misses \(missing.count) acknowledged points, e.g. \(Array(missing.prefix(3)))")
                }
                _ = await cluster.eventually(30, "every data group's replicas hold identical data") {
                    var ids: Set<Int> = []
                    for node in 1...3 {
                        for group in await cluster.groups(node) where group["kind"] as? String == "data" {
                            ids.insert(group["id"] as! Int)
                        }
                    }
                    // `CHECKSUM GROUP` reads each replica's checksum after a ReadIndex round, off the loop thread.
                    var agree = ids.count >= 4
                    for id in ids.sorted() where agree {
                        let rows = await cluster.sqlRows(1, "CHECKSUM GROUP \(id)") ?? []
                        agree = rows.count == 3 && Set(rows.map { $0["checksum"] as? String ?? "?" }).count == 1
                    }
                    return agree
                }
            }
        }

        @Test("bad input gets a clear error and writes nothing")
        func badInputIsRefused() async throws {
            try await ProcessCluster.run(nodes: 3, arguments: ["--max-body-bytes", "4096"]) { cluster in
                guard await cluster.waitForLeaders(groups: 1) else { return }
                guard
                    await cluster.eventually(
                        20, "a first write",
                        { await cluster.request(1, "POST", "/api/v1/write", body: "ok v=1 1")?.status == 200 })
                else { return }
                let malformed = await cluster.request(2, "POST", "/api/v1/write", body: "ok v=2 2\nok v=oops 3")
                cluster.check(malformed?.status == 400, "malformed line: 400")
                cluster.check(
                    malformed?.body.contains("line 2, column 6") == true,
                    "names the line and column: \(malformed?.body ?? "")")
                let precision = await cluster.request(1, "POST", "/api/v1/write?precision=fortnights", body: "ok v=2 2")
                cluster.check(
                    precision?.status == 400 && precision?.body.contains("write.bad_precision") == true,
                    "bad precision: 400")
                let unknown = await cluster.request(1, "POST", "/api/v1/write?db=nope", body: "ok v=2 2")
                cluster.check(
                    unknown?.status == 404 && unknown?.body.contains("meta.database_not_found") == true,
                    "unknown database: 404")
                let large = await cluster.request(
                    1, "POST", "/api/v1/write", body: String(repeating: "ok v=3 3\n", count: 1_000))
                cluster.check(large?.status == 413, "oversized body: 413")
                let sqlError = await cluster.sql(1, "SELEC 1")
                cluster.check(sqlError?.status == 400 && sqlError?.body.contains("character 1") == true, "bad SQL: 400")
                let rows = await cluster.sql(3, "SELECT v FROM ok", accept: "text/csv")
                cluster.check(rows?.body == "v\n1.0\n", "only the first, valid write is stored: \(rows?.body ?? "")")
            }
        }
    }
}

extension ProcessCluster {
    func sql(_ node: Int, _ statement: String, db: String = "public", accept: String = "text/csv") async -> Reply? {
        await request(node, "POST", "/api/v1/sql?db=\(db)", body: statement, accept: accept)
    }
}

/// `2023-11-14T22:13:20.000000001` (UTC, as SQL answers write times; a trailing `Z` is accepted too) → nanoseconds.
func parseRFC3339Nanos(_ text: String) -> Int64? {
    let parts = (text.hasSuffix("Z") ? text.dropLast() : text[...]).split(separator: ".")
    guard parts.count == 2, let nanos = Int64(parts[1]) else { return nil }
    let formatter = ISO8601DateFormatter()
    guard let date = formatter.date(from: String(parts[0]) + "Z") else { return nil }
    return Int64(date.timeIntervalSince1970) * 1_000_000_000 + nanos
}

/// The keys of acknowledged points, shared by the writers.
final class AcknowledgedKeys: Sendable {
    let keys = Mutex<Set<String>>([])
}
