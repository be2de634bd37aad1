import Coordinator
import Foundation
import Meta
import MultiRaft
import RaftCore
import RaftTransport
import Testing

/// A node that restarts replays its meta log: the groups it hosts afterwards follow the log's end state.
@Suite("Meta replay")
struct ReplayTests {
    /// One node with a one-voter meta group whose changes create and destroy the node's groups.
    final class Node {
        let directory: String
        let network = LocalNetwork()
        var host: MultiRaftHost!
        var meta: MetaStore!

        init(directory: String) { self.directory = directory }

        func start() throws {
            var settings = HostSettings(nodeID: NodeID(1), dataDirectory: directory)
            settings.tickMilliseconds = 10
            settings.fsync = .off
            let meta = MetaStore()
            let host = MultiRaftHost(
                settings: settings, transport: network.transport(for: NodeID(1)), peers: [NodeID(1)],
                stateMachine: { group -> any StateMachine in
                    group == GroupID(1) ? DeduplicatingMachine(meta) : KeyValueMachine()
                })
            let follower = GroupFollower(host: host, node: 1, metaGroup: GroupID(1))
            meta.onChange = { command, index, before, after in
                follower.metaChanged(command, index: index, before: before, after: after)
            }
            try host.start(founding: [GroupID(1): [NodeID(1)]])
            host.runOnLoopThread { follower.recoveryFinished(current: meta.current) }
            self.host = host
            self.meta = meta
        }

        func execute(_ command: MetaCommand) async throws {
            for _ in 0..<100 {
                if (try? await host.propose(MetaStore.encode(command), to: GroupID(1), timeoutMilliseconds: 500)) != nil
                {
                    return
                }
            }
            Issue.record("meta command never committed: \(command)")
        }

        var hosted: Set<UInt64> {
            get async {
                await host.inspect { Set($0.groups.map(\.group.rawValue)) }
            }
        }
    }

    @Test("a vnode created and destroyed before a restart is not brought back by the replay")
    func replayDoesNotResurrectDestroyedGroups() async throws {
        let directory = NSTemporaryDirectory() + "flotilla-replay-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = Node(directory: directory)
        try node.start()
        try await node.execute(.registerNode(NodeInfo(id: 1, raftAddress: "r", httpAddress: "h")))
        try await node.execute(
            .createBucket(tenant: "cnosdb", database: "public", start: 0, end: 100, placement: [[1], [1]]))
        let sets = node.meta.current.allReplicaSets.map(\.set.id)
        #expect(sets.count == 2)
        #expect(await node.hosted == Set([1] + sets), "the bucket's groups are created as meta applies")
        try await node.execute(.destroyReplicaSet(sets[0]))
        #expect(await node.hosted == [1, sets[1]], "the destroyed set's group is gone")

        node.host.shutdown()
        try node.start()
        // The replay of createBucket must not create the group that a later replayed entry destroyed.
        for _ in 0..<500 {
            let done = await node.host.inspect { _ in true }
            let applied = await withCheckedContinuation { continuation in
                node.host.runOnLoopThread { [host = node.host!] in
                    continuation.resume(
                        returning: host.appliedIndexFromLoopThread(of: GroupID(1))
                            >= host.recoveredCommitFromLoopThread(of: GroupID(1)))
                }
            }
            if done && applied { break }
            try await Task.sleep(for: .milliseconds(10))  // polls a condition on a real clock
        }
        #expect(node.meta.current.replicaSet(sets[0]) == nil)
        #expect(await node.hosted == [1, sets[1]], "no zombie replica of the destroyed set after the replay")
        node.host.shutdown()
    }
}
