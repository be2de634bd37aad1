import Foundation
import RaftCore
import RaftTransport
import Testing

@testable import MultiRaft

/// A kill -9 at each step of a new snapshot file becoming a group's: (a) the file renamed in, its WAL record not
/// yet appended; (b) the record durable, the older file not yet deleted; (c) after that deletion. The crash is
/// simulated at the step itself: the node's data directory is copied (the loop thread, its only writer, waits in
/// the observer meanwhile) and the node is cut off from its peers, so that nothing it does later reaches them. A
/// host started on the copy must recover with the right snapshot, and take part in the group again.
@Suite(.timeLimit(.minutes(2))) struct SnapshotCrashTests {
    static let group = GroupID(1)

    @Test(
        "a crash at each step of installing a snapshot received from the leader recovers",
        arguments: SnapshotFileStep.allCases)
    func receivedSnapshot(crashAt step: SnapshotFileStep) async throws {
        let cluster = try HostCluster(nodes: 3, groups: [Self.group]) { $0.snapshotEveryEntries = 20 }
        defer { cluster.shutdown() }
        let node3 = NodeID(3)
        for k in 0..<25 { try await cluster.put("early\(k)", "\(k)", group: Self.group, via: NodeID(1)) }
        #expect(try await cluster.get("early24", group: Self.group, via: node3) == "24")
        await cluster.hosts[node3]!.onLoopThread {}  // the round that applied it also compacted
        let own = try Self.snapshotFiles(cluster.root + "/node3")
        #expect(own.count == 1, "node 3 compacted its log once: \(own)")
        // Kept down while the others compact past its log: it catches up by a snapshot.
        cluster.stop(node3)
        for k in 0..<60 { try await cluster.put("late\(k)", "\(k)", group: Self.group, via: NodeID(1)) }
        let crash = CrashImage(of: node3, in: cluster, at: step, after: Self.index(own[0]))
        try cluster.start(node3) { $0.snapshotFileObserver = crash.observe }
        let (image, received) = try #require(await crash.next(), "the observer saw the step")
        let files = try Self.snapshotFiles(image)
        #expect(files.contains { Self.index($0) == received }, "the image holds the received file: \(files)")
        #expect(files.contains(own[0]) == (step != .released), "the older file goes only after the record")

        let recovered = try await Self.recover(image, as: node3)
        switch step {
        case .installed:
            // Its record never became durable: the file is beyond the log, the older one is what the log needs.
            #expect(recovered.files == own)
            #expect(recovered.values["early24"] == "24" && recovered.values["late0"] == nil)
        case .recorded, .released:
            #expect(recovered.files.map(Self.index) == [received])
            #expect(recovered.values["early24"] == "24" && recovered.values["late0"] == "0")
        }
        try await Self.rejoin(cluster, node3, from: image)
        #expect(try await cluster.get("late59", group: Self.group, via: node3) == "59")
    }

    @Test("a crash at each step of a local compaction recovers", arguments: SnapshotFileStep.allCases)
    func localCompaction(crashAt step: SnapshotFileStep) async throws {
        let cluster = try HostCluster(nodes: 3, groups: [Self.group]) { $0.snapshotEveryEntries = 20 }
        defer { cluster.shutdown() }
        let node3 = NodeID(3)
        try await cluster.put("warm", "up", group: Self.group, via: NodeID(1))
        cluster.stop(node3)
        // The observer takes the second compaction, which has an older file to supersede.
        let crash = CrashImage(of: node3, in: cluster, at: step, after: LogIndex(1), skipping: 1)
        try cluster.start(node3) { $0.snapshotFileObserver = crash.observe }
        for k in 0..<45 { try await cluster.put("k\(k)", "\(k)", group: Self.group, via: NodeID(1)) }
        let (image, compacted) = try #require(await crash.next(), "the observer saw the step")
        let files = try Self.snapshotFiles(image).map(Self.index)
        #expect(files.contains(compacted) && (files.count == 2) == (step != .released), "\(files)")

        let recovered = try await Self.recover(image, as: node3)
        // The log holds the entry the new file ends at, so it is chosen whether or not its record is durable.
        #expect(recovered.files.map(Self.index) == [compacted])
        #expect(recovered.values["warm"] == "up")
        #expect(recovered.applied >= compacted)
        try await Self.rejoin(cluster, node3, from: image)
        #expect(try await cluster.get("k44", group: Self.group, via: node3) == "44")
    }

    /// The crash: when the observer sees `step` for the `skipping + 1`-th snapshot file above `after` that the
    /// node installs, copies the node's data directory and cuts the node off from its peers.
    final class CrashImage: @unchecked Sendable {
        let directory: String
        let id: NodeID
        let network: LocalNetwork
        let peers: Set<NodeID>
        let step: SnapshotFileStep
        let after: LogIndex
        let skipping: Int
        private let lock = NSLock()
        private var installed: [LogIndex] = []
        private var taken = false
        private let images: AsyncStream<(String, LogIndex)>
        private let continuation: AsyncStream<(String, LogIndex)>.Continuation

        init(of id: NodeID, in cluster: HostCluster, at step: SnapshotFileStep, after: LogIndex, skipping: Int = 0) {
            directory = cluster.root + "/node\(id)"
            (self.id, network) = (id, cluster.network)
            peers = Set(cluster.ids).subtracting([id])
            (self.step, self.after, self.skipping) = (step, after, skipping)
            (images, continuation) = AsyncStream.makeStream(of: (String, LogIndex).self)
        }

        /// Waits for the copy: its path and the snapshot's index.
        func next() async -> (String, LogIndex)? {
            var iterator = images.makeAsyncIterator()
            return await iterator.next()
        }

        /// On the loop thread, which writes nothing while this copies.
        func observe(_ seen: SnapshotFileStep, _ group: GroupID, _ snapshot: LogIndex) {
            lock.withLock {
                guard !taken, snapshot > after else { return }
                if seen == .installed, !installed.contains(snapshot) { installed.append(snapshot) }
                guard seen == step, installed.count > skipping, installed[skipping] == snapshot else { return }
                taken = true
                network.transport(forExisting: id).isolate(from: peers)  // the node's current transport
                let copy = directory + "-crash"
                try? FileManager.default.copyItem(atPath: directory, toPath: copy)
                continuation.yield((copy, snapshot))
                continuation.finish()
            }
        }
    }

    /// What a host started alone (no peers reachable) on `directory` recovered, after its first round.
    static func recover(
        _ directory: String, as id: NodeID
    ) async throws -> (files: [String], values: [String: String], applied: LogIndex) {
        var settings = HostSettings(nodeID: id, dataDirectory: directory)
        settings.tickMilliseconds = 10
        settings.fsync = .off
        let network = LocalNetwork()
        let host = MultiRaftHost(
            settings: settings, transport: network.transport(for: id), peers: [1, 2, 3],
            stateMachine: { _ in KeyValueMachine() })
        try host.start()
        defer { host.shutdown() }
        let files = try snapshotFiles(directory)
        await host.onLoopThread {}  // the first round re-applied the committed entries
        let values = try await host.read(group, linearizable: false) { machine in
            (machine as? KeyValueMachine)?.values.mapValues { String(decoding: $0, as: UTF8.self) } ?? [:]
        }
        let applied = await host.inspect { $0.groups.first?.applied } ?? .zero
        return (files, values, applied)
    }

    /// Puts the crashed node's directory back in place of `id`'s and checks that it takes part again.
    static func rejoin(_ cluster: HostCluster, _ id: NodeID, from image: String) async throws {
        cluster.stop(id)
        let directory = cluster.root + "/node\(id)"
        try FileManager.default.removeItem(atPath: directory)
        try FileManager.default.moveItem(atPath: image, toPath: directory)
        try cluster.start(id)
        try await cluster.put("after", "restart", group: group, via: NodeID(1))
        // The leader sends the crashed node a snapshot again once the unacknowledged transfer expires (3 s).
        for node in cluster.ids {
            #expect(try await cluster.getEventually("after", group: group, via: node) == "restart")
        }
        let sums = await cluster.ids.asyncMap { await cluster.summaries($0).first?.checksum }
        #expect(Set(sums).count == 1, "the replicas agree")
    }

    /// The `.snap` files in a node's data directory, sorted.
    static func snapshotFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory + "/snapshots").filter { $0.hasSuffix(".snap") }
            .sorted()
    }

    /// The index in a snapshot file's name (`snap-<group>-<index>-<term>.snap`).
    static func index(_ name: String) -> LogIndex {
        LogIndex(UInt64(name.split(separator: "-")[2], radix: 16)!)
    }
}

extension HostCluster {
    /// A linearizable read, tried again while it times out (a node still catching up).
    func getEventually(_ key: String, group: GroupID, via id: NodeID, attempts: Int = 10) async throws -> String? {
        for _ in 1..<attempts {
            if let value = try? await get(key, group: group, via: id) { return value }
        }
        return try await get(key, group: group, via: id)
    }
}
