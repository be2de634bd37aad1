// raft-bench: a release-mode benchmark of the Raft core alone.
//
// Three members live in one process. Storage is an in-memory no-op (a Ready's entries and hard state are
// "durable" as soon as it is taken, so `advance` is called at once) and there is no network: every message
// of a Ready is stepped directly into its target member, round after round, until no member has anything
// to do. Only committed entries seen in the leader's `Ready.committedEntries` are counted.
//
// Usage: raft-bench [--seconds N] [--json]

import BenchSupport
import RaftCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Options

struct Options {
    var seconds: Double = 3
    var json = false
    /// Only this mode (batch, pipelined, single), or all of them.
    var mode: String?
    /// Only this batch size for the batched modes.
    var batch: Int?
    /// Every member's log is compacted through its applied index each time this many entries commit.
    var compactEvery = 100_000
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        switch argument {
        case "--json":
            options.json = true
        case "--seconds":
            guard let value = arguments.next(), let seconds = Double(value), seconds > 0 else {
                fail("--seconds needs a positive number")
            }
            options.seconds = seconds
        case "--mode":
            guard let value = arguments.next(), ["batch", "pipelined", "single"].contains(value) else {
                fail("--mode needs batch, pipelined or single")
            }
            options.mode = value
        case "--batch":
            guard let value = arguments.next(), let size = Int(value), size > 0 else {
                fail("--batch needs a positive number")
            }
            options.batch = size
        case "--compact-every":
            guard let value = arguments.next(), let count = Int(value), count > 0 else {
                fail("--compact-every needs a positive number")
            }
            options.compactEvery = count
        case "-h", "--help":
            print("usage: raft-bench [--seconds N] [--json] [--mode batch|pipelined|single] [--batch N]")
            print("                  [--compact-every N]")
            print("  --seconds N  measure each mode for N seconds (default 3)")
            print("  --json       also print the results as one JSON line")
            print("  --mode M     run only this mode (for profiling); default: all")
            print("  --batch N    run the batched modes with this batch size only")
            print("  --compact-every N  compact every member's log each N committed entries (default 100000)")
            exit(0)
        default:
            if argument.hasPrefix("--seconds=") {
                guard let seconds = Double(argument.dropFirst("--seconds=".count)), seconds > 0 else {
                    fail("--seconds needs a positive number")
                }
                options.seconds = seconds
            } else {
                fail("unknown argument \(argument) (try --help)")
            }
        }
    }
    return options
}

func fail(_ message: String) -> Never {
    var standardError = StandardError()
    print("raft-bench: \(message)", to: &standardError)
    exit(2)
}

func writeToStandardError(_ bytes: UnsafeBufferPointer<UInt8>) {
    _ = write(2, bytes.baseAddress, bytes.count)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var text = string
        text.withUTF8 { bytes in writeToStandardError(bytes) }
    }
}

// MARK: - Cluster

extension RaftNode {
    /// `hasReady` read through an exclusive (inout) access. Reading the getter straight off an array element
    /// (or through a pointer) makes the compiler copy the whole RaftNode value first, as it cannot prove
    /// the opaque getter leaves that memory alone; under `inout` exclusivity it can borrow in place.
    mutating func hasReadyInPlace() -> Bool { hasReady }
}

/// Three members wired together in memory.
struct Cluster {
    var nodes: [RaftNode]
    /// Messages produced by the last round, to be stepped in the next.
    var outbox: [Message] = []
    var inbox: [Message] = []
    /// Index of the leader in `nodes`, once elected.
    var leader = -1
    /// Entries seen in the leader's `committedEntries` (all of them, including the leader's no-op).
    var leaderCommitted = 0
    /// Entries counted since the last compaction.
    var sinceCompaction = 0
    let compactEvery: Int

    init(size: Int, compactEvery: Int) throws {
        let ids = (1...UInt64(size)).map(NodeID.init(rawValue:))
        let membership = Membership(voters: Set(ids))
        nodes = try ids.map { id in
            var config = RaftConfig(id: id)
            config.seed = 42
            return try RaftNode(config: config, membership: membership)
        }
        self.compactEvery = compactEvery
        outbox.reserveCapacity(64)
        inbox.reserveCapacity(64)
    }

