import Foundation
import Hummingbird
import Meta
import MultiRaft
import NIOCore
import RaftCore
import Synchronization

/// The node's HTTP API (docs/store.md): ping and health, cluster, metrics, the store's writes and SQL, InfluxDB's
/// endpoints, a replicated key-value test endpoint, and a fault-injection hook for partition tests when enabled.
///
/// Ping and health are open; every other route sits behind `AuthenticationMiddleware` and states what it needs
/// of its caller. Failures are thrown as `APIError`, the one mapping from typed errors to responses.
public struct HTTPRoutes: Sendable {
    let node: any HTTPNode

    public init(node: any HTTPNode) { self.node = node }

    /// Every route of the API.
    public func router() -> Router<FlotillaRequestContext> {
        let router = Router(context: FlotillaRequestContext.self)
        // MARK: open: ping and health
        // Ready, not only alive: healthy once the node can serve (its storage works and it holds the latest
        // metadata); otherwise 503 with the reason. `/api/v1/health` answers the same.
        router.get("/api/v1/ping") { _, _ in await health() }
        router.get("/api/v1/health") { _, _ in await health() }
        addOpenInfluxRoutes(to: router)

        let guarded = router.group().add(middleware: AuthenticationMiddleware(authenticator: authenticator))
        // MARK: cluster and metrics
        guarded.get("/api/v1/cluster") { _, context in
            try context.authorize(.any)
            return await cluster()
        }
        guarded.post("/api/v1/cluster/join") { request, context in try await join(request, context) }
        guarded.get("/metrics") { _, context in
            try context.authorize(.any)
            var bytes: [UInt8] = []
            node.emitMetrics(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        // MARK: key-value test endpoint
        guarded.put("/api/v1/kv/:key") { request, context in try await put(request, context) }
        guarded.post("/api/v1/kv/:key") { request, context in try await put(request, context) }
        guarded.get("/api/v1/kv/:key") { request, context in try await get(request, context) }
        addStoreRoutes(to: guarded)
        addInfluxRoutes(to: guarded)
        // MARK: fault injection
        guarded.post("/api/v1/debug/isolate") { request, context in try await isolate(request, context) }
        return router
    }

    /// Who may do what (docs/store.md, "Authentication").
    var authenticator: Authenticator {
        Authenticator(
            enabled: node.settings.authentication, rootPassword: node.settings.rootPassword, meta: node.meta,
            credentials: node.credentials)
    }

    // MARK: - Health

    /// `healthy` (200) when the node's storage works and it confirmed, within two seconds, that its meta replica
    /// holds everything committed; `unavailable` (503) with the reason otherwise.
    func health() async -> Response {
        if let failure = await node.storageFailure() {
            return json(
                ["version": flotillaVersion, "status": "unavailable", "reason": "storage failed: \(failure)"],
                status: .serviceUnavailable)
        }
        let node = node
        let metaReason: String? = await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            Task {
                do {
                    try await node.awaitCurrentMeta()
                    once.resume(nil)
                } catch {
                    once.resume("\(error)")
                }
            }
            Task {
                try? await Task.sleep(for: .seconds(2))
                once.resume("no meta read index confirmed within 2 s (no meta leader reachable, or still replaying)")
            }
        }
        if let metaReason {
            return json(
                ["version": flotillaVersion, "status": "unavailable", "reason": metaReason],
                status: .serviceUnavailable)
        }
        return json(["version": flotillaVersion, "status": "healthy"])
    }

    // MARK: - Key-value test endpoint

    private func put(_ request: Request, _ context: FlotillaRequestContext) async throws -> Response {
        try context.authorize(.any)
        let key = context.parameters.get("key") ?? ""
        let body = try await collect(request)
        let group = kvGroup(for: key)
        do {
            _ = try await node.propose(KeyValueMachine.setCommand(key: key, value: body), to: group)
        } catch let error as HostError {
            throw APIError(error)
        }
        return json(["group": group.rawValue])
    }

    private func get(_ request: Request, _ context: FlotillaRequestContext) async throws -> Response {
        try context.authorize(.any)
        let key = context.parameters.get("key") ?? ""
        let stale = request.uri.queryParameters.get("consistency") == "stale"
        let value: [UInt8]?
        do {
            value = try await node.read(kvGroup(for: key), linearizable: !stale) { machine in
                (machine as? KeyValueMachine)?.values[key]
            }
        } catch let error as HostError {
            throw APIError(error)
        }
        guard let value else { throw APIError(.notFound, code: "kv.not_found", message: "no key '\(key)'") }
        return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: value)))
    }

    // MARK: - Fault injection

    private func isolate(_ request: Request, _ context: FlotillaRequestContext) async throws -> Response {
        try context.authorize(.admin)
        guard node.settings.faultInjection else {
            throw APIError(
                .notFound, code: "debug.disabled",
                message: "fault injection is off; start the server with --fault-injection")
        }
        let text = String(decoding: try await collect(request), as: UTF8.self)
        var peers: Set<NodeID> = []
        for item in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }) {
            guard let id = UInt64(item) else {
                throw APIError(.badRequest, code: "debug.bad_peer", message: "'\(item)' is not a node id")
            }
            peers.insert(NodeID(id))
        }
        node.isolate(from: peers)
        return json(["isolated": peers.sorted().map(\.rawValue)])
    }

    // MARK: - Cluster

    private func cluster() async -> Response {
        let (groups, live) = await node.hostedGroups()
        let facts = node.facts
        let metaState = node.meta.current
        var nodeList: [[String: Any]] = []
        let ids = Set(facts.initialCluster.keys).union(metaState.nodes.keys)
        for id in ids.sorted() {
            var entry: [String: Any] = ["id": id]
            if let info = metaState.nodes[id] {
                entry["raft_addr"] = info.raftAddress
                entry["http_addr"] = info.httpAddress
            } else if let raft = facts.initialCluster[id] {
                entry["raft_addr"] = raft
            }
            entry["state"] = id == facts.nodeID ? "up" : (live.contains(NodeID(id)) ? "up" : "unreachable")
            nodeList.append(entry)
        }
        var buckets: [UInt64: (String, BucketInfo)] = [:]
        for (tenantName, tenant) in metaState.tenants {
            for (name, database) in tenant.databases {
                for bucket in database.buckets {
                    for set in bucket.replicaSets { buckets[set.id] = ("\(tenantName).\(name)", bucket) }
                }
            }
        }
        let groupList: [[String: Any]] = groups.map { group in
            var members: [[String: Any]] = group.voters.map { ["node": $0.rawValue, "role": "voter"] }
            members += group.learners.map { ["node": $0.rawValue, "role": "learner"] }
            let kind =
                group.group == facts.metaGroup
                ? "meta" : group.group.rawValue >= facts.keyValueGroupBase ? "kv" : "data"
            let owner = buckets[group.group.rawValue]
            return [
                "id": group.group.rawValue, "kind": kind, "database": owner.map { $0.0 as Any } ?? NSNull(),
                "bucket_start": owner.map { $0.1.start as Any } ?? NSNull(),
                "bucket_end": owner.map { $0.1.end as Any } ?? NSNull(),
                "role": group.role.rawValue, "leader": group.leader.map { $0.rawValue as Any } ?? NSNull(),
                "term": group.term.rawValue, "commit": group.commit.rawValue, "applied": group.applied.rawValue,
                "last_index": group.lastIndex.rawValue, "members": members, "quiet": group.quiet,
                "checksum": group.checksum.map { String($0, radix: 16) as Any } ?? NSNull(),
            ]
        }
        return json([
            "node_id": facts.nodeID, "cluster_id": String(facts.clusterID), "nodes": nodeList, "groups": groupList,
        ])
    }

    // MARK: - Helpers

    private func kvGroup(for key: String) -> GroupID {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return GroupID(node.facts.keyValueGroupBase + hash % UInt64(max(1, node.facts.kvGroups)))
    }

    /// The raw body up to the limit, not inflated (the key-value and fault-injection endpoints). Over the limit,
    /// Hummingbird answers a bare 413.
    private func collect(_ request: Request) async throws -> [UInt8] {
        var request = request
        let buffer = try await request.collectBody(upTo: node.settings.maxBodyBytes)
        return Array(buffer.readableBytesView)
    }
}

/// Resumes a continuation with the first of several answers; later ones are ignored.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = Mutex(continuation) }

    func resume(_ value: Value) { continuation.withLock { $0.take() }?.resume(returning: value) }
}
