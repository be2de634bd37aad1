import Foundation
import RaftCore
import Testing

@testable import RaftStorage
@testable import wal_crash_writer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Crash tests with real processes: `wal-crash-writer` appends under load and reports what is durable, the
/// test kills it with SIGKILL at a random moment (driven only by its output), reopens the log and checks that
/// everything reported durable survived, unchanged, and that nothing was invented. Rounds share one directory,
/// so each child first recovers what the previous one (and the test's reopen) left.
@Suite struct CrashTests {
    @Test(arguments: [UInt64(0x5EED_C4A5)]) func sigkillLosesNothingReportedDurable(seed: UInt64) throws {
        let writer = try #require(Self.crashWriterPath(), "wal-crash-writer not found next to the test binary")
        try withTemporaryDirectory { dir in
            var random = SplitMix64(seed: seed)
            var reported: [GroupID: [LogIndex: Term]] = [:]
            var previous: [GroupID: [Entry]] = [:]
            var previousRecords = 0
            var tornTails = 0
            var lines = 0
            for round in 0..<20 {
                let childSeed = random.next()
                let target = 1 + Int(random.next() % 200)
                let context = "seed \(seed) round \(round) (child --seed \(childSeed), kill after \(target) lines)"
                let output = try Self.runAndKill(writer, dir: dir, seed: childSeed, afterLines: target, context)
                #expect(output.recovered == "recovered \(previousRecords) none", "\(context): child's own recovery")
                lines += output.durable.count
                for durable in output.durable {
                    reported[durable.group, default: [:]][durable.lastIndex] = durable.term
                }

                let (log, recovery) = try WriteAheadLog.open(directory: dir)
                _ = log  // closed at the end of the round, before the next child opens the directory
                if let tail = recovery.truncatedTail {
                    guard case .torn = tail.cause else {
                        Issue.record("\(context): recovery cut a corrupt tail, not a torn one: \(tail)")
                        return
                    }
                    tornTails += 1
                }
                let problems = Self.problems(recovery.groups, reported: reported, previous: previous)
                guard problems.isEmpty else {
                    Issue.record(
                        "\(context): \(problems.count) problems: \(problems.prefix(5).joined(separator: "; "))")
                    return
                }
                previous = recovery.groups.mapValues(\.entries)
                previousRecords = recovery.recordCount
            }
            let entries = previous.values.reduce(0) { $0 + $1.count }
            let segments = try segmentNames(dir)
            let bytes = try segments.reduce(0) { $0 + (try readFile(dir + "/" + $1)).count }
            print(
                "CrashTests: 20 rounds, \(lines) durable lines read, \(entries) entries in \(previous.count) groups, "
                    + "\(segments.count) segments, \(bytes) bytes, \(tornTails) torn tails cut")
        }
    }

    /// Every recovered entry is one the workload would write, each group's log is contiguous from 1 with
    /// non-decreasing terms, the log only grew since the previous round, and every reported durable end is
    /// there with its term. Returns what is wrong (empty if nothing).
    static func problems(
        _ groups: [GroupID: PersistentState], reported: [GroupID: [LogIndex: Term]], previous: [GroupID: [Entry]]
    ) -> [String] {
        var problems: [String] = []
        for (group, state) in groups.sorted(by: { $0.key < $1.key }) {
            if !CrashWorkload.groups.contains(group) { problems.append("unknown group \(group)") }
            if state.snapshot.index != .zero { problems.append("group \(group) has a snapshot") }
            var term = Term.zero
            for (k, entry) in state.entries.enumerated() {
                guard entry.index == LogIndex(UInt64(k + 1)), entry.term >= term,
                    entry.data == CrashWorkload.data(group: group, index: entry.index, term: entry.term)
                else {
                    problems.append(
                        "group \(group) entry #\(k + 1) is index \(entry.index) term \(entry.term) with "
                            + "\(entry.data?.count ?? -1) bytes: not what the writer wrote (previous term \(term))")
                    break
                }
                term = entry.term
            }
            if state.hardState.term < term {
                problems.append(
                    "group \(group) hard state term \(state.hardState.term) older than its entries' \(term)")
            }
            if state.hardState.commit.rawValue > UInt64(state.entries.count) {
                problems.append(
                    "group \(group) commit \(state.hardState.commit) beyond its \(state.entries.count) entries")
            }
        }
        for (group, entries) in previous.sorted(by: { $0.key < $1.key }) {
            let now = groups[group]?.entries ?? []
            if now.count < entries.count || Array(now.prefix(entries.count)) != entries {
                problems.append(
                    "group \(group) lost or changed entries recovered in an earlier round (\(entries.count) then "
                        + "\(now.count))")
            }
        }
        for (group, ends) in reported.sorted(by: { $0.key < $1.key }) {
            let entries = groups[group]?.entries ?? []
            for (index, term) in ends.sorted(by: { $0.key < $1.key }) {
                let k = Int(index.rawValue) - 1
                if k >= entries.count {
                    problems.append(
                        "group \(group) index \(index) term \(term) was reported durable; recovery has only "
                            + "\(entries.count) entries")
                    break
                } else if entries[k].term != term {
                    problems.append(
                        "group \(group) index \(index) term \(term) was reported durable; recovery has term "
                            + "\(entries[k].term)")
                }
            }
        }
        return problems
    }

    /// What a child printed before it was killed.
    struct ChildOutput {
        var recovered: String
        var durable: [CrashWorkload.Durable]
    }

    /// Starts the writer on `dir`, reads its output until `afterLines` durable lines have arrived, kills it with
    /// SIGKILL and waits for it.
    static func runAndKill(
        _ writer: URL, dir: String, seed: UInt64, afterLines: Int, _ context: String
    ) throws -> ChildOutput {
        let process = Process()
        process.executableURL = writer
        process.arguments = ["--dir", dir, "--seed", String(seed)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        try? pipe.fileHandleForWriting.close()  // so that reading sees end-of-file if the child dies early
        let fd = pipe.fileHandleForReading.fileDescriptor
        var output = ChildOutput(recovered: "", durable: [])
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var ended = false
        reading: while output.durable.count < afterLines {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                ended = true
                break
            }
            pending.append(contentsOf: chunk[..<n])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if line.hasPrefix("recovered ") {
                    output.recovered = line
                } else if let durable = CrashWorkload.parse(line[...]) {
                    output.durable.append(durable)
                    if output.durable.count >= afterLines { break reading }
                } else {
                    Issue.record("\(context): unexpected line from the writer: \(line)")
                }
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? pipe.fileHandleForReading.close()
        #expect(!ended, "\(context): the writer exited early (status \(process.terminationStatus))")
        #expect(
            process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL,
            "\(context): the writer ended with \(process.terminationReason) \(process.terminationStatus), not SIGKILL")
        return output
    }

    /// The `wal-crash-writer` executable built with the tests: next to the test binary or a few directories up
    /// (SwiftPM puts products and the test bundle in the same build directory), or in `.build/debug`.
    static func crashWriterPath() -> URL? {
        let manager = FileManager.default
        var starts = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
        ]
        if let override = ProcessInfo.processInfo.environment["WAL_CRASH_WRITER"] {
            starts.insert(URL(fileURLWithPath: override).deletingLastPathComponent(), at: 0)
        }
        starts.append(URL(fileURLWithPath: manager.currentDirectoryPath).appendingPathComponent(".build/debug"))
        for start in starts {
            var directory = start.standardizedFileURL
            for _ in 0..<5 {
                let candidate = directory.appendingPathComponent("wal-crash-writer")
                if manager.isExecutableFile(atPath: candidate.path) { return candidate }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }
}
