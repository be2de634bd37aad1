import Foundation
import Logging

/// Runs node-level simulations: each seed builds a fresh cluster of whole nodes (`NodeWorld`) in a directory
/// of its own, plays one `NodeScenario` and removes the directory.
public enum NodeSimulation {
    /// Runs `seed` with `options`, its nodes' data under `root`; logs at `logLevel` to standard error.
    public static func run(
        seed: UInt64, options: NodeSimulationOptions = NodeSimulationOptions(), root: String,
        logLevel: Logger.Level? = nil
    ) -> NodeSimulationResult {
        let directory = root + "/seed-\(seed)"
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "flotilla.sim") { label -> any LogHandler in
            logLevel == nil ? SwiftLogNoOpLogHandler() : StreamLogHandler.standardError(label: label)
        }
        if let logLevel { logger.logLevel = logLevel }
        var options = options
        if options.replicas == 0 { options.replicas = [3, 3, 2, 1][Int(seed % 4)] }
        let world = NodeWorld(seed: seed, nodeCount: options.nodes, root: directory, logger: logger)
        return NodeScenario(world: world, options: options, seed: seed).run()
    }
}
