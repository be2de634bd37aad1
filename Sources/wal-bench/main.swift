// wal-bench: a release-mode benchmark of the write-ahead log beside the raw rate of the same disk.
//
// For each batch shape (entries per append × entry size) it measures, in this order and for `--seconds`
// each: the raw disk (a plain O_APPEND file, one `write` + one `fdatasync` of the same number of bytes the
// WAL writes for the batch), `WriteAheadLog.append` with `FsyncPolicy.always`, and the raw disk again. The
// ratio WAL/raw uses the mean of the two raw runs; the contract wants at least 80%. Then it writes a large
// log with `FsyncPolicy.off`, drops it from the page cache and times `WriteAheadLog.open` (the recovery scan).
//
// Usage: wal-bench [--seconds N] [--dir D] [--recovery-gib X] [--skip-recovery] (see --help)

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func printTable(_ cells: [Cell]) {
    let header =
        pad("batch", 6) + pad("entry B", 8) + pad("bytes/batch", 12) + pad("WAL batch/s", 12)
        + pad("WAL entries/s", 14) + pad("WAL MB/s", 10) + pad("raw batch/s", 12) + pad("raw MB/s", 10)
        + pad("raw spread", 11) + pad("WAL/raw", 9) + pad("CPU us/b WAL", 13) + pad("raw", 7)
    print(header)
    print(String(repeating: "-", count: header.count))
    for cell in cells {
        let raw = cell.raw
        let spread =
            abs(cell.rawBefore.batchesPerSecond - cell.rawAfter.batchesPerSecond) / raw.batchesPerSecond * 100
        let verdict = cell.ratio >= 0.8 ? "" : " <80%"
        print(
            pad(grouped(cell.batch), 6) + pad(grouped(cell.entrySize), 8) + pad(grouped(cell.bytesPerBatch), 12)
                + pad(grouped(Int(cell.wal.batchesPerSecond.rounded())), 12)
                + pad(grouped(Int((cell.wal.batchesPerSecond * Double(cell.batch)).rounded())), 14)
                + pad(fixed(cell.wal.megabytesPerSecond, 1), 10)
                + pad(grouped(Int(raw.batchesPerSecond.rounded())), 12) + pad(fixed(raw.megabytesPerSecond, 1), 10)
                + pad("±" + fixed(spread / 2, 0) + "%", 11) + pad(fixed(cell.ratio * 100, 0) + "%", 9)
                + pad(fixed(cell.wal.cpuMicrosecondsPerBatch, 0), 13) + pad(fixed(raw.cpuMicrosecondsPerBatch, 0), 7)
                + verdict)
    }
}

func printRecovery(_ result: RecoveryResult) {
    let gib = Double(result.bytes) / Double(1 << 30)
    print(
        "recovery: \(fixed(gib, 2)) GiB in \(result.segments) segments, \(grouped(result.records)) records, "
            + "\(grouped(result.entries)) entries of 1,024 bytes in 16 groups (written in \(fixed(result.writeSeconds, 1)) s "
            + "with fsync off + one sync)")
    print(
        "  open after POSIX_FADV_DONTNEED: \(fixed(result.coldSeconds, 2)) s "
            + "(\(fixed(Double(result.bytes) / result.coldSeconds / 1e6, 0)) MB/s)")
    print(
        "  open again, segments cached:    \(fixed(result.warmSeconds, 2)) s "
            + "(\(fixed(Double(result.bytes) / result.warmSeconds / 1e6, 0)) MB/s)")
    print("  peak RSS: \(fixed(Double(result.peakRSS) / Double(1 << 20), 0)) MiB")
}

func main() {
    let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
    let parent = options.directory ?? FileManager.default.currentDirectoryPath
    let scratch = makeScratchDirectory(in: parent)
    // Remove the scratch directory on Ctrl-C too.
    signal(SIGINT) { _ in _exit(130) }
    defer { removeTree(scratch) }
    print(
        "wal-bench: \(scratch), \(options.seconds) s per run (raw, WAL, raw), fsync always; "
            + "MB = 10^6 bytes written (framed records)")
    var cells: [Cell] = []
    do {
        for entrySize in options.entrySizes {
            for batch in options.batches {
                cells.append(
                    try measureCell(scratch: scratch, batch: batch, entrySize: entrySize, seconds: options.seconds))
            }
        }
    } catch {
        removeTree(scratch)
        fail("WAL failed: \(error)")
    }
    printTable(cells)
    let below = cells.filter { $0.ratio < 0.8 }
    print(
        below.isEmpty
            ? "every cell meets WAL >= 80% of raw"
            : "\(below.count) of \(cells.count) cells below 80% of raw: "
                + below.map { "\($0.batch)x\($0.entrySize)" }.joined(separator: ", "))
    let framing = measureFraming(batches: options.batches, entrySizes: options.entrySizes)
    print(
        "framing on the CPU alone: CRC32C \(fixed(framing.crcMegabytesPerSecond, 0)) MB/s; WALFrame.append of one "
            + "batch (encode + checksum, reused buffer): "
            + framing.encodeMicroseconds.map { "\($0.batch)x\($0.entrySize) \(fixed($0.micros, 1)) us" }
            .joined(separator: ", "))
    if !options.skipRecovery {
        do {
            let result = try measureRecovery(directory: scratch + "/recovery", gib: options.recoveryGiB)
            printRecovery(result)
        } catch {
            removeTree(scratch)
            fail("recovery measurement failed: \(error)")
        }
    }
}

main()
