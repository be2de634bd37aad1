import Synchronization

/// Batches linearizable reads of one Raft group: each caller waits for a ReadIndex round that **started after
/// it arrived** (so it sees everything committed before its request), and one round serves every caller that
/// arrived while the previous one ran. At most one round runs at a time; under load that is one round per
/// round-trip, whatever the number of requests.
final class ReadBarrier: Sendable {
    typealias Round = @Sendable () async throws -> Void
    private typealias Waiter = CheckedContinuation<Void, any Error>

    private struct State {
        var running = false
        /// Served by the round in progress (they arrived before it started).
        var current: [Waiter] = []
        /// Arrived while a round was in progress: served by the next one.
        var next: [Waiter] = []
        var rounds = 0
    }
    private let state = Mutex(State())
    private let round: Round

    init(round: @escaping Round) { self.round = round }

    /// How many rounds ran (for the measurements and tests).
    var rounds: Int { state.withLock { $0.rounds } }

    /// How many callers wait (for tests).
    var waiting: Int { state.withLock { $0.current.count + $0.next.count } }

    /// Returns once a round that started after the call has completed; throws what that round threw.
    func wait() async throws {
        try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let start = state.withLock { state -> Bool in
                if state.running {
                    state.next.append(waiter)
                    return false
                }
                state.running = true
                state.current = [waiter]
                return true
            }
            if start { Task { await self.runRounds() } }
        }
    }

    private func runRounds() async {
        while true {
            state.withLock { $0.rounds += 1 }
            let result: Result<Void, any Error>
            do {
                try await round()
                result = .success(())
            } catch {
                result = .failure(error)
            }
            let (served, more) = state.withLock { state -> ([Waiter], Bool) in
                let served = state.current
                state.current = state.next
                state.next = []
                if state.current.isEmpty { state.running = false }
                return (served, state.running)
            }
            for waiter in served { waiter.resume(with: result) }
            if !more { return }
        }
    }
}
