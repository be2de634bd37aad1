import MultiRaft
import Synchronization

/// Numbers this node's requests to the Raft groups (one client per node and boot: the node id and a random
/// epoch), and knows which are still in flight, so that every attempt of a request carries the same
/// `ClientRequest` and the state machines can forget what the node no longer waits for.
final class RequestSequencer: Sendable {
    let client: UInt64
    let epoch: UInt64

    private struct State {
        var next: UInt64 = 1
        var inFlight: Set<UInt64> = []
    }
    private let state = Mutex(State())

    init(client: UInt64, epoch: UInt64 = UInt64.random(in: 1...UInt64.max)) {
        self.client = client
        self.epoch = epoch
    }

    /// A new request's sequence number; it stays in flight until `end`.
    func begin() -> UInt64 {
        state.withLock { state in
            let sequence = state.next
            state.next += 1
            state.inFlight.insert(sequence)
            return sequence
        }
    }

    /// The identity an attempt of request `sequence` carries (its `firstIncomplete` as of now).
    func request(_ sequence: UInt64) -> ClientRequest {
        let first = state.withLock { $0.inFlight.min() ?? $0.next }
        return ClientRequest(client: client, epoch: epoch, sequence: sequence, firstIncomplete: min(first, sequence))
    }

    /// The caller will not retry request `sequence` again.
    func end(_ sequence: UInt64) {
        state.withLock { _ = $0.inFlight.remove(sequence) }
    }
}
