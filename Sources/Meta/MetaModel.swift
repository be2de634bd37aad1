/// Cluster metadata (docs/store.md, "Write path"): what the meta group replicates. Plain values, `Codable` for snapshots.

/// A node of the cluster.
public struct NodeInfo: Codable, Sendable, Equatable {
    public var id: UInt64
    public var raftAddress: String
    public var httpAddress: String
    /// Set by `DRAIN NODE`: no new vnode is placed here, and the drain moved every vnode away (`nil`: not
    /// draining; optional so that metadata written before the field existed still decodes).
    public var draining: Bool?

    public init(id: UInt64, raftAddress: String, httpAddress: String, draining: Bool? = nil) {
        self.id = id
        self.raftAddress = raftAddress
        self.httpAddress = httpAddress
        self.draining = draining
    }

    /// Whether new vnodes may be placed on this node.
    public var acceptsVnodes: Bool { draining != true }
}

/// Options of a database (`CREATE DATABASE ... WITH ...`).
public struct DatabaseOptions: Codable, Sendable, Equatable {
    /// Replica sets per bucket.
    public var shard: Int = 1
    /// Copies of each replica set.
    public var replica: Int = 1
    /// Bucket width in nanoseconds (default 365.25 days).
    public var vnodeDuration: Int64 = 31_557_600_000_000_000
    /// Time to live in nanoseconds; `nil` is infinite.
    public var ttl: Int64? = nil
    /// Timestamp unit of writes without `precision=`: "ns", "us" or "ms".
    public var precision: String = "ns"
    public init() {}
}

/// A vnode: one replica of a replica set, on one node (one Raft member).
public struct VnodeInfo: Codable, Sendable, Equatable {
    public var id: UInt64
    public var node: UInt64
    /// True for a vnode added to a running group (`REPLICA ADD`, `MOVE/COPY VNODE`): it starts empty and catches
    /// up from the leader. Founding vnodes (`nil`) start with the group's first entry, the founders' voter set.
    public var joined: Bool?
}

/// A membership change of a replica set that meta has recorded but the group may not have finished: whoever
/// leads meta drives it to completion after a crash (`PendingChange.Kind`).
public struct PendingChange: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Add the vnode on `node` as a learner, let it catch up, promote it.
        case add
        /// Take `node` out of the group, then drop its vnode.
        case remove
    }
    public var kind: Kind
    public var node: UInt64
    public init(kind: Kind, node: UInt64) {
        self.kind = kind
        self.node = node
    }
}

/// A replica set: one Raft group.
public struct ReplicaSetInfo: Codable, Sendable, Equatable {
    public var id: UInt64
    public var vnodes: [VnodeInfo]
    /// The last leader seen (a routing hint, not authoritative).
    public var leaderHint: UInt64?
    /// The nodes whose vnodes founded the group (its first entry); `nil` means the founding vnodes' nodes.
    public var founders: [UInt64]?
    /// A membership change in progress.
    public var pending: PendingChange?
    /// `REPLICA DESTROY` removed the set and its data; it keeps its slot in the bucket, so that the series
    /// hashed to the other slots stay where they are (`hash % SHARD` never changes for a bucket).
    public var destroyed: Bool?
    public var nodes: [UInt64] { vnodes.map(\.node) }
    /// False once destroyed.
    public var isLive: Bool { destroyed != true }
    /// The voters of the group's first entry, identical on every founder.
    public var foundingVoters: [UInt64] { founders ?? vnodes.filter { $0.joined != true }.map(\.node) }
}

/// Where a replica set sits in the metadata tree.
public struct ReplicaSetLocation: Sendable, Equatable {
    public var tenant: String
    public var database: String
    public var bucket: BucketInfo
    public var set: ReplicaSetInfo
}

/// A bucket: the time range `[start, end)` of a database, with its replica sets.
public struct BucketInfo: Codable, Sendable, Equatable {
    public var id: UInt64
    public var start: Int64
    public var end: Int64
    public var replicaSets: [ReplicaSetInfo]
}

