import Coordinator
import Foundation
import LineProtocol
import Logging
import Meta
import MultiRaft
import Query
import RaftCore
import RaftTransport
import Synchronization

@testable import FlotillaHTTP

/// A node for the route tests: its answers are set up front and the writes it took are recorded. Its
/// `coordinator` sits on a host that never starts, so the tests stay clear of the routes that run queries
/// (the end-to-end tests cover those); a test that reached it would hang until its time limit.
struct FakeNode: HTTPNode {
    var facts = NodeFacts(
        nodeID: 1, clusterID: 42, initialCluster: [1: "127.0.0.1:8903"], kvGroups: 1, metaGroup: GroupID(1),
        keyValueGroupBase: 1 << 40)
    var settings = HTTPSettings()
    let meta = MetaStore()
    var writeAdmission = WriteAdmission(maxRequests: 4, maxBytes: 1 << 20, wait: .milliseconds(50))
    let credentials = VerifiedCredentials()
    let logger = Logger(label: "flotilla.http.test")
    let coordinator: Coordinator

    /// What `storageFailure()` answers.
    var storage: String?
    /// What `awaitCurrentMeta()` throws, if anything.
    var metaFailure: CoordinatorError?
    /// What `write` throws, if anything.
    var writeFailure: CoordinatorError?
    /// What `propose` and `read` throw, if anything.
    var hostFailure: HostError?
    /// The value `read` finds for any key.
    var storedValue: [UInt8]?
    /// Bodies `write` was given.
    let writes = Recorder<[UInt8]>()
    /// Peer sets `isolate` was given.
    let isolations = Recorder<Set<NodeID>>()

    init() {
        let host = MultiRaftHost(
            settings: HostSettings(nodeID: NodeID(1), dataDirectory: "/nonexistent"),
            transport: LocalNetwork().transport(for: NodeID(1)), peers: [], stateMachine: { _ in KeyValueMachine() })
        coordinator = Coordinator(host: host, meta: meta, nodeID: 1, metaGroup: GroupID(1), metaNodes: [1])
    }

    /// Applies meta commands as the meta group would.
    func apply(_ commands: MetaCommand...) {
        for (i, command) in commands.enumerated() {
            let result = MetaStore.decodeResult(meta.apply(MetaStore.encode(command)[...], at: LogIndex(UInt64(i + 1))))
            precondition(result == .success, "\(command): \(result)")
        }
    }

    func storageFailure() async -> String? { storage }

    func awaitCurrentMeta() async throws(CoordinatorError) {
        if let metaFailure { throw metaFailure }
    }

    func write(tenant: String, database: String, precision: Precision?, body: [UInt8]) async throws(CoordinatorError) {
        writes.append(body)
        if let writeFailure { throw writeFailure }
    }

    func registerJoiningNode(_ info: NodeInfo) async throws(CoordinatorError) {}

    func hostedGroups() async -> (groups: [GroupSummary], livePeers: Set<NodeID>) { ([], []) }

    func propose(_ command: [UInt8], to group: GroupID) async throws -> [UInt8] {
        if let hostFailure { throw hostFailure }
        return []
    }

    func read<T: Sendable>(
        _ group: GroupID, linearizable: Bool, _ body: @escaping @Sendable (any StateMachine) -> T
    ) async throws -> T {
        if let hostFailure { throw hostFailure }
        let machine = KeyValueMachine()
        if let storedValue {
            _ = machine.apply(KeyValueMachine.setCommand(key: "k", value: storedValue)[...], at: LogIndex(1))
        }
        return body(machine)
    }

    func isolate(from peers: Set<NodeID>) { isolations.append(peers) }

    func emitMetrics(into bytes: inout [UInt8]) { bytes += Array("flotilla_test_metric 1\n".utf8) }
}

/// Values appended from request handlers, read by the test.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }

    var all: [Value] { values.withLock { $0 } }
}
