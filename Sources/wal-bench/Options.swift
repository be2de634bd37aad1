#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Command-line options of `wal-bench`.
struct Options {
    /// How long each measurement (one WAL run or one raw run of a cell) lasts.
    var seconds: Double = 1
    /// Where the data directory is made; `nil` for the current working directory (the project's disk).
    var directory: String?
    /// Size of the log written for the recovery measurement, in GiB.
    var recoveryGiB: Double = 1
    var skipRecovery = false
    /// Only these batch sizes and entry sizes (for profiling one cell).
    var batches = [1, 16, 128, 1_024]
    var entrySizes = [128, 1_024]

    static let usage = """
        usage: wal-bench [--seconds N] [--dir D] [--recovery-gib X] [--skip-recovery] [--batch N] [--entry-size B]
          --seconds N       measure each WAL run and each raw run for N seconds (default 1)
          --dir D           make the scratch directory inside D (default: the current directory, so that the
                            numbers are those of the project's disk; a temporary directory is always removed)
          --recovery-gib X  size of the log written for the recovery measurement (default 1)
          --skip-recovery   skip the recovery measurement
          --batch N         only this batch size (entries per append); default 1, 16, 128, 1024
          --entry-size B    only this entry size in bytes; default 128, 1024
        """

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        func value(_ name: String) -> String {
            guard let value = iterator.next() else { fail("\(name) needs a value (try --help)") }
            return value
        }
        func positive(_ name: String) -> Double {
            guard let number = Double(value(name)), number > 0 else { fail("\(name) needs a positive number") }
            return number
        }
        while let argument = iterator.next() {
            switch argument {
            case "--seconds": options.seconds = positive(argument)
            case "--dir": options.directory = value(argument)
            case "--recovery-gib": options.recoveryGiB = positive(argument)
            case "--skip-recovery": options.skipRecovery = true
            case "--batch": options.batches = [Int(positive(argument))]
            case "--entry-size": options.entrySizes = [Int(positive(argument))]
            case "-h", "--help":
                print(usage)
                exit(0)
            default: fail("unknown argument \(argument) (try --help)")
            }
        }
        return options
    }
}

/// Prints `message` on standard error and exits with status 2.
func fail(_ message: String) -> Never {
    let text = "wal-bench: \(message)\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}