    /// One round: every member with work hands over its Ready (persist is a no-op, so it is advanced at
    /// once), then every message produced is stepped into its target. Returns false when nothing happened.
    mutating func round() -> Bool {
        var progressed = false
        for i in nodes.indices where nodes[i].hasReadyInPlace() {
            progressed = true
            let ready = nodes[i].ready()
            // "Persist" entries and hard state: nothing to do in memory.
            if i == leader { leaderCommitted &+= ready.committedEntries.count }
            outbox.append(contentsOf: ready.messages)
            nodes[i].advance(ready)
        }
        if outbox.isEmpty { return progressed }
        swap(&inbox, &outbox)
        for message in inbox {
            let target = Int(message.to.rawValue) &- 1
            if target >= 0 && target < nodes.count { nodes[target].step(message) }
        }
        inbox.removeAll(keepingCapacity: true)
        return true
    }

    /// Rounds until no member has anything to do.
    mutating func pump() {
        while round() {}
    }

    /// Compacts every member's log through what it has applied, once enough entries have gone by.
    mutating func maybeCompact() {
        if leaderCommitted - sinceCompaction < compactEvery { return }
        sinceCompaction = leaderCommitted
        compactAll()
    }

    mutating func compactAll() {
        for i in nodes.indices {
            let applied = nodes[i].log.applied
            _ = nodes[i].compactLog(through: applied)
        }
    }

    /// Clears the startup lease (ticks every member for one election timeout), campaigns on member 1 and
    /// pumps until a leader is known to everyone.
    mutating func electLeader() {
        for _ in 0..<nodes[0].config.electionTicks {
            if nodes.contains(where: { $0.role == .leader }) { break }
            for i in nodes.indices { nodes[i].tick() }
            pump()
        }
        if !nodes.contains(where: { $0.role == .leader }) {
            nodes[0].campaign()
            pump()
        }
        // Member 1 normally wins; if a member's own timeout fired first, it is just as good.
        var attempts = 0
        while !nodes.contains(where: { $0.role == .leader }) {
            attempts += 1
            if attempts > 1000 { fail("no leader elected") }
            for i in nodes.indices { nodes[i].tick() }
            pump()
        }
        leader = nodes.firstIndex { $0.role == .leader }!
        pump()  // commit the leader's no-op everywhere
        leaderCommitted = 0
        sinceCompaction = 0
    }

    /// Every member applied exactly what the leader committed.
    func checkConsistent() {
        let commit = nodes[leader].log.committed
        for node in nodes {
            if node.log.applied != commit || node.log.committed != commit || node.log.lastIndex != commit {
                fail(
                    "inconsistent member \(node.id): applied \(node.log.applied) committed \(node.log.committed) "
                        + "last \(node.log.lastIndex), leader committed \(commit)")
            }
        }
    }
}

// MARK: - Measurements

struct Result {
    var mode: String
    var batch: Int
    var entries: Int
    var seconds: Double
    var perSecond: Double { seconds > 0 ? Double(entries) / seconds : 0 }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}

let payloadSize = 16

func makePayloads(_ count: Int) -> [[UInt8]] {
    (0..<count).map { i in (0..<payloadSize).map { UInt8(truncatingIfNeeded: i &+ $0) } }
}

/// The leader proposes `batchSize` entries at once, then the cluster is pumped until quiescent (so every
/// batch is replicated, committed and applied on all three members before the next one).
func benchBatch(batchSize: Int, seconds: Double, compactEvery: Int) throws -> Result {
    var cluster = try Cluster(size: 3, compactEvery: compactEvery)
    cluster.electLeader()
    let batch = makePayloads(batchSize)
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start.advanced(by: .nanoseconds(Int64(seconds * 1e9)))
    var now = start
    repeat {
        do {
            try cluster.nodes[cluster.leader].propose(batch: batch)
        } catch {
            fail("proposal refused: \(error)")
        }
        cluster.pump()
        cluster.maybeCompact()
        now = clock.now
    } while now < deadline
    let elapsed = (now - start).seconds
    cluster.checkConsistent()
    return Result(mode: "batch", batch: batchSize, entries: cluster.leaderCommitted, seconds: elapsed)
}

/// The leader proposes `batchSize` entries at once every round without waiting for them to commit: several
/// batches are in flight, as in a busy shell that proposes while replication proceeds.
func benchPipelined(batchSize: Int, seconds: Double, compactEvery: Int) throws -> Result {
    var cluster = try Cluster(size: 3, compactEvery: compactEvery)
    cluster.electLeader()
    let batch = makePayloads(batchSize)
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start.advanced(by: .nanoseconds(Int64(seconds * 1e9)))
    var now = start
    repeat {
        do {
            try cluster.nodes[cluster.leader].propose(batch: batch)
        } catch RaftError.uncommittedLimitExceeded {
            // Back-pressure: let replication catch up.
        } catch {
            fail("proposal refused: \(error)")
        }
        _ = cluster.round()
        cluster.maybeCompact()
        now = clock.now
    } while now < deadline
    let elapsed = (now - start).seconds
    // Entries still in flight at the deadline are not counted (they commit after it).
    let counted = cluster.leaderCommitted
    cluster.pump()
    cluster.checkConsistent()
    return Result(mode: "pipelined", batch: batchSize, entries: counted, seconds: elapsed)
}

