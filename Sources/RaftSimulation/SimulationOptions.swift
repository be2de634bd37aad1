import RaftCore

/// What one simulation run does. Everything is derived from `seed` unless set explicitly, so that a seed
/// number alone replays a run exactly.
public struct SimulationOptions: Sendable {
    public var seed: UInt64
    /// Founding voters (3, 5 or 7); two more nodes wait as spares that membership changes may add.
    public var voters: Int
    /// Events processed in the chaotic phase.
    public var steps: Int
    /// Membership changes (learners, promotions, removals, joint consensus) during the run.
    public var membershipChanges: Bool
    /// Leadership transfers during the run.
    public var transfers: Bool
    /// How reads are confirmed.
    public var readMode: ReadMode
    /// Prints every event.
    public var verbose: Bool = false
    /// Ticks allowed after healing for a leader to be elected and a new proposal to commit.
    public var livenessTicks: Int = 400

    /// The options a seed stands for: voters cycle through 3, 5, 7; every third seed uses lease reads.
    public init(seed: UInt64, steps: Int = 2_000) {
        self.seed = seed
        self.steps = steps
        voters = [3, 5, 7][Int(seed % 3)]
        membershipChanges = seed % 2 == 0
        transfers = seed % 5 != 4
        readMode = seed % 3 == 1 ? .lease(clockDriftTicks: 2) : .readIndex
    }
}

/// A violated invariant, with the seed that replays it.
public struct SimulationFailure: Error, CustomStringConvertible, Sendable {
    public var seed: UInt64
    public var step: Int
    public var time: UInt64
    public var reason: String
    /// The last events before the failure.
    public var recentEvents: [String]

    public var description: String {
        """
        simulation seed \(seed) failed at step \(step) (time \(time)): \(reason)
        replay: swift run flotilla-sim --seed \(seed) --verbose
        last events:
        \(recentEvents.joined(separator: "\n"))
        """
    }
}

/// What a successful run did, for summaries.
public struct SimulationReport: Sendable {
    public var seed: UInt64
    public var steps: Int
    public var committedEntries: Int
    public var acknowledgedWrites: Int
    public var linearizableReads: Int
    public var elections: Int
    public var crashes: Int
    public var membershipChanges: Int
    public var transfers: Int
    public var snapshotsInstalled: Int
}
