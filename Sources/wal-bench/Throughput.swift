import RaftCore
import RaftStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One timed run: how many batches of how many bytes went to disk, and the time and CPU it took.
struct Rate {
    var batches = 0
    var bytes = 0
    var seconds = 0.0
    var cpuSeconds = 0.0

    var batchesPerSecond: Double { Double(batches) / seconds }
    var megabytesPerSecond: Double { Double(bytes) / seconds / 1e6 }
    /// CPU time per batch in microseconds (user + system of the measuring thread).
    var cpuMicrosecondsPerBatch: Double { batches > 0 ? cpuSeconds / Double(batches) * 1e6 : 0 }
}

/// One cell of the table: a batch shape measured through the WAL and raw, before and after it.
struct Cell {
    var batch: Int
    var entrySize: Int
    /// Bytes one append writes: the framed record (9-byte frame, 12-byte record header, 21 bytes an entry).
    var bytesPerBatch: Int
    var wal: Rate
    var rawBefore: Rate
    var rawAfter: Rate

    var raw: Rate {
        Rate(
            batches: rawBefore.batches + rawAfter.batches, bytes: rawBefore.bytes + rawAfter.bytes,
            seconds: rawBefore.seconds + rawAfter.seconds, cpuSeconds: rawBefore.cpuSeconds + rawAfter.cpuSeconds)
    }
    var ratio: Double { wal.batchesPerSecond / raw.batchesPerSecond }
}

/// Entry payloads of `size` random bytes, `count` of them (different from one another).
func randomPayloads(count: Int, size: Int, seed: UInt64) -> [[UInt8]] {
    var random = SplitMix64(seed: seed)
    return (0..<count).map { _ in
        var bytes = [UInt8](repeating: 0, count: size)
        for k in bytes.indices { bytes[k] = UInt8(truncatingIfNeeded: random.next()) }
        return bytes
    }
}

/// Appends batches of `batch` entries of `entrySize` bytes (one group, one `entries` record an append) to a
/// fresh WAL in `directory` with `FsyncPolicy.always`, for `seconds`.
func measureWAL(directory: String, batch: Int, entrySize: Int, seconds: Double) throws -> Rate {
    let (log, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(fsync: .always))
    let group = GroupID(7)
    var entries = randomPayloads(count: batch, size: entrySize, seed: UInt64(batch * 31 + entrySize)).enumerated()
        .map { Entry(term: Term(1), index: LogIndex(UInt64($0.offset + 1)), data: $0.element) }
    let bytesPerBatch = WALFrame.encode(.entries(group, entries)).count
    var next: UInt64 = 1
    var rate = Rate()
    let clock = ContinuousClock()
    let cpuStart = threadCPUSeconds()
    let start = clock.now
    let deadline = start.advanced(by: .nanoseconds(Int64(seconds * 1e9)))
    var now = start
    repeat {
        for k in entries.indices { entries[k].index = LogIndex(next + UInt64(k)) }
        try log.append([.entries(group, entries)])
        next += UInt64(batch)
        rate.batches += 1
        now = clock.now
    } while now < deadline
    rate.seconds = (now - start).seconds
    rate.cpuSeconds = threadCPUSeconds() - cpuStart
    rate.bytes = rate.batches * bytesPerBatch
    return rate
}

/// The disk's own rate: `bytesPerBatch` random bytes appended to a plain `O_APPEND` file with one `write` and
/// one `fdatasync` a batch, for `seconds`. The file is removed afterwards.
func measureRaw(path: String, bytesPerBatch: Int, seconds: Double) -> Rate {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { fail("cannot create \(path): \(String(cString: strerror(errno)))") }
    defer {
        close(fd)
        unlink(path)
    }
    let buffer = randomPayloads(count: 1, size: bytesPerBatch, seed: UInt64(bytesPerBatch))[0]
    var rate = Rate()
    let clock = ContinuousClock()
    let cpuStart = threadCPUSeconds()
    let start = clock.now
    let deadline = start.advanced(by: .nanoseconds(Int64(seconds * 1e9)))
    var now = start
    repeat {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
            done += n
        }
        guard fdatasync(fd) == 0 else { fail("cannot sync \(path): \(String(cString: strerror(errno)))") }
        rate.batches += 1
        now = clock.now
    } while now < deadline
    rate.seconds = (now - start).seconds
    rate.cpuSeconds = threadCPUSeconds() - cpuStart
    rate.bytes = rate.batches * bytesPerBatch
    return rate
}

/// Measures one cell: raw, then the WAL, then raw again (so that a drift of the shared disk shows up in the
/// raw spread instead of silently skewing the ratio).
func measureCell(scratch: String, batch: Int, entrySize: Int, seconds: Double) throws -> Cell {
    let sample = randomPayloads(count: batch, size: entrySize, seed: 1).enumerated()
        .map { Entry(term: Term(1), index: LogIndex(UInt64($0.offset + 1)), data: $0.element) }
    let bytesPerBatch = WALFrame.encode(.entries(GroupID(7), sample)).count
    let rawPath = scratch + "/raw-\(batch)x\(entrySize).dat"
    let before = measureRaw(path: rawPath, bytesPerBatch: bytesPerBatch, seconds: seconds)
    let walDirectory = scratch + "/wal-\(batch)x\(entrySize)"
    let wal = try measureWAL(directory: walDirectory, batch: batch, entrySize: entrySize, seconds: seconds)
    removeTree(walDirectory)
    let after = measureRaw(path: rawPath, bytesPerBatch: bytesPerBatch, seconds: seconds)
    return Cell(
        batch: batch, entrySize: entrySize, bytesPerBatch: bytesPerBatch, wal: wal, rawBefore: before, rawAfter: after)
}
