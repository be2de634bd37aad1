// engine-bench: a release-mode measurement of the vnode storage engine on its own (no Raft, no network): the
// ingest rate, flushes and compactions, bytes per point on disk, write amplification, resident memory as the data
// grows, and the rates of a full scan and of aggregates. One generator: `--series` series (tags host and region)
// each with `--fields` float fields random-walking by tenths, one point per series every 10 s, written in
// requests of 1,000 points; `--noisy` keeps the walk's binary rounding noise (values that are not short
// decimals).

import ArgumentParser
import BenchSupport
import Foundation
import LineProtocol
import RaftStorage
import TSDB

@main
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-bench", abstract: "Measures the vnode storage engine on its own.")

    @Option(help: "Series written.") var series = 10_000
    @Option(help: "Points written in all.") var points = 5_000_000
    @Option(help: "Float fields per point.") var fields = 3
    @Option(help: "Field values the memtable holds before a flush.") var memtableValues = 4_000_000
    @Flag(help: "Values with binary rounding noise instead of short decimals.") var noisy = false
    @Option(help: "Directory for the data (a fresh subdirectory is made and removed).") var dir: String?
    @Option(
        help: ArgumentHelp(
            "Instead of the benchmark: grow the vnode in this directory (of a stopped node) with old data.",
            discussion: "Writes --points points of --series series (measurement `history`) into new column files "
                + "that become the vnode's oldest layers, --points-per-file at a time; the covered index stays.")
    ) var grow: String?
    @Option(help: "With --grow: points per file written.") var pointsPerFile = 20_000_000

    func run() throws {
        if let grow { return try growVnode(at: grow) }
        let root = (dir ?? FileManager.default.currentDirectoryPath) + "/engine-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = VnodeEngine.Options()
        options.memtableValues = memtableValues
        let engine = try VnodeEngine.open(directory: root, fileSystem: POSIXFileSystem(), options: options)
        var generator = Walk(series: series, fields: fields, noisy: noisy)
        let requests = max(1, points / 1_000)
        var flushSeconds = 0.0
        var compactionSeconds = 0.0
        var applySeconds = 0.0
        print(
            TableFormat.pad("points", 12) + TableFormat.pad("files", 7) + TableFormat.pad("disk MB", 9)
                + TableFormat.pad("B/point", 9) + TableFormat.pad("RSS MB", 8))
        func flushAndCompact() throws {
            let flushStart = ContinuousClock.now
            try engine.flushNow()
            let compactionStart = ContinuousClock.now
            flushSeconds += (compactionStart - flushStart).seconds
            try engine.compactNow()
            compactionSeconds += (ContinuousClock.now - compactionStart).seconds
        }
        let started = ContinuousClock.now
        for request in 1...requests {
            let batch = generator.next(1_000)
            let applyStart = ContinuousClock.now
            engine.apply(batch, at: UInt64(request))
            applySeconds += (ContinuousClock.now - applyStart).seconds
            if engine.wantsFlush { try flushAndCompact() }
            if request % max(1, requests / 5) == 0 || request == requests {
                let written = request * 1_000
                print(
                    TableFormat.pad(TableFormat.grouped(written), 12) + TableFormat.pad("\(engine.fileCount)", 7)
                        + TableFormat.pad(TableFormat.fixed(Double(engine.fileBytes) / 1e6, 1), 9)
                        + TableFormat.pad(TableFormat.fixed(Double(engine.fileBytes) / Double(written), 2), 9)
                        + TableFormat.pad(TableFormat.fixed(Double(residentBytes()) / 1e6, 0), 8))
            }
        }
        // Everything merged into as few files as the tiers allow, as a long-lived vnode would be.
        try flushAndCompact()
        let total = (ContinuousClock.now - started).seconds
        let written = requests * 1_000
        let amplification = Double(engine.bytesFlushed + engine.bytesCompacted) / Double(max(1, engine.fileBytes))
        print("")
        print(
            "ingest: \(TableFormat.grouped(Int(Double(written) / total))) points/s overall (apply \(TableFormat.fixed(applySeconds, 1)) s, flushes \(TableFormat.fixed(flushSeconds, 1)) s, compactions \(TableFormat.fixed(compactionSeconds, 1)) s)"
        )
        print(
            "disk: \(TableFormat.fixed(Double(engine.fileBytes) / Double(written), 2)) bytes/point in \(engine.fileCount) files; write amplification \(TableFormat.fixed(amplification, 2)) (flushed \(TableFormat.grouped(engine.bytesFlushed)) B, compacted \(TableFormat.grouped(engine.bytesCompacted)) B)"
        )
        if compactionSeconds > 0 {
            print(
                "compaction: \(TableFormat.fixed(Double(engine.bytesCompacted) / 1e6 / compactionSeconds, 1)) MB/s written"
            )
        }
        var rows = 0
        let scanStart = ContinuousClock.now
        try engine.scanInBatches("cpu") { batch in
            rows += batch.count
            return true
        }
        let scanSeconds = (ContinuousClock.now - scanStart).seconds
        print(
            "full scan: \(TableFormat.grouped(rows)) rows in \(TableFormat.fixed(scanSeconds, 2)) s (\(TableFormat.grouped(Int(Double(rows) / scanSeconds))) rows/s)"
        )
        let aggregateStart = ContinuousClock.now
        let (perSeries, fromStats) = try engine.aggregate("cpu", field: "f0", window: 3_600_000_000_000)
        let aggregateSeconds = (ContinuousClock.now - aggregateStart).seconds
        print(
            "mean of f0 per series per hour: \(perSeries.count) series in \(TableFormat.fixed(aggregateSeconds, 2)) s, \(TableFormat.grouped(fromStats)) blocks from their stats"
        )
    }
}

