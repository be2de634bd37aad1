import Logging

/// Runs node-level simulations: each seed builds a fresh cluster of whole nodes (`NodeWorld`), each node's data
/// on a simulated disk in memory, and plays one `NodeScenario`. Nothing touches the real file system.
public enum NodeSimulation {
    /// Runs `seed` with `options`; logs at `logLevel` to standard error.
    public static func run(
        seed: UInt64, options: NodeSimulationOptions = NodeSimulationOptions(), logLevel: Logger.Level? = nil
    ) -> NodeSimulationResult {
        var logger = Logger(label: "flotilla.sim") { label -> any LogHandler in
            logLevel == nil ? SwiftLogNoOpLogHandler() : StreamLogHandler.standardError(label: label)
        }
        if let logLevel { logger.logLevel = logLevel }
        var options = options
        if options.replicas == 0 { options.replicas = [3, 3, 2, 1][Int(seed % 4)] }
        let world = NodeWorld(seed: seed, nodeCount: options.nodes, root: "/flotilla-sim", logger: logger)
        return NodeScenario(world: world, options: options, seed: seed).run()
    }
}
