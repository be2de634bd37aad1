import Foundation
import MultiRaft
import RaftCore
import RaftTransport
import RaftWire

/// Test support: N multi-Raft hosts in one process on a `LocalNetwork`, each with its own data directory.
final class HostCluster {
    let network = LocalNetwork()
    let root: String
    let ids: [NodeID]
    var hosts: [NodeID: MultiRaftHost] = [:]
    var founding: [GroupID: Set<NodeID>]
    var configure: (inout HostSettings) -> Void
    /// Whether the groups' key-value machines take the host's background snapshot path.
    let backgroundSnapshots: Bool
    /// Whether the machines are wrapped in a `DeduplicatingMachine` (client requests applied once).
    let deduplicate: Bool
    /// Installed as every host's read handler (forwarded reads).
    var readHandler: (@Sendable (any StateMachine, [UInt8]) -> ReadWork)?

    /// `voters`: how many of the nodes found the groups (all by default); the others start without them.
    init(
        nodes: Int, groups: [GroupID], voters: Int? = nil, backgroundSnapshots: Bool = false,
        deduplicate: Bool = false, configure: @escaping (inout HostSettings) -> Void = { _ in }
    ) throws {
        self.backgroundSnapshots = backgroundSnapshots
        self.deduplicate = deduplicate
        root = NSTemporaryDirectory() + "flotilla-host-\(UUID().uuidString)"
        let ids = (1...nodes).map { NodeID(UInt64($0)) }
        self.ids = ids
        founding = Dictionary(uniqueKeysWithValues: groups.map { ($0, Set(ids.prefix(voters ?? nodes))) })
        self.configure = configure
        for id in ids { try start(id) }
    }

    /// Starts node `id`; `prepare` sees its host before it starts (to set test hooks).
    func start(_ id: NodeID, prepare: (MultiRaftHost) -> Void = { _ in }) throws {
        var settings = HostSettings(nodeID: id, dataDirectory: "\(root)/node\(id)")
        settings.tickMilliseconds = 10
        settings.fsync = .off
        configure(&settings)
        let host = MultiRaftHost(
            settings: settings, transport: network.transport(for: id), peers: Set(ids),
            stateMachine: { [backgroundSnapshots, deduplicate] _ in
                let machine = KeyValueMachine(snapshotsInBackground: backgroundSnapshots)
                return deduplicate ? DeduplicatingMachine(machine) : machine
            })
        host.readHandler = readHandler
        prepare(host)
        try host.start(founding: founding)
        hosts[id] = host
    }

    func stop(_ id: NodeID) {
        hosts.removeValue(forKey: id)?.shutdown()
    }

    /// Retries `put` until it succeeds or `attempts` run out (elections take a few hundred milliseconds).
    func put(_ key: String, _ value: String, group: GroupID, via id: NodeID, attempts: Int = 50) async throws {
        var lastError: (any Error)?
        for _ in 0..<attempts {
            do {
                _ = try await hosts[id]!.propose(
                    KeyValueMachine.setCommand(key: key, value: Array(value.utf8)), to: group, timeoutMilliseconds: 500)
                return
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    func get(_ key: String, group: GroupID, via id: NodeID, linearizable: Bool = true) async throws -> String? {
        try await hosts[id]!.read(group, linearizable: linearizable, timeoutMilliseconds: 2_000) { machine in
            (machine.unwrapped as? KeyValueMachine)?.values[key].map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Runs a membership or leadership operation through `id`, following leader hints (and waiting out
    /// elections) until it completes.
    func administer(_ operation: AdminOperation, group: GroupID, via id: NodeID, attempts: Int = 50) async throws {
        var target = id
        var lastError: (any Error)?
        for _ in 0..<attempts {
            do {
                try await hosts[id]!.administer(operation, group: group, via: target, timeoutMilliseconds: 5_000)
                return
            } catch HostError.noLeader(_, let hint) {
                lastError = HostError.noLeader(group, leaderHint: hint)
                if let hint { target = hint } else { try await Task.sleep(for: .milliseconds(20)) }
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        throw lastError!
    }

    func summaries(_ id: NodeID) async -> [GroupSummary] { await hosts[id]!.inspect { $0.groups } }

    /// Cuts `node` off from every other node, both ways; returns the others.
    @discardableResult
    func cutOff(_ node: NodeID) -> [NodeID] {
        let others = ids.filter { $0 != node }
        network.transport(forExisting: node).isolate(from: Set(others))
        for id in others { network.transport(forExisting: id).isolate(from: [node]) }
        return others
    }

    /// Undoes every `cutOff`.
    func heal() {
        for id in ids { network.transport(forExisting: id).isolate(from: []) }
    }

    func shutdown() {
        for id in Array(hosts.keys) { stop(id) }
        try? FileManager.default.removeItem(atPath: root)
    }
}
