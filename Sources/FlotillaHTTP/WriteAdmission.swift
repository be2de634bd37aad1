import Synchronization

/// Bounds the write requests one node works on at once, by count and by body bytes, so that a flood of clients
/// (hundreds of import workers) meets a clear "busy, retry" instead of timeouts and a node that runs out of
/// memory: a request over the bound waits, in arrival order, for one in flight to finish; one that waited
/// `wait` without getting in is refused (the server answers 503 with `Retry-After`, docs/performance.md).
///
/// Guarantees: at most `maxRequests` admitted at once, and their bytes at most `maxBytes` — except that one
/// request alone is always admitted whatever its size (the body limit bounds it). Waiters get in first come,
/// first served: a big request is not passed over forever by small ones.
public final class WriteAdmission: Sendable {
    public let maxRequests: Int
    public let maxBytes: Int
    public let wait: Duration

    private struct Waiter {
        let id: UInt64
        let bytes: Int
        let admitted: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var requests = 0
        var bytes = 0
        var nextID: UInt64 = 0
        var waiting: [Waiter] = []
        var refused = 0
        var timers: [UInt64: Task<Void, Never>] = [:]

        func fits(_ bytes: Int, _ admission: WriteAdmission) -> Bool {
            requests == 0 || (requests < admission.maxRequests && self.bytes + bytes <= admission.maxBytes)
        }
    }

    private let state = Mutex(State())

    public init(maxRequests: Int, maxBytes: Int, wait: Duration) {
        self.maxRequests = max(1, maxRequests)
        self.maxBytes = max(1, maxBytes)
        self.wait = wait
    }

    /// Requests admitted and not yet released; requests refused so far.
    public var load: (inFlight: Int, bytes: Int, waiting: Int, refused: Int) {
        state.withLock { ($0.requests, $0.bytes, $0.waiting.count, $0.refused) }
    }

    /// Waits (at most `wait`) until a request of `bytes` fits. Returns false if it did not in time; after true,
    /// the caller must `release(bytes:)` once its request is answered.
    public func admit(bytes: Int) async -> Bool {
        let id: UInt64? = state.withLock { state in
            if state.waiting.isEmpty && state.fits(bytes, self) {
                state.requests += 1
                state.bytes += bytes
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return true }
        let admitted = await withCheckedContinuation { continuation in
            state.withLock { $0.waiting.append(Waiter(id: id, bytes: bytes, admitted: continuation)) }
            // Started once the waiter is queued, so that it cannot fire before there is something to expire.
            let timer = Task { [wait] in
                try? await Task.sleep(for: wait)
                expire(id)
            }
            state.withLock { $0.timers[id] = timer }
            // A release may have made room before this waiter was queued.
            admitWaiters()
        }
        state.withLock { $0.timers.removeValue(forKey: id) }?.cancel()
        return admitted
    }

    /// Gives back what an admitted request of `bytes` held, letting waiters in.
    public func release(bytes: Int) {
        state.withLock { state in
            state.requests -= 1
            state.bytes -= bytes
        }
        admitWaiters()
    }

    private func admitWaiters() {
        let admitted: [Waiter] = state.withLock { state in
            var admitted: [Waiter] = []
            while let first = state.waiting.first, state.fits(first.bytes, self) {
                state.waiting.removeFirst()
                state.requests += 1
                state.bytes += first.bytes
                admitted.append(first)
            }
            return admitted
        }
        for waiter in admitted { waiter.admitted.resume(returning: true) }
    }

    private func expire(_ id: UInt64) {
        let expired: Waiter? = state.withLock { state in
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            state.refused += 1
            return state.waiting.remove(at: index)
        }
        expired?.admitted.resume(returning: false)
        // The first waiter leaving may let the next ones in.
        if expired != nil { admitWaiters() }
    }
}