/// One proposal at a time: propose one entry, pump until it is committed (and applied everywhere), repeat.
func benchSingle(seconds: Double, compactEvery: Int) throws -> Result {
    var cluster = try Cluster(size: 3, compactEvery: compactEvery)
    cluster.electLeader()
    let payload = makePayloads(1)[0]
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start.advanced(by: .nanoseconds(Int64(seconds * 1e9)))
    var now = start
    repeat {
        for _ in 0..<64 {
            let before = cluster.leaderCommitted
            do {
                try cluster.nodes[cluster.leader].propose(payload)
            } catch {
                fail("proposal refused: \(error)")
            }
            cluster.pump()
            if cluster.leaderCommitted != before + 1 { fail("entry not committed after pumping") }
        }
        cluster.maybeCompact()
        now = clock.now
    } while now < deadline
    let elapsed = (now - start).seconds
    cluster.checkConsistent()
    return Result(mode: "single", batch: 1, entries: cluster.leaderCommitted, seconds: elapsed)
}

// MARK: - Output

func pad(_ text: String, _ width: Int, right: Bool = true) -> String { TableFormat.pad(text, width, right: right) }
func grouped(_ value: Int) -> String { TableFormat.grouped(value) }
func fixed(_ value: Double, _ decimals: Int) -> String { TableFormat.fixed(value, decimals) }

func printTable(_ results: [Result]) {
    let header =
        pad("mode", 10, right: false) + pad("batch", 7) + pad("entries", 14) + pad("seconds", 9) + pad("entries/s", 14)
    print(header)
    print(String(repeating: "-", count: header.count))
    for r in results {
        print(
            pad(r.mode, 10, right: false) + pad(grouped(r.batch), 7) + pad(grouped(r.entries), 14)
                + pad(fixed(r.seconds, 3), 9) + pad(grouped(Int(r.perSecond.rounded())), 14))
    }
}

func printJSON(_ results: [Result], options: Options) {
    let items = results.map { r in
        "{\"mode\":\"\(r.mode)\",\"batch\":\(r.batch),\"entries\":\(r.entries),"
            + "\"seconds\":\(fixed(r.seconds, 6)),\"entries_per_sec\":\(Int(r.perSecond.rounded()))}"
    }
    print(
        "{\"bench\":\"raft-core\",\"members\":3,\"payload_bytes\":\(payloadSize),"
            + "\"seconds_per_mode\":\(options.seconds),\"compact_every\":\(options.compactEvery),"
            + "\"results\":[\(items.joined(separator: ","))]}"
    )
}

// MARK: - Main

func main() {
    let options = parseOptions()
    var results: [Result] = []
    do {
        let wants = { (mode: String) in options.mode == nil || options.mode == mode }
        if wants("batch") {
            for size in options.batch.map({ [$0] }) ?? [64, 1_024, 4_096] {
                results.append(
                    try benchBatch(batchSize: size, seconds: options.seconds, compactEvery: options.compactEvery))
            }
        }
        if wants("pipelined") {
            results.append(
                try benchPipelined(
                    batchSize: options.batch ?? 1_024, seconds: options.seconds, compactEvery: options.compactEvery))
        }
        if wants("single") {
            results.append(try benchSingle(seconds: options.seconds, compactEvery: options.compactEvery))
        }
    } catch {
        fail("cannot start members: \(error)")
    }
    print(
        "raft-bench: 3 members, in-memory log, no network, \(payloadSize)-byte entries, "
            + "\(options.seconds) s per mode, compaction every \(grouped(options.compactEvery)) entries")
    printTable(results)
    if let best = results.filter({ $0.mode != "single" }).map(\.perSecond).max() {
        let target = 1_000_000.0
        print(
            "best batched rate \(grouped(Int(best.rounded()))) entries/s: "
                + (best >= target ? "meets" : "MISSES") + " the 1,000,000 entries/s target")
    }
    if options.json { printJSON(results, options: options) }
}

main()
