/// Cluster metadata (PRODUCT.md §1): what the meta group replicates. Plain values, `Codable` for snapshots.

/// A node of the cluster.
public struct NodeInfo: Codable, Sendable, Equatable {
    public var id: UInt64
    public var raftAddress: String
    public var httpAddress: String

    public init(id: UInt64, raftAddress: String, httpAddress: String) {
        self.id = id
        self.raftAddress = raftAddress
        self.httpAddress = httpAddress
    }
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
}

/// A replica set: one Raft group.
public struct ReplicaSetInfo: Codable, Sendable, Equatable {
    public var id: UInt64
    public var vnodes: [VnodeInfo]
    /// The last leader seen (a routing hint, not authoritative).
    public var leaderHint: UInt64?
    public var nodes: [UInt64] { vnodes.map(\.node) }
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
    /// SHA-256 hex of the password, salted with the user name.
    public var passwordHash: String
    public var isAdmin: Bool = false
    public var grants: [String: String] = [:]
}

/// The whole metadata state.
public struct MetaState: Codable, Sendable, Equatable {
    public var nodes: [UInt64: NodeInfo] = [:]
    public var tenants: [String: TenantInfo] = ["cnosdb": TenantInfo(name: "cnosdb", databases: ["public": DatabaseInfo(name: "public", options: DatabaseOptions())])]
    public var users: [String: UserInfo] = [:]
    /// The next id for buckets, replica sets and vnodes (cluster-unique).
    public var nextID: UInt64 = 100
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
