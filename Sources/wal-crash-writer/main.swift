// wal-crash-writer: test support for the crash tests. Opens (recovering) the WAL in `--dir`, then appends
// batches of `CrashWorkload` forever, with `FsyncPolicy.always`. After each `append` returns it prints one
// line per `entries` record of the batch, `durable <group> <lastIndex> <term>`, all with one `write(1, ...)`
// (no stdio buffer in between, so nothing is held back), and whatever the parent has read is durable. The first line is `recovered <records> <tail>`, where
// tail is `none`, `torn` or `corrupt`. The parent ends it with SIGKILL.
//
// Usage: wal-crash-writer --dir D --seed S [--segment-size BYTES]

import RaftCore
import RaftStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes `text` to standard output with as few `write` calls as possible, bypassing stdio's buffer.
func emit(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var done = 0
        while done < bytes.count {
            let n = write(1, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { exit(3) }  // the parent went away
            done += n
        }
    }
}

func crashWriterFail(_ message: String) -> Never {
    let text = "wal-crash-writer: \(message)\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}

func runCrashWriter() {
    var directory: String?
    var seed: UInt64?
    var segmentSize = 256 << 10
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        switch argument {
        case "--dir": directory = arguments.next()
        case "--seed": seed = arguments.next().flatMap { UInt64($0) }
        case "--segment-size":
            guard let size = arguments.next().flatMap({ Int($0) }), size > 0 else {
                crashWriterFail("--segment-size needs a positive number")
            }
            segmentSize = size
        default: crashWriterFail("unknown argument \(argument); usage: --dir D --seed S [--segment-size BYTES]")
        }
    }
    guard let directory, let seed else { crashWriterFail("usage: --dir D --seed S [--segment-size BYTES]") }
    do {
        let (log, recovery) = try WriteAheadLog.open(
            directory: directory, options: WALOptions(segmentSizeLimit: segmentSize, fsync: .always))
        let tail: String
        switch recovery.truncatedTail?.cause {
        case nil: tail = "none"
        case .torn?: tail = "torn"
        case .corrupt?: tail = "corrupt"
        }
        emit("recovered \(recovery.recordCount) \(tail)\n")
        var workload = CrashWorkload(seed: seed, recovered: recovery.groups)
        var counter: UInt64 = 0
        while true {
            let (records, durable, ends) = workload.batch(counter)
            try log.append(records)
            workload.commit(ends)
            emit(durable.map { CrashWorkload.line($0) + "\n" }.joined())
            counter += 1
        }
    } catch {
        crashWriterFail("\(error)")
    }
}

runCrashWriter()
