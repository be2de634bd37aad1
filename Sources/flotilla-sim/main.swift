import RaftSimulation

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

// flotilla-sim: runs deterministic Raft simulations.
//   flotilla-sim [--seeds N] [--from S] [--steps K]   run seeds S ..< S+N (default 1 ..< 1001, 2000 steps)
//   flotilla-sim --seed S [--verbose]                  replay one seed, printing every event with --verbose

let arguments = Array(CommandLine.arguments.dropFirst())
func value(_ name: String, in arguments: [String] = arguments) -> UInt64? {
    guard let at = arguments.firstIndex(of: name), at + 1 < arguments.count else { return nil }
    return UInt64(arguments[at + 1])
}
let steps = Int(value("--steps") ?? 2_000)
if let seed = value("--seed") {
    var options = SimulationOptions(seed: seed, steps: steps)
    options.verbose = arguments.contains("--verbose")
    var simulation = Simulation(options: options)
    do {
        let report = try simulation.run()
        print("seed \(seed) passed: \(report)")
    } catch {
        print(error)
        exit(1)
    }
} else {
    let first = value("--from") ?? 1
    let count = value("--seeds") ?? 1_000
    var failed = 0
    var passed = 0
    var entries = 0
    let chunk: UInt64 = 100
    var start = first
    while start < first + count {
        let end = min(start + chunk, first + count)
        let (reports, failures) = SimulationRunner.run(seeds: start..<end, steps: steps)
        passed += reports.count
        entries += reports.reduce(0) { $0 + $1.committedEntries }
        for failure in failures {
            failed += 1
            print(failure)
        }
        print("seeds \(first)..<\(end): \(passed) passed, \(failed) failed, \(entries) entries committed")
        fflush(nil)
        start = end
    }
    print("\(passed) passed, \(failed) failed")
    if failed > 0 { exit(1) }
}
