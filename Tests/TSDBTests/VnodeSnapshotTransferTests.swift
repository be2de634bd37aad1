import Foundation
import LineProtocol
import MultiRaft
import RaftCore
import RaftStorage
import RaftTransport
import RaftWire
import Synchronization
import Testing

@testable import TSDB

/// A vnode's snapshot goes to a new replica straight from the engine's files: the sender writes no snapshot file,
/// and the replica that installs it answers as the leader's.
@Suite("Vnode snapshot transfers")
struct VnodeSnapshotTransferTests {
    static let group = GroupID(5)

    /// The system environment, but the file system the WAL and the snapshot store use records what it creates.
    struct RecordingEnvironment: HostEnvironment {
        let system = SystemHostEnvironment()
        let files = CrashingFileSystem(mutationsBeforeCrash: .max)

        func monotonicNanoseconds() -> UInt64 { system.monotonicNanoseconds() }
        func wallNanoseconds() -> Int64 { system.wallNanoseconds() }
        func random() -> UInt64 { system.random() }
        func background(_ lane: BackgroundLane, _ work: @escaping @Sendable () -> Void) {
            system.background(lane, work)
        }
        func drainBackground() { system.drainBackground() }
        func sleep(milliseconds: Int) async { await system.sleep(milliseconds: milliseconds) }
        var fileSystem: any FileSystem { files }
    }

    static func host(
        _ id: UInt64, root: String, network: LocalNetwork, environment: RecordingEnvironment
    )
        -> MultiRaftHost
    {
        var settings = HostSettings(nodeID: NodeID(id), dataDirectory: "\(root)/node\(id)")
        settings.tickMilliseconds = 10
        settings.fsync = .off
        settings.snapshotEveryEntries = 10
        settings.snapshotChunkBytes = 4_096
        let vnodes = "\(root)/node\(id)/vnodes"
        return MultiRaftHost(
            settings: settings, transport: network.transport(for: NodeID(id)), peers: [NodeID(1), NodeID(2)],
            stateMachine: { group in
                DeduplicatingMachine(
                    VnodeMachine(
                        directory: "\(vnodes)/\(group.rawValue)", fileSystem: POSIXFileSystem(),
                        options: VnodeEngineTests.options(memtableValues: 200)))
            }, environment: environment)
    }

    /// The durable index and checksum of a host's replica.
    static func state(_ host: MultiRaftHost) async throws -> (durable: UInt64, checksum: UInt64, applied: UInt64) {
        try await host.read(group, linearizable: false) { machine in
            let durable = machine.persistent?.durableIndex.rawValue ?? 0
            return (durable, machine.checksum, (machine.unwrapped as? VnodeMachine)?.engine.appliedIndex ?? 0)
        }
    }

    @Test("a new replica gets the leader's files streamed, and the leader writes no snapshot file for it")
    func learnerGetsStreamedFiles() async throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let network = LocalNetwork()
        let (first, second) = (RecordingEnvironment(), RecordingEnvironment())
        let leader = Self.host(1, root: root, network: network, environment: first)
        try leader.start(founding: [Self.group: [NodeID(1)]])
        defer { leader.shutdown() }

        var random = CodecTests.Generator(state: 7)
        for _ in 0..<80 {
            let command = VnodeMachine.writeCommand(VnodeEngineTests.batch(&random))
            var written = false
            for _ in 0..<100 where !written {
                do {
                    _ = try await leader.propose(command, to: Self.group, timeoutMilliseconds: 500)
                    written = true
                } catch {
                    try await Task.sleep(for: .milliseconds(10))  // the lone voter is still campaigning
                }
            }
            try #require(written, "a write was not accepted")
        }
        // The leader's files cover most of the log, which it compacted through them: a new member needs them.
        let before = try await Self.state(leader)
        try #require(before.durable >= 40, "the leader flushed (durable index \(before.durable))")

        let follower = Self.host(2, root: root, network: network, environment: second)
        try follower.start()
        defer { follower.shutdown() }
        await follower.ensureGroup(Self.group, membership: .empty)
        leader.addPeer(NodeID(2))
        try await leader.administer(.addLearner(NodeID(2)), group: Self.group, via: NodeID(1))

        var caughtUp = false
        for _ in 0..<500 where !caughtUp {
            let state = try await Self.state(follower)
            caughtUp = state.applied >= before.applied && state.checksum == before.checksum
            if !caughtUp { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(caughtUp, "the learner answers as the leader")
        let received = second.files.createdFiles.filter { $0.contains("/snapshots/") }
        #expect(!received.isEmpty, "the learner received a snapshot (not only log entries)")
        let written = first.files.createdFiles.filter { $0.contains("/snapshots/") }
        #expect(written.isEmpty, "the leader wrote no snapshot file to send its files: \(written)")
    }

    @Test("read in pieces of any size, the stream is the same bytes every time, as long as announced")
    func streamReadsInAnyPieces() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (engine, _) = try EngineSnapshotTests.source(seed: 3, in: root + "/a")
        let source = engine.snapshotSource()
        var whole: [UInt8] = []
        try source.write { whole += $0 }
        #expect(UInt64(whole.count) == source.length)
        // The files the source holds are deleted by a compaction; the source reads them still.
        try engine.flushNow()
        try engine.compactNow()
        var random = CodecTests.Generator(state: 11)
        for _ in 0..<3 {
            let reader = EngineSnapshotReader(source)
            var bytes: [UInt8] = []
            while true {
                let piece = try reader.next(limit: Int(1 + random.next() % 3_000))
                if piece.isEmpty { break }
                bytes += piece
            }
            #expect(bytes == whole)
        }
    }
}