extension EngineBench {
    /// Grows the vnode at `directory` by `points` points of old data, `pointsPerFile` to a file.
    func growVnode(at directory: String) throws {
        let engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem())
        var generator = Walk(series: series, fields: fields, noisy: noisy, measurement: "history")
        let started = ContinuousClock.now
        var written = 0
        while written < points {
            let count = min(pointsPerFile, points - written)
            var left = count
            try engine.importAsOldest {
                guard left > 0 else { return nil }
                defer { left -= min(left, 100_000) }
                return generator.next(min(left, 100_000))
            }
            written += count
            print(
                "\(TableFormat.grouped(written)) points: \(engine.fileCount) files, "
                    + "\(TableFormat.fixed(Double(engine.fileBytes) / 1e9, 2)) GB, "
                    + "\(TableFormat.fixed((ContinuousClock.now - started).seconds, 0)) s")
        }
    }
}

/// The generator: per series a random walk by tenths, one point per series every 10 s.
struct Walk {
    let series: Int
    let fields: Int
    let noisy: Bool
    let measurement: String
    private var values: [[Double]]
    /// Each series' tags and the field names, made once (formatting them per point cost more than the engine).
    private let tags: [[Tag]]
    private let fieldNames: [String]
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var next = 0

    init(series: Int, fields: Int, noisy: Bool, measurement: String = "cpu") {
        self.series = series
        self.fields = fields
        self.noisy = noisy
        self.measurement = measurement
        values = Array(repeating: Array(repeating: 50, count: fields), count: series)
        tags = (0..<series).map { [Tag("host", "host-\($0)"), Tag("region", "r\($0 % 8)")] }
        fieldNames = (0..<fields).map { "f\($0)" }
    }

    private mutating func random() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(_ count: Int) -> [Point] {
        var points: [Point] = []
        points.reserveCapacity(count)
        for _ in 0..<count {
            let s = next % series
            let tick = Int64(next / series)
            next += 1
            var pointFields: [Field] = []
            pointFields.reserveCapacity(fields)
            for f in 0..<fields {
                var value = values[s][f] + Double(Int(random() % 21) - 10) / 10
                value = min(100, max(0, value))
                if !noisy { value = (value * 10).rounded() / 10 }
                values[s][f] = value
                pointFields.append(Field(fieldNames[f], .float(value)))
            }
            points.append(
                Point(
                    measurement: measurement, tags: tags[s],
                    fields: pointFields, timestamp: 1_767_225_600_000_000_000 + tick * 10_000_000_000))
        }
        return points
    }
}

/// The process's resident memory (VmRSS), in bytes; 0 where /proc is not there.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1_024
    }
    return 0
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
