import Foundation
import MultiRaft
import RaftCore
import Testing

@Suite("Multi-Raft host on an in-process network")
struct MultiRaftHostTests {
    @Test("three hosts elect leaders for every group and every replica applies every write")
    func replicatesAcrossGroups() async throws {
        let groups = (1...8).map { GroupID(UInt64($0)) }
        let cluster = try HostCluster(nodes: 3, groups: groups)
        defer { cluster.shutdown() }
        for (i, group) in groups.enumerated() {
            try await cluster.put("k\(i)", "v\(i)", group: group, via: NodeID(UInt64(i % 3 + 1)))
        }
        for (i, group) in groups.enumerated() {
            for id in cluster.ids {
                #expect(try await cluster.get("k\(i)", group: group, via: id) == "v\(i)")
            }
        }
        let summaries = await cluster.summaries(NodeID(1))
        #expect(summaries.count == 8)
        #expect(summaries.allSatisfy { $0.leader != nil })
    }

    @Test("idle groups go quiet, and a write wakes one")
    func quiescence() async throws {
        let groups = (1...20).map { GroupID(UInt64($0)) }
        let cluster = try HostCluster(nodes: 3, groups: groups)
        defer { cluster.shutdown() }
        try await cluster.put("a", "1", group: GroupID(1), via: NodeID(1))
        var quiet = 0
        for _ in 0..<300 {
            quiet = await cluster.summaries(NodeID(1)).filter(\.quiet).count
            if quiet == groups.count { break }
            try await Task.sleep(for: .milliseconds(10))  // polls a condition on a real clock; not a fixed wait
        }
        #expect(quiet == groups.count)
        try await cluster.put("a", "2", group: GroupID(1), via: NodeID(2))
        #expect(try await cluster.get("a", group: GroupID(1), via: NodeID(3)) == "2")
    }

    @Test("a restarted host recovers its groups from the WAL and catches up")
    func restartCatchesUp() async throws {
        let group = GroupID(1)
        let cluster = try HostCluster(nodes: 3, groups: [group])
        defer { cluster.shutdown() }
        try await cluster.put("x", "1", group: group, via: NodeID(1))
        cluster.stop(NodeID(3))
        try await cluster.put("y", "2", group: group, via: NodeID(1))
        try cluster.start(NodeID(3))
        #expect(try await cluster.get("x", group: group, via: NodeID(3)) == "1")
        #expect(try await cluster.get("y", group: group, via: NodeID(3)) == "2")
    }

    @Test(
        "a host kept down past compaction catches up by a chunked snapshot, written and restored on the loop thread or in the background",
        arguments: [false, true])
    func snapshotCatchUp(background: Bool) async throws {
        let group = GroupID(1)
        let cluster = try HostCluster(nodes: 3, groups: [group], backgroundSnapshots: background) { settings in
            settings.snapshotEveryEntries = 20
            settings.snapshotChunkBytes = 64
        }
        defer { cluster.shutdown() }
        try await cluster.put("warm", "up", group: group, via: NodeID(1))
        cluster.stop(NodeID(3))
        for i in 0..<60 {
            try await cluster.put("key\(i)", String(repeating: "v", count: 20), group: group, via: NodeID(1))
        }
        try cluster.start(NodeID(3))
        // Writes go on while node 3 takes the snapshot in: what commits meanwhile is applied after it.
        for i in 0..<30 { try await cluster.put("late\(i)", "\(i)", group: group, via: NodeID(1)) }
        try await cluster.put("after", "restart", group: group, via: NodeID(1))
        #expect(try await cluster.get("late29", group: group, via: NodeID(3)) == "29")
        #expect(try await cluster.get("key7", group: group, via: NodeID(3)) == String(repeating: "v", count: 20))
        #expect(try await cluster.get("after", group: group, via: NodeID(3)) == "restart")
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(cluster.root)/node3/snapshots")
        #expect(!files.isEmpty, "node 3 received a snapshot file")
        let checksums = await cluster.ids.asyncMap { await cluster.summaries($0).first!.checksum }
        #expect(Set(checksums).count == 1, "replicas hold identical data")
    }

    @Test("a leader cut off from the others is replaced, and rejoins without disrupting the group")
    func partitionedLeader() async throws {
        let group = GroupID(1)
        let cluster = try HostCluster(nodes: 3, groups: [group])
        defer { cluster.shutdown() }
        try await cluster.put("a", "1", group: group, via: NodeID(1))
        let leader = await cluster.summaries(NodeID(1)).first!.leader!
        let others = cluster.cutOff(leader)
        try await cluster.put("b", "2", group: group, via: others[0])
        let newLeader = await cluster.summaries(others[0]).first!.leader
        #expect(newLeader != nil && newLeader != leader)
        let termBefore = await cluster.summaries(others[0]).first!.term
        cluster.heal()
        #expect(try await cluster.get("b", group: group, via: leader) == "2")
        let after = await cluster.summaries(others[0]).first!
        #expect(after.leader == newLeader, "the returning node did not take leadership")
        #expect(after.term == termBefore, "pre-vote kept the term stable")
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
