import Foundation
import MultiRaft
import RaftCore
import Testing

/// Leases follow the monotonic clock, not loop rounds: a leader whose loop thread stalled past its lease (a
/// paused process, a stuck fsync) must not answer a read from that lease, even though it has not yet run the
/// ticks that would have ended it.
@Suite("Lease reads and the clock")
struct LeaseClockTests {
    @Test("a leader whose loop stalled while the others moved on does not serve a stale read from its lease")
    func stalledLeaderServesNoStaleRead() async throws {
        let group = GroupID(1)
        let cluster = try HostCluster(nodes: 3, groups: [group])
        defer { cluster.shutdown() }
        try await cluster.put("a", "1", group: group, via: NodeID(1))
        let leader = await cluster.summaries(NodeID(1)).first!.leader!
        // A fresh lease: a quorum just acknowledged the leader.
        #expect(try await cluster.get("a", group: group, via: leader) == "1")
        // The leader's loop stalls for 3 s, cut off from the others, who elect a new leader and write.
        let stall = Stall()
        cluster.hosts[leader]!.runOnLoopThread { stall.hold(seconds: 3) }
        stall.waitUntilHeld()
        let others = cluster.cutOff(leader)
        try await cluster.put("a", "2", group: group, via: others[0])
        #expect(stall.isHeld, "the write completed within the stall (the test needs the read queued during it)")
        // Queued while the old leader is still stalled: it must not come back with the value the new leader
        // has overwritten (it may fail: the old leader cannot confirm its leadership).
        let answer = try? await cluster.get("a", group: group, via: leader)
        #expect(answer != "1", "a stale read was served from a lease that had run out while the loop stalled")
    }
}

/// Holds a thread for a while, and tells others whether it is holding it.
private final class Stall: Sendable {
    private let condition = NSCondition()
    private nonisolated(unsafe) var held = false

    func hold(seconds: Double) {
        condition.lock()
        held = true
        condition.broadcast()
        condition.unlock()
        Thread.sleep(forTimeInterval: seconds)
        condition.lock()
        held = false
        condition.unlock()
    }

    func waitUntilHeld() {
        condition.lock()
        while !held { condition.wait() }
        condition.unlock()
    }

    var isHeld: Bool {
        condition.lock()
        defer { condition.unlock() }
        return held
    }
}
