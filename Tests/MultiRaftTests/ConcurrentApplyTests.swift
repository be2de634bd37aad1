import Foundation
import RaftCore
import RaftStorage
import RaftTransport
import Synchronization
import Testing

@testable import MultiRaft

/// A machine that records the indexes it applied, in order, and answers each command with the command itself.
private final class RecordingMachine: StateMachine, @unchecked Sendable {
    let appliesConcurrently: Bool
    var applied: [UInt64] = []

    init(concurrent: Bool) { appliesConcurrently = concurrent }

    func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        applied.append(index.rawValue)
        return Array(command)
    }
    func snapshot() -> [UInt8] { [] }
    func restore(_ data: [UInt8]) throws {}
    var checksum: UInt64 { UInt64(applied.count) }
}

@Suite("Committed entries of several groups apply at once")
struct ConcurrentApplyTests {
    @Test(
        "groups whose machines allow it apply on other threads at once, each in log order, every proposer answered with its own result",
        .timeLimit(.minutes(1)))
    func groupsApplyConcurrently() throws {
        let node = NodeID(1)
        let groups = (1...8).map { GroupID(UInt64($0)) }
        let serialGroup = GroupID(8)
        let machines = Mutex<[GroupID: RecordingMachine]>([:])
        let environment = InstrumentedEnvironment()
        var settings = HostSettings(nodeID: node, dataDirectory: NSTemporaryDirectory() + "flotilla-apply-\(UUID())")
        settings.fsync = .off
        defer { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
        let host = MultiRaftHost(
            settings: settings, transport: LocalNetwork().transport(for: node), peers: [node],
            stateMachine: { group in
                let machine = RecordingMachine(concurrent: group != serialGroup)
                machines.withLock { $0[group] = machine }
                return machine
            }, environment: environment)
        try host.start(founding: Dictionary(uniqueKeysWithValues: groups.map { ($0, [node]) }), loop: .driven)
        defer { host.shutdown() }
        for _ in 0..<100 where !groups.allSatisfy({ host.slots[$0]?.node.role == .leader }) { host.runRound() }
        #expect(groups.allSatisfy { host.slots[$0]?.node.role == .leader })

        // Every proposal is queued before the round that takes them all in.
        let perGroup = 20
        let answers = Mutex<[[UInt8]: [UInt8]]>([:])
        for group in groups {
            for k in 0..<perGroup {
                let command: [UInt8] = [UInt8(group.rawValue), UInt8(k)]
                host.enqueue(
                    .propose(
                        group, command: command, timeoutNanoseconds: 10_000_000_000,
                        complete: { result in answers.withLock { $0[command] = try? result.get() } }))
            }
        }
        let total = groups.count * perGroup
        for _ in 0..<100 where answers.withLock({ $0.count }) < total { host.runRound() }

        let answered = answers.withLock { $0 }
        #expect(answered.count == total)
        #expect(answered.allSatisfy { command, result in result == command }, "each proposer gets its own result")
        #expect(environment.largestCount.withLock { $0 } == groups.count - 1, "every group but the serial one at once")
        for (group, machine) in machines.withLock({ $0 }) {
            let applied = machine.applied
            #expect(applied.count >= perGroup, "group \(group) applied its commands")
            #expect(zip(applied, applied.dropFirst()).allSatisfy { $0 < $1 }, "group \(group) applied in log order")
        }
    }
}
