import Synchronization
import Testing

@testable import Coordinator

/// The meta read batching: a caller is served only by a round that started after it arrived, and one round
/// serves every caller that arrived while the previous one ran.
@Suite("Read barrier")
struct ReadBarrierTests {
    /// A round that waits until the test opens its gate.
    final class Gate: Sendable {
        let opened = Mutex(0)
        let started = Mutex(0)

        func round() async throws {
            let mine = started.withLock { n -> Int in
                n += 1
                return n
            }
            while opened.withLock({ $0 }) < mine { try await Task.sleep(for: .milliseconds(1)) }
        }

        func open() { opened.withLock { $0 += 1 } }

        func waitForStart(_ n: Int) async throws {
            while started.withLock({ $0 }) < n { try await Task.sleep(for: .milliseconds(1)) }
        }
    }

    final class Counter: Sendable {
        let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    final class Flag: Sendable {
        let value = Mutex(true)
    }

    @Test("callers that arrive during a round wait for the next one, and all of them share it", .timeLimit(.minutes(1)))
    func batchesCallersIntoTheNextRound() async throws {
        let gate = Gate()
        let barrier = ReadBarrier { try await gate.round() }
        let served = Counter()
        let first = Task {
            try await barrier.wait()
            served.add()
        }
        try await gate.waitForStart(1)
        // 50 callers arrive while round 1 runs: round 1 started before them, so it must not serve them.
        let late = (0..<50).map { _ in
            Task {
                try await barrier.wait()
                served.add()
            }
        }
        while barrier.waiting < 51 { try await Task.sleep(for: .milliseconds(1)) }  // all 50 have arrived
        gate.open()
        try await first.value
        try await gate.waitForStart(2)
        #expect(served.count == 1, "round 1 served only the caller that arrived before it")
        gate.open()
        for task in late { try await task.value }
        #expect(served.count == 51)
        #expect(barrier.rounds == 2, "one round served all 50 late callers")
    }

    @Test("a round that fails fails its callers, and the next caller starts a new round")
    func failureReachesItsCallers() async throws {
        struct NoLeader: Error {}
        let fail = Flag()
        let barrier = ReadBarrier {
            if fail.value.withLock({ $0 }) { throw NoLeader() }
        }
        await #expect(throws: NoLeader.self) { try await barrier.wait() }
        fail.value.withLock { $0 = false }
        try await barrier.wait()
        #expect(barrier.rounds == 2)
    }
}
