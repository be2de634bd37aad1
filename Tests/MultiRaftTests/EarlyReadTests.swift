import Dispatch
import Foundation
import RaftCore
import RaftTransport
import Synchronization
import Testing

@testable import MultiRaft

@Suite("Reads released at once are served at once")
struct EarlyReadTests {
    @Test(
        "a linearizable read the leader releases at once is answered while the round still waits for its fsync",
        .timeLimit(.minutes(1)))
    func releasedReadDoesNotWaitForTheRoundsFsync() throws {
        let node = NodeID(1)
        let (writes, reads) = (GroupID(1), GroupID(2))
        let environment = InstrumentedEnvironment()
        var settings = HostSettings(nodeID: node, dataDirectory: NSTemporaryDirectory() + "flotilla-read-\(UUID())")
        settings.fsync = .always
        defer { try? FileManager.default.removeItem(atPath: settings.dataDirectory) }
        let host = MultiRaftHost(
            settings: settings, transport: LocalNetwork().transport(for: node), peers: [node],
            stateMachine: { _ in KeyValueMachine() }, environment: environment)
        try host.start(founding: [writes: [node], reads: [node]], loop: .driven)
        defer { host.shutdown() }
        let answers = Mutex<[String: String]>([:])
        func propose(_ key: String, to group: GroupID) {
            host.enqueue(
                .propose(
                    group, command: KeyValueMachine.setCommand(key: key, value: Array("v".utf8)),
                    timeoutNanoseconds: 10_000_000_000,
                    complete: { result in answers.withLock { $0[key] = (try? result.get()) != nil ? "ok" : "failed" } })
            )
        }
        propose("before", to: reads)
        for _ in 0..<100 where answers.withLock({ $0["before"] }) == nil { host.runRound() }
        #expect(answers.withLock { $0["before"] } == "ok")

        // One round takes a write to one group (its WAL append waits in the fsync) and a read of the other.
        environment.gatedFileSystem.hold()
        propose("during", to: writes)
        host.enqueue(
            .read(
                reads, linearizable: true, timeoutNanoseconds: 10_000_000_000,
                run: { machine in
                    let value = (machine as? KeyValueMachine)?.values["before"].map {
                        String(decoding: $0, as: UTF8.self)
                    }
                    answers.withLock { $0["read"] = value ?? "missing" }
                },
                fail: { error in answers.withLock { $0["read"] = "failed: \(error)" } }))
        let roundDone = DispatchSemaphore(value: 0)
        Thread {
            host.runRound()
            roundDone.signal()
        }.start()
        environment.gatedFileSystem.waitForHeldSync()
        let readDuringFsync = answers.withLock { $0["read"] }
        environment.gatedFileSystem.release()
        roundDone.wait()
        #expect(readDuringFsync == "v", "the read was answered before the round's fsync returned")
        for _ in 0..<100 where answers.withLock({ $0["during"] }) == nil { host.runRound() }
        #expect(answers.withLock { $0["during"] } == "ok")
    }
}
