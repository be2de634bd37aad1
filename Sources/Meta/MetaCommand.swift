/// A change to the metadata, as written to the meta group's log. Placement decisions travel inside the command
/// (the proposer computed them from its view); applying a command is deterministic.
public enum MetaCommand: Codable, Sendable, Equatable {
    /// Records a node's addresses (a founder at start, a node joining with `--join`); keeps its draining flag.
    case registerNode(NodeInfo)
    /// Marks a node as draining (no new vnodes go there) or takes the mark back.
    case setDraining(node: UInt64, draining: Bool)
    case createTenant(name: String, ifNotExists: Bool)
    case dropTenant(name: String)
    case createDatabase(tenant: String, name: String, options: DatabaseOptions, ifNotExists: Bool)
    case alterDatabase(tenant: String, name: String, options: DatabaseOptions)
    case dropDatabase(tenant: String, name: String)
    /// A bucket of `[start, end)` with one node list per replica set. Ignored if a bucket holds `start` already;
    /// shortened to end where the next bucket starts (buckets never overlap).
    case createBucket(tenant: String, database: String, start: Int64, end: Int64, placement: [[UInt64]])
    case createUser(name: String, passwordHash: String, ifNotExists: Bool)
    case dropUser(name: String)
    case grant(user: String, database: String, privilege: String)
    case revoke(user: String, database: String)
    case leaderHint(replicaSet: UInt64, node: UInt64)
    /// Leader hints of many replica sets at once (replica set id → node), as elections are reported.
    case leaderHints([UInt64: UInt64])
    /// A new vnode on `node` joins the replica set (records a pending `add` change).
    case addVnode(replicaSet: UInt64, node: UInt64)
    /// The vnode on `node` leaves the replica set (after the group removed it); clears the pending change.
    case removeVnode(replicaSet: UInt64, node: UInt64)
    /// Records (or with `nil` clears) the replica set's membership change in progress.
    case setPending(replicaSet: UInt64, change: PendingChange?)
    /// Drops the replica set and its data; a bucket left without replica sets goes too.
    case destroyReplicaSet(UInt64)
    /// Drops a whole bucket (its time range expired past the database's TTL).
    case dropBucket(tenant: String, database: String, bucket: UInt64)
}

/// What applying a command answered: success, or an error with a stable code.
public struct MetaResult: Codable, Sendable, Equatable {
    /// Why a command was refused, as a kind that callers map to their own errors (HTTP statuses at the edge).
    public enum Failure: String, Codable, Sendable {
        /// What the command names is not there (tenant, database, user, node, replica set).
        case notFound
        /// What it creates is there already.
        case exists
        /// The state does not allow it now (a replica change pending, the last replica).
        case conflict
        /// The command cannot be applied at all (undecodable, unknown).
        case invalid
    }

    public var ok: Bool
    public var code: String
    public var message: String
    /// Set when `ok` is false. Answers from a node that predates it have none: `failureKind` then reads the kind
    /// from the code's suffix, as such nodes' callers did.
    public var failure: Failure?

    public static let success = MetaResult(ok: true, code: "", message: "")
    public static func failure(_ kind: Failure, _ code: String, _ message: String) -> MetaResult {
        MetaResult(ok: false, code: code, message: message, failure: kind)
    }

    /// The kind of a refusal (nil when `ok`).
    public var failureKind: Failure? {
        guard !ok else { return nil }
        if let failure { return failure }
        if code.hasSuffix("not_found") { return .notFound }
        if code.hasSuffix("exists") { return .exists }
        return code == "meta.change_pending" ? .conflict : .invalid
    }
}
