import Foundation
import Testing

@testable import RaftCore
@testable import RaftSimulation

/// Deterministic simulation of Raft groups under faults. The number of seeds and steps comes from the
/// environment (`FLOTILLA_SIM_SEEDS`, `FLOTILLA_SIM_STEPS`), so CI can run thousands while a developer runs
/// a few; a failure prints its seed and the command that replays it.
@Suite struct SimulationTests {
    static let seedCount = UInt64(ProcessInfo.processInfo.environment["FLOTILLA_SIM_SEEDS"] ?? "") ?? 2_000
    static let steps = Int(ProcessInfo.processInfo.environment["FLOTILLA_SIM_STEPS"] ?? "") ?? 2_000
    static let shards: [UInt64] = Array(0..<8)

    /// The seeds are split into shards that Swift Testing runs in parallel.
    @Test(arguments: shards)
    func seedsKeepEveryInvariant(shard: UInt64) {
        let perShard = (Self.seedCount + UInt64(Self.shards.count) - 1) / UInt64(Self.shards.count)
        let first = 1 + shard * perShard
        let end = min(first + perShard, Self.seedCount + 1)
        guard first < end else { return }
        let (reports, failures) = SimulationRunner.run(seeds: first..<end, steps: Self.steps)
        for failure in failures {
            Issue.record("\(failure)")
        }
        #expect(reports.count + failures.count == Int(end - first))
        // The runs must exercise what they claim to: commits, reads, elections.
        #expect(reports.allSatisfy { $0.committedEntries > 0 && $0.elections > 0 })
    }

    @Test func sameSeedReplaysExactly() throws {
        var first = Simulation(options: SimulationOptions(seed: 42, steps: 1_500))
        var second = Simulation(options: SimulationOptions(seed: 42, steps: 1_500))
        let a = try first.run()
        let b = try second.run()
        #expect(a.committedEntries == b.committedEntries)
        #expect(a.acknowledgedWrites == b.acknowledgedWrites)
        #expect(a.linearizableReads == b.linearizableReads)
        #expect(a.steps == b.steps)
        #expect(first.trace == second.trace)
    }

    @Test func runsExerciseFaultsAndFeatures() {
        let (reports, failures) = SimulationRunner.run(seeds: 1..<31, steps: 2_000)
        #expect(failures.isEmpty)
        #expect(reports.reduce(0) { $0 + $1.crashes } > 0)
        #expect(reports.reduce(0) { $0 + $1.membershipChanges } > 0)
        #expect(reports.reduce(0) { $0 + $1.transfers } > 0)
        #expect(reports.reduce(0) { $0 + $1.snapshotsInstalled } > 0)
        #expect(reports.reduce(0) { $0 + $1.linearizableReads } > 0)
        #expect(reports.reduce(0) { $0 + $1.acknowledgedWrites } > 0)
    }

    /// The checker itself must catch a broken Raft: a core that ignores votes already cast would elect
    /// two leaders in one term, and the simulator must say so with the seed.
    @Test func checkerDetectsTwoLeadersInOneTerm() {
        var simulation = Simulation(options: SimulationOptions(seed: 7, steps: 10))
        simulation.leadersByTerm[Term(3)] = NodeID(99)
        simulation.nodes[0].core!.term = Term(3)
        simulation.nodes[0].core!.role = .leader
        #expect(throws: SimulationFailure.self) { try simulation.checkInvariants() }
    }
}
