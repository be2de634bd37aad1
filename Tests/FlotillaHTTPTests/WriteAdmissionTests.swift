import Synchronization
import Testing

@testable import FlotillaHTTP

@Suite("Write admission: bounded writes in flight, waiters in order, refusal after the wait")
struct WriteAdmissionTests {
    @Test("requests beyond the bound wait and get in, in arrival order, as earlier ones finish")
    func waitersGetInInOrder() async throws {
        let admission = WriteAdmission(maxRequests: 2, maxBytes: 1 << 20, wait: .seconds(60))
        #expect(await admission.admit(bytes: 10))
        #expect(await admission.admit(bytes: 10))
        let order = OrderLog()
        let first = Task {
            let admitted = await admission.admit(bytes: 10)
            order.append(1)
            return admitted
        }
        try await waitUntil { admission.load.waiting == 1 }
        let second = Task {
            let admitted = await admission.admit(bytes: 10)
            order.append(2)
            return admitted
        }
        try await waitUntil { admission.load.waiting == 2 }
        #expect(admission.load.inFlight == 2)
        admission.release(bytes: 10)
        #expect(await first.value)
        #expect(admission.load.waiting == 1)
        admission.release(bytes: 10)
        #expect(await second.value)
        #expect(order.values == [1, 2])
        #expect(admission.load.inFlight == 2 && admission.load.refused == 0)
    }

    @Test("a request that finds no room within the wait is refused, and holds nothing")
    func refusedAfterTheWait() async {
        let admission = WriteAdmission(maxRequests: 1, maxBytes: 1 << 20, wait: .milliseconds(20))
        #expect(await admission.admit(bytes: 100))
        #expect(await admission.admit(bytes: 100) == false)
        let load = admission.load
        #expect(load.inFlight == 1 && load.bytes == 100 && load.waiting == 0 && load.refused == 1)
        admission.release(bytes: 100)
        #expect(await admission.admit(bytes: 100))
    }

    @Test("bytes bound the requests too, but one request alone always gets in")
    func bytesBound() async throws {
        let admission = WriteAdmission(maxRequests: 10, maxBytes: 1_000, wait: .seconds(60))
        #expect(await admission.admit(bytes: 5_000))  // alone: admitted whatever its size
        let small = Task { await admission.admit(bytes: 10) }
        try await waitUntil { admission.load.waiting == 1 }
        admission.release(bytes: 5_000)
        #expect(await small.value)
        #expect(await admission.admit(bytes: 990))
        let big = Task { await admission.admit(bytes: 500) }
        try await waitUntil { admission.load.waiting == 1 }
        // A small request arriving later queues behind the big one instead of passing it.
        let later = Task { await admission.admit(bytes: 1) }
        try await waitUntil { admission.load.waiting == 2 }
        admission.release(bytes: 990)
        #expect(await big.value)
        admission.release(bytes: 10)
        #expect(await later.value)
        #expect(admission.load.bytes == 501)
    }
}

/// Records the order in which tasks reach a point.
private final class OrderLog: Sendable {
    private let log = Mutex<[Int]>([])
    func append(_ value: Int) { log.withLock { $0.append(value) } }
    var values: [Int] { log.withLock { $0 } }
}

/// Waits until `condition` holds, yielding between checks (fails after 10 s).
private func waitUntil(_ condition: () -> Bool) async throws {
    for _ in 0..<100_000 {
        if condition() { return }
        await Task.yield()
        try await Task.sleep(for: .microseconds(100))
    }
    Issue.record("the condition never held")
}