/// A database of a tenant.
public struct DatabaseInfo: Codable, Sendable, Equatable {
    public var name: String
    public var options: DatabaseOptions
    public var buckets: [BucketInfo] = []
}

/// A tenant: a namespace of databases.
public struct TenantInfo: Codable, Sendable, Equatable {
    public var name: String
    public var databases: [String: DatabaseInfo] = [:]
}

/// A user and its grants (database → "read" | "write" | "all").
public struct UserInfo: Codable, Sendable, Equatable {
    public var name: String
    /// The stored password: `pbkdf2-sha256$rounds$salt$key`, or the legacy 64-hex SHA-256 of `user:password`.
    public var passwordHash: String
    public var isAdmin: Bool = false
    public var grants: [String: String] = [:]
}

/// The whole metadata state.
public struct MetaState: Codable, Sendable, Equatable {
    public var nodes: [UInt64: NodeInfo] = [:]
    public var tenants: [String: TenantInfo] = [
        "cnosdb": TenantInfo(
            name: "cnosdb", databases: ["public": DatabaseInfo(name: "public", options: DatabaseOptions())])
    ]
    public var users: [String: UserInfo] = [:]
    /// The first id handed out to buckets, replica sets and vnodes (lower ids are fixed groups, e.g. meta's).
    public static let firstID: UInt64 = 100
    /// The next id for buckets, replica sets and vnodes (cluster-unique, never reused).
    public var nextID: UInt64 = firstID
    public init() {}

    public func database(_ tenant: String, _ name: String) -> DatabaseInfo? { tenants[tenant]?.databases[name] }

    /// How many vnodes each node holds (placement spreads new ones evenly).
    public var vnodeCounts: [UInt64: Int] {
        var counts: [UInt64: Int] = [:]
        for id in nodes.keys { counts[id] = 0 }
        for tenant in tenants.values {
            for database in tenant.databases.values {
                for bucket in database.buckets {
                    for set in bucket.replicaSets { for vnode in set.vnodes { counts[vnode.node, default: 0] += 1 } }
                }
            }
        }
        return counts
    }

    /// Every replica set, with its tenant, database and bucket.
    public var allReplicaSets: [ReplicaSetLocation] {
        var result: [ReplicaSetLocation] = []
        for (name, tenant) in tenants.sorted(by: { $0.key < $1.key }) {
            for (dbName, database) in tenant.databases.sorted(by: { $0.key < $1.key }) {
                for bucket in database.buckets {
                    for set in bucket.replicaSets where set.isLive {
                        result.append(ReplicaSetLocation(tenant: name, database: dbName, bucket: bucket, set: set))
                    }
                }
            }
        }
        return result
    }

    /// The replica set `id`, if it exists.
    public func replicaSet(_ id: UInt64) -> ReplicaSetLocation? { allReplicaSets.first { $0.set.id == id } }

    /// Changes the replica set `id` in place; false if there is none.
    mutating func updateReplicaSet(_ id: UInt64, _ body: (inout ReplicaSetInfo) -> Void) -> Bool {
        for (t, tenant) in tenants {
            for (d, database) in tenant.databases {
                for (b, bucket) in database.buckets.enumerated() {
                    for (s, set) in bucket.replicaSets.enumerated() where set.id == id && set.isLive {
                        body(&tenants[t]!.databases[d]!.buckets[b].replicaSets[s])
                        return true
                    }
                }
            }
        }
        return false
    }

    /// Every replica set with a vnode on `node`.
    public func replicaSets(on node: UInt64) -> [ReplicaSetInfo] {
        var result: [ReplicaSetInfo] = []
        for tenant in tenants.values {
            for database in tenant.databases.values {
                for bucket in database.buckets {
                    for set in bucket.replicaSets where set.nodes.contains(node) { result.append(set) }
                }
            }
        }
        return result
    }
}
