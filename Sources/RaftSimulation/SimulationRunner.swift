/// Runs many seeds and gathers the failures; used by the test suite and by `flotilla-sim`.
public enum SimulationRunner {
    /// Runs seeds `first ..< first + count` with `steps` chaotic steps each.
    /// - Returns: the reports of the runs that passed and the failures (each names its seed).
    public static func run(
        seeds: Range<UInt64>, steps: Int
    ) -> (reports: [SimulationReport], failures: [SimulationFailure]) {
        var reports: [SimulationReport] = []
        var failures: [SimulationFailure] = []
        for seed in seeds {
            var simulation = Simulation(options: SimulationOptions(seed: seed, steps: steps))
            do {
                reports.append(try simulation.run())
            } catch {
                failures.append(error)
            }
        }
        return (reports, failures)
    }
}
