import Foundation
import RaftCore
import RaftStorage
import RaftTransport
import Synchronization
import Testing

@testable import MultiRaft

/// A storage failure keeps the errno of the system call that failed, on this node and across a forward reply, so
/// that a full disk is told from other failures by its number.
@Suite("Storage failures carry their errno", .timeLimit(.minutes(1)))
struct StorageFailureErrnoTests {
    @Test("a WAL append that fails with ENOSPC fails the proposal with errno ENOSPC, here and on the forwarding node")
    func fullDisk() async throws {
        let (one, two) = (NodeID(1), NodeID(2))
        let group = GroupID(1)
        let root = NSTemporaryDirectory() + "flotilla-errno-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let network = LocalNetwork()
        let environment = FullDiskEnvironment()
        func host(_ id: NodeID, _ environment: any HostEnvironment) -> MultiRaftHost {
            var settings = HostSettings(nodeID: id, dataDirectory: "\(root)/node\(id)")
            settings.tickMilliseconds = 10
            settings.fsync = .off
            return MultiRaftHost(
                settings: settings, transport: network.transport(for: id), peers: [one, two],
                stateMachine: { _ in KeyValueMachine() }, environment: environment)
        }
        // Node 1 alone hosts the group, on a disk that fills up; node 2 forwards to it.
        let full = host(one, environment)
        let forwarder = host(two, SystemHostEnvironment())
        try full.start(founding: [group: [one]])
        try forwarder.start(founding: [:])
        defer {
            full.shutdown()
            forwarder.shutdown()
        }
        let command = KeyValueMachine.setCommand(key: "k", value: Array("v".utf8))
        var elected = false
        for _ in 0..<100 where !elected {
            elected = (try? await full.propose(command, to: group, timeoutMilliseconds: 200)) != nil
        }
        try #require(elected)

        environment.disk.full.withLock { $0 = true }
        let forwarded = await #expect(throws: HostError.self) {
            try await forwarder.propose(command, to: group, via: one, timeoutMilliseconds: 5_000)
        }
        let local = await #expect(throws: HostError.self) {
            try await full.propose(command, to: group, timeoutMilliseconds: 5_000)
        }
        for error in [forwarded, local] {
            guard case .storageFailed(let failure)? = error else {
                Issue.record("not a storage failure: \(String(describing: error))")
                continue
            }
            #expect(failure.errno == ENOSPC)
            #expect(failure.message.contains("errno \(ENOSPC)"), "the message still says what failed: \(failure)")
            #expect(error?.isDiskFull == true)
        }
    }
}

/// The system environment, except that file writes fail with ENOSPC once `disk.full` is set.
final class FullDiskEnvironment: HostEnvironment {
    let system = SystemHostEnvironment()
    let disk = FullDiskFileSystem()

    func monotonicNanoseconds() -> UInt64 { system.monotonicNanoseconds() }
    func wallNanoseconds() -> Int64 { system.wallNanoseconds() }
    func random() -> UInt64 { system.random() }
    func background(_ lane: BackgroundLane, _ work: @escaping @Sendable () -> Void) { system.background(lane, work) }
    func drainBackground() { system.drainBackground() }
    func concurrently(_ count: Int, _ body: @Sendable (Int) -> Void) { system.concurrently(count, body) }
    func sleep(milliseconds: Int) async { await system.sleep(milliseconds: milliseconds) }
    var fileSystem: any FileSystem { disk }
}

/// The POSIX file system, whose writes fail with ENOSPC while `full` is set.
final class FullDiskFileSystem: ForwardingFileSystem {
    let base: any FileSystem = POSIXFileSystem()
    let full = Mutex(false)

    func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(WALError) {
        try refuseIfFull(path)
        try base.write(fd, bytes, path: path)
    }
    func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(WALError) {
        try refuseIfFull(path)
        try base.write(fd, bytes, at: offset, path: path)
    }

    private func refuseIfFull(_ path: String) throws(WALError) {
        guard full.withLock({ $0 }) else { return }
        throw WALError(.io, "cannot write: No space left on device", file: path, errno: ENOSPC)
    }
}
