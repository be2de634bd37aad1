import Foundation
import MultiRaft
import RaftCore
import Testing

@Suite("Reads of groups hosted elsewhere")
struct RemoteReadTests {
    @Test("a forwarded read whose answer keeps the answering node busy past an election timeout still succeeds")
    func slowAnswerIsAwaited() async throws {
        let group = GroupID(1)
        // Node 1 hosts the group alone (one replica); node 2 reads it through node 1.
        let cluster = try HostCluster(nodes: 2, groups: [], voters: 1)
        defer { cluster.shutdown() }
        cluster.founding = [group: [NodeID(1)]]
        cluster.readHandler = { machine, request in
            // A large answer built on the loop thread: the node sends no ping meanwhile (10 ms ticks, an election
            // timeout of a few ticks), so its peer sees it fall silent.
            Thread.sleep(forTimeInterval: 0.6)
            let value = (machine.unwrapped as? KeyValueMachine)?.values[String(decoding: request, as: UTF8.self)]
            return .done(value ?? [])
        }
        cluster.stop(NodeID(1))
        cluster.stop(NodeID(2))
        try cluster.start(NodeID(1))
        try cluster.start(NodeID(2))
        try await cluster.put("k", "v", group: group, via: NodeID(1))
        let answer = try await cluster.hosts[NodeID(2)]!.read(
            group, via: NodeID(1), linearizable: false, request: Array("k".utf8), timeoutMilliseconds: 5_000)
        #expect(answer == Array("v".utf8))
        let linearizable = try await cluster.hosts[NodeID(2)]!.read(
            group, via: NodeID(1), request: Array("k".utf8), timeoutMilliseconds: 5_000)
        #expect(linearizable == Array("v".utf8))
    }

    @Test("background read work answers forwarded and local reads")
    func backgroundWorkAnswers() async throws {
        let group = GroupID(1)
        let cluster = try HostCluster(nodes: 2, groups: [], voters: 1)
        defer { cluster.shutdown() }
        cluster.founding = [group: [NodeID(1)]]
        cluster.readHandler = { machine, request in
            let value = (machine.unwrapped as? KeyValueMachine)?.values[String(decoding: request, as: UTF8.self)]
            return .background { value ?? [] }
        }
        cluster.stop(NodeID(1))
        cluster.stop(NodeID(2))
        try cluster.start(NodeID(1))
        try cluster.start(NodeID(2))
        try await cluster.put("k", "w", group: group, via: NodeID(1))
        for via in cluster.ids {
            let answer = try await cluster.hosts[via]!.read(
                group, via: NodeID(1), request: Array("k".utf8), timeoutMilliseconds: 5_000)
            #expect(answer == Array("w".utf8))
        }
    }
}
