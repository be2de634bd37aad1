import RaftCore
import RaftStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The outcome of the recovery measurement.
struct RecoveryResult {
    var bytes: Int
    var segments: Int
    var records: Int
    var entries: Int
    var writeSeconds: Double
    var coldSeconds: Double
    var warmSeconds: Double
    /// Peak resident set size of the process after both opens, in bytes.
    var peakRSS: Int
}

/// Writes about `gib` GiB to a fresh WAL in `directory` (batches of 16 groups × 64 entries × 1,024 bytes,
/// `FsyncPolicy.off`, one `sync` at the end), closes it, drops its pages from the page cache and times
/// `WriteAheadLog.open` (the recovery scan); then times it once more with the segments cached.
func measureRecovery(directory: String, gib: Double) throws -> RecoveryResult {
    let groups = 16
    let perGroup = 64
    let entrySize = 1_024
    let payloads = randomPayloads(count: groups * perGroup, size: entrySize, seed: 99)
    var next = [UInt64](repeating: 1, count: groups)
    let target = Int(gib * Double(1 << 30))
    var written = 0
    var records = 0
    let clock = ContinuousClock()
    let writeStart = clock.now
    do {
        let (log, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(fsync: .off))
        while written < target {
            var batch: [WALRecord] = []
            batch.reserveCapacity(groups)
            for g in 0..<groups {
                let entries = (0..<perGroup).map { k in
                    Entry(term: Term(1), index: LogIndex(next[g] + UInt64(k)), data: payloads[g * perGroup + k])
                }
                next[g] += UInt64(perGroup)
                batch.append(.entries(GroupID(UInt64(g + 1)), entries))
                written += WALFrame.headerSize + 12 + perGroup * (21 + entrySize)
            }
            try log.append(batch)
            records += batch.count
        }
        try log.sync()
    }  // the log is closed here
    let writeSeconds = (clock.now - writeStart).seconds
    let segments = segmentFiles(directory)
    var bytes = 0
    for path in segments {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { fail("cannot open \(path)") }
        var info = stat()
        fstat(fd, &info)
        bytes += Int(info.st_size)
        #if canImport(Glibc)
            _ = fdatasync(fd)
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        #endif
        close(fd)
    }
    func timedOpen() throws -> (Double, WALRecovery) {
        let start = clock.now
        let (log, recovery) = try WriteAheadLog.open(directory: directory, options: WALOptions(fsync: .off))
        let seconds = (clock.now - start).seconds
        _ = log
        return (seconds, recovery)
    }
    // The first recovery is checked and released before the second open.
    let (cold, entries) = try {
        let (seconds, recovery) = try timedOpen()
        let entries = recovery.groups.values.reduce(0) { $0 + $1.entries.count }
        let expected = next.reduce(0) { $0 + Int($1 - 1) }
        guard recovery.recordCount == records, entries == expected, recovery.truncatedTail == nil else {
            fail(
                "recovery found \(recovery.recordCount) records and \(entries) entries, expected \(records) and "
                    + "\(expected) (tail: \(String(describing: recovery.truncatedTail)))")
        }
        return (seconds, entries)
    }()
    let (warm, _) = try timedOpen()
    var usage = rusage()
    #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
        getrusage(RUSAGE_SELF, &usage)
    #endif
    return RecoveryResult(
        bytes: bytes, segments: segments.count, records: records, entries: entries, writeSeconds: writeSeconds,
        coldSeconds: cold, warmSeconds: warm, peakRSS: Int(usage.ru_maxrss) * 1_024)  // kilobytes on Linux
}
