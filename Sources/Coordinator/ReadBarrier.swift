import Synchronization

/// Batches linearizable reads of one Raft group: each caller waits for a ReadIndex round that **started after
/// it arrived** (so it sees everything committed before its request), and one round serves every caller that
/// arrived while the previous one ran. At most one round runs at a time; under load that is one round per
/// round-trip, whatever the number of requests.
///
/// The rounds run on the callers' own tasks (a caller that finds no round running runs the next one), never on
/// a task of their own: the barrier adds no concurrency, so it runs unchanged in the node-level simulation.
final class ReadBarrier: Sendable {
    typealias Round = @Sendable () async throws -> Void
    private typealias Sleeper = CheckedContinuation<Void, Never>

    private struct State {
        /// Rounds started and rounds completed (numbered from 1).
        var started: UInt64 = 0
        var completed: UInt64 = 0
        var running = false
        /// What the last completed round ended with.
        var lastResult: Result<Void, any Error> = .success(())
        /// Callers waiting for a round to complete.
        var sleepers: [Sleeper] = []
        var waiting = 0
    }
    private let state = Mutex(State())
    private let round: Round

    init(round: @escaping Round) { self.round = round }

    /// How many rounds ran (for the measurements and tests).
    var rounds: Int { state.withLock { Int($0.started) } }

    /// How many callers wait (for tests).
    var waiting: Int { state.withLock { $0.waiting } }

    /// Returns once a round that started after the call has completed; throws what the latest completed round
    /// threw (a round that also started after the call).
    func wait() async throws {
        enum Next {
            case done(Result<Void, any Error>)
            case run
            case sleep
        }
        let needed = state.withLock { state -> UInt64 in
            state.waiting += 1
            return state.started + 1
        }
        while true {
            let next = state.withLock { state -> Next in
                if state.completed >= needed {
                    state.waiting -= 1
                    return .done(state.lastResult)
                }
                if state.running { return .sleep }
                state.running = true
                state.started += 1
                return .run
            }
            switch next {
            case .done(let result):
                return try result.get()
            case .run:
                let result: Result<Void, any Error>
                do {
                    try await round()
                    result = .success(())
                } catch {
                    result = .failure(error)
                }
                let sleepers = state.withLock { state -> [Sleeper] in
                    state.running = false
                    state.completed = state.started
                    state.lastResult = result
                    defer { state.sleepers = [] }
                    return state.sleepers
                }
                for sleeper in sleepers { sleeper.resume() }
            case .sleep:
                await withCheckedContinuation { (sleeper: Sleeper) in
                    let now = state.withLock { state -> Bool in
                        if !state.running || state.completed >= needed { return true }
                        state.sleepers.append(sleeper)
                        return false
                    }
                    if now { sleeper.resume() }
                }
            }
        }
    }
}
