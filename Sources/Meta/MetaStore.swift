import Foundation
import MultiRaft
import RaftCore

/// The meta group's state machine: applies `MetaCommand`s (JSON in the log) to a `MetaState`.
///
/// Every node that hosts a meta replica keeps this state current by applying the log; readers on other threads
/// get a copy through `current` (a lock-protected value). After each change, `onChange` runs on the host's loop
/// thread with the new state: the node uses it to create the Raft groups of its vnodes.
public final class MetaStore: StateMachine, @unchecked Sendable {
    // @unchecked: `state` is written only by the host's loop thread (apply/restore) and read through `current`
    // under `lock`; `onChange` is set once before the host starts.
    private var state = MetaState()
    private let lock = NSLock()
    /// Runs after each applied command with the states before and after it, and after a snapshot is restored
    /// (with no previous state: a restore must not be read as the removal of whatever it lacks).
    public var onChange:
        ((_ command: MetaCommand?, _ index: LogIndex, _ before: MetaState?, _ after: MetaState) -> Void)?

    public init() {}

    /// A copy of the current state, for any thread.
    public var current: MetaState {
        lock.lock()
        defer { lock.unlock() }
        return state
    }

    public static func encode(_ command: MetaCommand) -> [UInt8] {
        Array((try? JSONEncoder().encode(command)) ?? Data())
    }

    public static func decodeResult(_ bytes: [UInt8]) -> MetaResult {
        (try? JSONDecoder().decode(MetaResult.self, from: Data(bytes))) ?? .success
    }

    public func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        guard let decoded = try? JSONDecoder().decode(MetaCommand.self, from: Data(command)) else {
            return Self.encodeResult(.failure(.invalid, "meta.malformed", "undecodable meta command at index \(index)"))
        }
        lock.lock()
        let before = state
        let result = Self.apply(decoded, to: &state)
        let after = state
        lock.unlock()
        onChange?(decoded, index, before, after)
        return Self.encodeResult(result)
    }

    static func encodeResult(_ result: MetaResult) -> [UInt8] { Array((try? JSONEncoder().encode(result)) ?? Data()) }

    /// The deterministic transition function.
    static func apply(_ command: MetaCommand, to state: inout MetaState) -> MetaResult {
        switch command {
        case .registerNode(var node):
            node.draining = state.nodes[node.id]?.draining
            state.nodes[node.id] = node
        case .setDraining(let id, let draining):
            guard state.nodes[id] != nil else {
                return .failure(.notFound, "meta.node_not_found", "node \(id) is not a node of this cluster")
            }
            state.nodes[id]!.draining = draining ? true : nil
        case .createTenant(let name, let ifNotExists):
            if state.tenants[name] != nil {
                return ifNotExists ? .success : .failure(.exists, "meta.tenant_exists", "tenant '\(name)' already exists")
            }
            state.tenants[name] = TenantInfo(name: name)
        case .dropTenant(let name):
            guard state.tenants.removeValue(forKey: name) != nil else {
                return .failure(.notFound, "meta.tenant_not_found", "tenant '\(name)' does not exist")
            }
        case .createDatabase(let tenant, let name, let options, let ifNotExists):
            guard state.tenants[tenant] != nil else {
                return .failure(.notFound, "meta.tenant_not_found", "tenant '\(tenant)' does not exist")
            }
            if state.tenants[tenant]!.databases[name] != nil {
                return ifNotExists
                    ? .success
                    : .failure(.exists, "meta.database_exists", "database '\(name)' already exists in tenant '\(tenant)'")
            }
            state.tenants[tenant]!.databases[name] = DatabaseInfo(name: name, options: options)
        case .alterDatabase(let tenant, let name, let options):
            guard state.tenants[tenant]?.databases[name] != nil else {
                return .failure(.notFound, "meta.database_not_found", "database '\(name)' does not exist in tenant '\(tenant)'")
            }
            state.tenants[tenant]!.databases[name]!.options = options
        case .dropDatabase(let tenant, let name):
            guard state.tenants[tenant]?.databases.removeValue(forKey: name) != nil else {
                return .failure(.notFound, "meta.database_not_found", "database '\(name)' does not exist in tenant '\(tenant)'")
            }
        case .createBucket(let tenant, let database, let start, let end, let placement):
            guard var info = state.tenants[tenant]?.databases[database] else {
                return .failure(
                    .notFound, "meta.database_not_found", "database '\(database)' does not exist in tenant '\(tenant)'")
            }
            if info.buckets.contains(where: { $0.start <= start && start < $0.end }) { return .success }
            // Buckets never overlap (a point belongs to one bucket): a range proposed from an older view, or
            // after VNODE_DURATION changed, ends where the next bucket starts.
            let end = info.buckets.lazy.map(\.start).filter { $0 > start }.min().map { min($0, end) } ?? end
            guard start < end else { return .success }
            var sets: [ReplicaSetInfo] = []
            let bucketID = state.nextID
            state.nextID += 1
            for nodes in placement {
                let setID = state.nextID
                state.nextID += 1
                var vnodes: [VnodeInfo] = []
                for node in nodes {
                    vnodes.append(VnodeInfo(id: state.nextID, node: node))
                    state.nextID += 1
                }
                sets.append(ReplicaSetInfo(id: setID, vnodes: vnodes, leaderHint: nil))
            }
            info.buckets.append(BucketInfo(id: bucketID, start: start, end: end, replicaSets: sets))
            info.buckets.sort { $0.start < $1.start }
            state.tenants[tenant]!.databases[database] = info
        case .createUser(let name, let hash, let ifNotExists):
            if state.users[name] != nil {
                return ifNotExists ? .success : .failure(.exists, "meta.user_exists", "user '\(name)' already exists")
            }
            state.users[name] = UserInfo(name: name, passwordHash: hash)
        case .dropUser(let name):
            guard state.users.removeValue(forKey: name) != nil else {
                return .failure(.notFound, "meta.user_not_found", "user '\(name)' does not exist")
            }
        case .grant(let user, let database, let privilege):
            guard state.users[user] != nil else {
                return .failure(.notFound, "meta.user_not_found", "user '\(user)' does not exist")
            }
            state.users[user]!.grants[database] = privilege
        case .revoke(let user, let database):
            guard state.users[user] != nil else {
                return .failure(.notFound, "meta.user_not_found", "user '\(user)' does not exist")
            }
            state.users[user]!.grants[database] = nil
        case .leaderHint(let setID, let node):
            _ = state.updateReplicaSet(setID) { $0.leaderHint = node }
        case .leaderHints(let hints):
            for (t, tenant) in state.tenants {
                for (d, database) in tenant.databases {
                    for (b, bucket) in database.buckets.enumerated() {
                        for (s, set) in bucket.replicaSets.enumerated() {
                            if let node = hints[set.id] {
                                state.tenants[t]!.databases[d]!.buckets[b].replicaSets[s].leaderHint = node
                            }
                        }
                    }
                }
            }
        default:
            return applyReplicaCommand(command, to: &state)
        }
        return .success
    }

    public func snapshot() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array((try? encoder.encode(current)) ?? Data())
    }

    public func restore(_ data: [UInt8]) throws {
        let restored = try JSONDecoder().decode(MetaState.self, from: Data(data))
        lock.lock()
        state = restored
        lock.unlock()
        onChange?(nil, .zero, nil, restored)
    }

    public var checksum: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in snapshot() {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
