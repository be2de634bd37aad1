import Foundation
import Hummingbird
import Meta
import MultiRaft
import NIOCore
import RaftCore
import Synchronization

/// The node's HTTP API (docs/store.md): ping, cluster, metrics, and — until the time-series store lands —
/// a replicated key-value test endpoint; plus a fault-injection hook for partition tests when enabled.
struct HTTPRoutes: Sendable {
    let node: FlotillaNode

    /// `healthy` (200) when the node's storage works and it confirmed, within two seconds, that its meta replica
    /// holds everything committed; `unavailable` (503) with the reason otherwise.
    func health() async throws -> Response {
        if let failure = await node.host.inspect({ $0.storageError }) {
            return json(
                ["version": flotillaVersion, "status": "unavailable", "reason": "storage failed: \(failure)"],
                status: .serviceUnavailable)
        }
        let coordinator = node.coordinator
        let metaReason: String? = await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            Task {
                do {
                    try await coordinator.awaitCurrentMeta()
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

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        // Ready, not only alive: healthy once the node can serve (its storage works and it holds the latest
        // metadata); otherwise 503 with the reason. `/api/v1/health` answers the same.
        router.get("/api/v1/ping") { _, _ in try await health() }
        router.get("/api/v1/health") { _, _ in try await health() }
        router.get("/api/v1/cluster") { request, _ in
            if let denied = authenticator.check(request, .any) { return denied }
            return try await cluster()
        }
        router.post("/api/v1/cluster/join") { request, _ in try await join(request) }
        router.get("/metrics") { request, _ in
            if let denied = authenticator.check(request, .any) { return denied }
            var bytes: [UInt8] = []
            node.registry.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        // MARK: key-value test endpoint
        router.put("/api/v1/kv/:key") { request, context in try await put(request, context) }
        router.post("/api/v1/kv/:key") { request, context in try await put(request, context) }
        router.get("/api/v1/kv/:key") { request, context in try await get(request, context) }
        addStoreRoutes(to: router)
        addInfluxRoutes(to: router)
        // MARK: fault injection
        router.post("/api/v1/debug/isolate") { request, _ in try await isolate(request) }
        return router
    }

    // MARK: - Handlers

    /// Who may do what (docs/store.md).
    var authenticator: Authenticator {
        Authenticator(
            enabled: node.options.authentication, rootPassword: node.options.rootPassword, meta: node.meta,
            credentials: node.verifiedCredentials)
    }

    private func put(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        if let denied = authenticator.check(request, .any) { return denied }
        let key = context.parameters.get("key") ?? ""
        var request = request
        let body = try await collect(&request)
        let group = kvGroup(for: key)
        do {
            _ = try await node.host.propose(KeyValueMachine.setCommand(key: key, value: body), to: group)
            return json(["group": group.rawValue])
        } catch let error as HostError {
            return failure(error)
        }
    }

    private func get(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        if let denied = authenticator.check(request, .any) { return denied }
        let key = context.parameters.get("key") ?? ""
        let stale = request.uri.queryParameters.get("consistency") == "stale"
        do {
            let value = try await node.host.read(kvGroup(for: key), linearizable: !stale) { machine in
                (machine as? KeyValueMachine)?.values[key]
            }
            guard let value else {
                return errorResponse(.notFound, code: "kv.not_found", message: "no key '\(key)'")
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: value)))
        } catch let error as HostError {
            return failure(error)
        }
    }

    private func isolate(_ request: Request) async throws -> Response {
        if let denied = authenticator.check(request, .admin) { return denied }
        guard node.options.faultInjection else {
            return errorResponse(
                .notFound, code: "debug.disabled",
                message: "fault injection is off; start the server with --fault-injection")
        }
        var request = request
        let text = String(decoding: try await collect(&request), as: UTF8.self)
        var peers: Set<NodeID> = []
        for item in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }) {
            guard let id = UInt64(item) else {
                return errorResponse(.badRequest, code: "debug.bad_peer", message: "'\(item)' is not a node id")
            }
            peers.insert(NodeID(id))
        }
        node.transport.isolate(from: peers)
        return json(["isolated": peers.sorted().map(\.rawValue)])
    }

    private func cluster() async throws -> Response {
        let (groups, live) = await node.host.inspect { view in (view.groups, view.livePeers) }
        let metaState = node.meta.current
        var nodeList: [[String: Any]] = []
        let ids = Set(node.identity.initialCluster.keys).union(metaState.nodes.keys)
        for id in ids.sorted() {
            var entry: [String: Any] = ["id": id]
            if let info = metaState.nodes[id] {
                entry["raft_addr"] = info.raftAddress
                entry["http_addr"] = info.httpAddress
            } else if let raft = node.identity.initialCluster[id] {
                entry["raft_addr"] = raft
            }
            entry["state"] = id == node.identity.nodeID ? "up" : (live.contains(NodeID(id)) ? "up" : "unreachable")
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
                group.group == NodeIdentity.metaGroup
                ? "meta" : group.group.rawValue >= NodeIdentity.kvGroupBase ? "kv" : "data"
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
            "node_id": node.identity.nodeID, "cluster_id": String(node.identity.clusterID), "nodes": nodeList,
            "groups": groupList,
        ])
    }

    // MARK: - Helpers

    private func kvGroup(for key: String) -> GroupID {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return NodeIdentity.kvGroup(Int(hash % UInt64(max(1, node.identity.kvGroups))))
    }

    private func collect(_ request: inout Request) async throws -> [UInt8] {
        let buffer = try await request.collectBody(upTo: node.options.maxBodyBytes)
        return Array(buffer.readableBytesView)
    }

    private func failure(_ error: HostError) -> Response {
        switch error {
        case .noLeader, .timeout, .shuttingDown:
            var response = errorResponse(.serviceUnavailable, code: "raft.unavailable", message: error.description)
            response.headers[.retryAfter] = "1"
            return response
        case .unknownGroup:
            return errorResponse(.notFound, code: "raft.unknown_group", message: error.description)
        case .rejected:
            return errorResponse(.badRequest, code: "raft.rejected", message: error.description)
        case .storageFailed:
            return error.isDiskFull
                ? errorResponse(.init(code: 507), code: "storage.full", message: error.description)
                : errorResponse(.serviceUnavailable, code: "storage.failed", message: error.description)
        case .damaged:
            return errorResponse(.internalServerError, code: "storage.damaged", message: error.description)
        }
    }
}

/// Resumes a continuation with the first of several answers; later ones are ignored.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = Mutex(continuation) }

    func resume(_ value: Value) { continuation.withLock { $0.take() }?.resume(returning: value) }
}

/// The version `ping` reports.
public let flotillaVersion = "0.3.0"

func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return Response(
        status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func errorResponse(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
    json(["error_code": code, "error_message": message], status: status)
}
