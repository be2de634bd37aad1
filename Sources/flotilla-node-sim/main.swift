import Foundation
import NodeSimulation

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

// flotilla-node-sim: runs whole-node deterministic simulations (docs/testing.md).
//   flotilla-node-sim [--seeds N] [--from S] [--fault-seconds T]   run seeds S ..< S+N (default 1 ..< 101, 20 s)
//   flotilla-node-sim --seed S [--verbose] [--twice]               replay one seed (logs with --verbose; --twice
//                                                                   runs it again and compares the traces)
// Swift randomizes hashing per process; the same seed replays exactly only with deterministic hashing, so the
// program restarts itself with SWIFT_DETERMINISTIC_HASHING=1 when it is not set.

if getenv("SWIFT_DETERMINISTIC_HASHING") == nil {
    setenv("SWIFT_DETERMINISTIC_HASHING", "1", 1)
    let argv = CommandLine.unsafeArgv
    execv("/proc/self/exe", argv)
    perror("flotilla-node-sim: cannot restart with deterministic hashing")
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
func value(_ name: String) -> UInt64? {
    guard let at = arguments.firstIndex(of: name), at + 1 < arguments.count else { return nil }
    return UInt64(arguments[at + 1])
}
var options = NodeSimulationOptions()
if let seconds = value("--fault-seconds") { options.faultSeconds = Int(seconds) }
if let percent = value("--delete-percent") { options.deletePercent = Int(percent) }

func summary(_ result: NodeSimulationResult) -> String {
    "\(result.writes) writes (\(result.acknowledgedWrites) acknowledged), \(result.deletes) deletes "
        + "(\(result.acknowledgedDeletes) acknowledged), \(result.reads) reads (\(result.failedReads) "
        + "failed), \(result.replicaChangesDone)/\(result.replicaChanges) replica changes, \(result.crashes) crashes, "
        + "(\(result.powerLosses) power losses), \(result.diskFaults) disk faults, \(result.partitions) partitions, \(result.events) events, \(result.virtualMilliseconds) ms virtual, "
        + "trace \(String(result.trace, radix: 16))"
}

if let seed = value("--seed") {
    let result = NodeSimulation.run(
        seed: seed, options: options,
        logLevel: arguments.contains("--trace") ? .trace : arguments.contains("--verbose") ? .debug : nil)
    for violation in result.violations { print("seed \(seed): \(violation)") }
    print("seed \(seed) \(result.violations.isEmpty ? "passed" : "FAILED"): \(summary(result))")
    var status: Int32 = result.violations.isEmpty ? 0 : 1
    if arguments.contains("--twice") {
        let again = NodeSimulation.run(seed: seed, options: options)
        if again.trace != result.trace {
            print("seed \(seed) did not replay: trace \(String(again.trace, radix: 16)) the second time")
            status = 1
        } else {
            print("seed \(seed) replayed exactly")
        }
    }
    exit(status)
} else {
    let first = value("--from") ?? 1
    let count = value("--seeds") ?? 100
    var passed = 0
    var failed = 0
    var acknowledged = 0
    for seed in first..<(first + count) {
        let result = NodeSimulation.run(seed: seed, options: options)
        acknowledged += result.acknowledgedWrites
        if result.violations.isEmpty {
            passed += 1
        } else {
            failed += 1
            for violation in result.violations { print("seed \(seed): \(violation)") }
            print("seed \(seed) FAILED (replay: flotilla-node-sim --seed \(seed)): \(summary(result))")
        }
        if (seed - first + 1) % 10 == 0 || seed == first + count - 1 {
            print("seeds \(first)...\(seed): \(passed) passed, \(failed) failed, \(acknowledged) writes acknowledged")
            fflush(nil)
        }
    }
    print("\(passed) passed, \(failed) failed")
    exit(failed > 0 ? 1 : 0)
}
