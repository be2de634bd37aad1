import Foundation
import MultiRaft
import RaftCore
import Testing

@Suite("A stopped host answers every waiter")
struct ShutdownTests {
    @Test(
        "loop-thread work, group creation and destruction asked for after shutdown return at once",
        .timeLimit(.minutes(1)))
    func waitersAfterShutdown() async throws {
        let cluster = try HostCluster(nodes: 1, groups: [GroupID(1)])
        let host = cluster.hosts[NodeID(1)]!
        #expect(await host.onLoopThread {})
        cluster.shutdown()
        let ran = await host.onLoopThread { Issue.record("ran on a stopped host") }
        #expect(!ran)
        await host.ensureGroup(GroupID(2), membership: Membership(voters: [NodeID(1)]))
        await host.removeGroup(GroupID(1))
        await #expect(throws: HostError.self) {
            _ = try await host.propose([1], to: GroupID(1), timeoutMilliseconds: 100)
        }
    }
}
