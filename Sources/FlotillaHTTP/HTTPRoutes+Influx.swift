import Coordinator
import Foundation
import Hummingbird
import LineProtocol
import Meta
import NIOCore
import Query
import SQL

/// InfluxDB's own endpoints (docs/influxql.md): 1.x `/ping`, `/health` and `/query` (InfluxQL), 2.x
/// `/api/v2/health`, `/api/v2/buckets` and `/api/v2/orgs` (a bucket is a database, an org a tenant), and a 501 for
/// Flux. Writes (`/write`, `/api/v2/write`) are in `HTTPRoutes+Store`.
extension HTTPRoutes {
    /// The InfluxDB version clients are told they speak to: the 1.x API this node answers.
    static let influxCompatibleVersion = "1.8.10"

    /// The endpoints InfluxDB answers without credentials: ping, health, and Flux's 501.
    func addOpenInfluxRoutes(to router: Router<FlotillaRequestContext>) {
        router.get("/ping") { request, _ in ping(request) }
        router.head("/ping") { request, _ in ping(request) }
        router.get("/health") { _, _ in await influxHealth() }
        router.get("/api/v2/health") { _, _ in await influxHealth() }
        router.post("/api/v2/query") { _, _ -> Response in
            throw APIError(
                .notImplemented, code: "not implemented",
                message:
                    "Flux is not supported by Flotilla: query with InfluxQL through /query or with SQL through "
                    + "/api/v1/sql (docs/influxql.md)", shape: .influx)
        }
    }

    /// The endpoints behind authentication: InfluxQL, buckets and orgs.
    func addInfluxRoutes(to router: RouterGroup<FlotillaRequestContext>) {
        router.get("/query") { request, context in try await influxQuery(request, context) }
        router.post("/query") { request, context in try await influxQuery(request, context) }
        router.get("/api/v2/buckets") { request, context in
            try context.authorize(.any)
            return await buckets(request)
        }
        router.post("/api/v2/buckets") { request, context in
            try context.authorize(.admin)
            return try await createBucket(request)
        }
        router.delete("/api/v2/buckets/:id") { _, context in
            try context.authorize(.admin)
            return try await deleteBucket(context.parameters.get("id") ?? "")
        }
        router.post("/api/v2/delete") { request, context in try await influxDelete(request, context) }
        router.get("/api/v2/orgs") { request, context in
            try context.authorize(.any)
            return orgs(request)
        }
    }

    private func ping(_ request: Request) -> Response {
        var response: Response
        if request.uri.queryParameters.get("verbose") == "true" {
            let body = "{\"version\":\"\(Self.influxCompatibleVersion)\"}"
            response = Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        } else {
            response = Response(status: .noContent)
        }
        markInflux(&response)
        return response
    }

    /// InfluxDB's health object: `pass` when this node is healthy (see `health()`), `fail` with the reason if not.
    private func influxHealth() async -> Response {
        let ours = await health()
        let passing = ours.status == .ok
        var object: [String: Any] = [
            "name": "flotilla", "status": passing ? "pass" : "fail",
            "message": passing ? "ready for queries and writes" : "not ready: see /api/v1/health",
            "version": Self.influxCompatibleVersion, "commit": "flotilla-\(flotillaVersion)", "checks": [Any](),
        ]
        if !passing { object["status"] = "fail" }
        return json(object, status: passing ? .ok : .serviceUnavailable)
    }

    // MARK: - /query

    private func influxQuery(_ request: Request, _ context: FlotillaRequestContext) async throws(APIError) -> Response {
        // Form-encoded, as InfluxDB reads them (`+` is a space): the URL's query, then a form body's fields.
        var parameters: [String: String] = [:]
        for (key, value) in Self.formFields(request.uri.query ?? "") where parameters[key] == nil {
            parameters[key] = value
        }
        if request.method == .post,
            request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
        {
            let bytes = try await readBody(request)
            for (key, value) in Self.formFields(String(decoding: bytes, as: UTF8.self)) where parameters[key] == nil {
                parameters[key] = value
            }
        }
        guard let text = parameters["q"], !text.isEmpty else {
            throw APIError(.badRequest, code: "invalid", message: "missing required parameter \"q\"", shape: .influx)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        let statements: [InfluxStatement]
        do {
            statements = try InfluxQLParser.parse(text, now: now)
        } catch {
            throw APIError(
                .badRequest, code: "invalid",
                message: "error parsing query: \(error.message) at character \(error.position + 1)", shape: .influx)
        }
        let database = parameters["db"].flatMap { $0.isEmpty ? nil : Self.databaseName(bucket: $0) }
        for statement in statements {
            try context.authorize(need(statement, database))
        }
        let executor = InfluxQLExecutor(
            coordinator: node.coordinator, tenant: parameters["tenant"] ?? "cnosdb", database: database,
            stale: parameters["consistency"] == "stale", now: now)
        let encoder = InfluxJSON(epoch: parameters["epoch"])
        let chunked = parameters["chunked"] == "true"
        var out: [UInt8] = chunked ? [] : Array("{\"results\":[".utf8)
        var failed = false
        for (id, statement) in statements.enumerated() {
            let outcome: Result<[InfluxSeries], CoordinatorError>
            if failed {
                // As InfluxDB: the statements after a failed one are not run, and say so.
                outcome = .failure(CoordinatorError(.badRequest, "influxql.not_executed", "not executed"))
            } else {
                do {
                    outcome = .success(try await executor.run(statement))
                } catch {
                    outcome = .failure(error)
                    failed = true
                }
            }
            if chunked {
                out += Array("{\"results\":[".utf8)
            } else if id > 0 {
                out.append(UInt8(ascii: ","))
            }
            encoder.appendResult(id, outcome, to: &out)
            if chunked { out += Array("]}\n".utf8) }
        }
        if !chunked { out += Array("]}\n".utf8) }
        var response = answer(out, type: "application/json", for: request)
        markInflux(&response)
        return response
    }

    private func need(_ statement: InfluxStatement, _ database: String?) -> Need {
        switch statement {
        case .select(let select): return .read(select.database ?? database ?? "")
        case .showDatabases, .showUsers: return .any
        case .showMeasurements(let on, _, _, _, _), .showTagKeys(let on, _), .showTagValues(let on, _, _, _),
            .showFieldKeys(let on, _), .showSeries(let on, _, _), .showRetentionPolicies(let on):
            return .read(on ?? database ?? "")
        case .delete: return .write(database ?? "")
        case .createDatabase, .dropDatabase, .unsupported: return .admin
        }
    }

    /// `a=1&b=x%20y` → its fields, `+` a space; a pair without a name (`=x`, `=`) is skipped.
    public static func formFields(_ body: String) -> [(String, String)] {
        body.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            guard let name = parts.first, !name.isEmpty else { return nil }
            return (name, parts.count > 1 ? parts[1] : "")
        }
    }

    /// A bucket named `db/rp` (InfluxDB 2's name for a 1.x database and retention policy) is database `db`.
    static func databaseName(bucket: String) -> String {
        guard let slash = bucket.firstIndex(of: "/") else { return bucket }
        return String(bucket[..<slash])
    }

    /// The tenant an InfluxDB 2 `org` names: the tenant of that name, or the default tenant `cnosdb` when the org
    /// names none (stock clients send their own org's name or id).
    func tenant(org: String?) -> String {
        guard let org, !org.isEmpty else { return "cnosdb" }
        let tenants = node.meta.current.tenants
        if tenants[org] != nil { return org }
        return tenants.keys.first { Self.influxID($0) == org } ?? "cnosdb"
    }

    /// A 16-hex-digit id for a name, as InfluxDB 2 gives orgs and buckets ids (stable: FNV-1a of the name).
    static func influxID(_ name: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    // MARK: - /api/v2 buckets and orgs

    /// Every tenant as an org; asked for one by name or id, the tenant it stands for (see `tenant(org:)`), so that
    /// a client looking up its own org's id finds the default tenant's.
    private func orgs(_ request: Request) -> Response {
        let q = request.uri.queryParameters
        if let wanted = q.get("org") ?? q.get("orgID") {
            return json(["orgs": [orgObject(tenant(org: wanted))]])
        }
        return json(["orgs": node.meta.current.tenants.keys.sorted().map { orgObject($0) }])
    }

    /// `DELETE /api/v2/buckets/{id}`: drops the database whose bucket id that is.
    private func deleteBucket(_ id: String) async throws(APIError) -> Response {
        for (tenant, info) in node.meta.current.tenants {
            for name in info.databases.keys where Self.influxID(tenant + "/" + name) == id {
                let executor = SQLExecutor(coordinator: node.coordinator, tenant: tenant, database: name, stale: false)
                do {
                    _ = try await executor.run(.dropDatabase(name: name))
                    return Response(status: .noContent)
                } catch {
                    throw APIError(error).influx(code: "invalid", retryAfter: false)
                }
            }
        }
        throw APIError(.notFound, code: "not found", message: "bucket not found", shape: .influx)
    }

    private func orgObject(_ tenant: String) -> [String: Any] {
        ["id": Self.influxID(tenant), "name": tenant, "status": "active", "description": "Flotilla tenant"]
    }

    private func bucketObject(tenant: String, _ database: DatabaseInfo) -> [String: Any] {
        [
            "id": Self.influxID(tenant + "/" + database.name), "name": database.name, "orgID": Self.influxID(tenant),
            "type": "user",
            "retentionRules": [
                ["type": "expire", "everySeconds": (database.options.ttl ?? 0) / 1_000_000_000] as [String: Any]
            ],
        ]
    }

    private func buckets(_ request: Request) async -> Response {
        let q = request.uri.queryParameters
        let tenant = tenant(org: q.get("orgID") ?? q.get("org"))
        if q.get("consistency") != "stale" { try? await node.awaitCurrentMeta() }
        let databases = node.meta.current.tenants[tenant]?.databases ?? [:]
        let name = q.get("name").map(Self.databaseName(bucket:))
        let list = databases.keys.sorted().filter { name == nil || $0 == name }.map {
            bucketObject(tenant: tenant, databases[$0]!)
        }
        return json(["buckets": list, "links": ["self": "/api/v2/buckets"]])
    }

    private func createBucket(_ request: Request) async throws(APIError) -> Response {
        let body = try await readBody(request)
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let name = object["name"] as? String, !name.isEmpty
        else {
            throw APIError(
                .badRequest, code: "invalid", message: "a bucket needs a JSON body with its \"name\"", shape: .influx)
        }
        let tenant = tenant(org: (object["orgID"] as? String) ?? (object["org"] as? String))
        var options: [DatabaseOption] = []
        if let rules = object["retentionRules"] as? [[String: Any]],
            let seconds = rules.compactMap({ ($0["everySeconds"] as? NSNumber)?.int64Value }).first, seconds > 0
        {
            options.append(DatabaseOption(name: "TTL", value: .string("\(seconds)s")))
        }
        let database = Self.databaseName(bucket: name)
        let executor = SQLExecutor(coordinator: node.coordinator, tenant: tenant, database: database, stale: false)
        do {
            _ = try await executor.run(.createDatabase(name: database, ifNotExists: false, options: options))
        } catch {
            if error.kind == .conflict {
                throw APIError(
                    .unprocessableContent, code: "conflict", message: "bucket with name \(name) already exists",
                    shape: .influx)
            }
            throw APIError(error).influx(code: "invalid", retryAfter: false)
        }
        guard let info = node.meta.current.database(tenant, database) else {
            throw APIError(
                .internalServerError, code: "internal error", message: "the bucket was created but is not visible yet",
                shape: .influx)
        }
        return json(bucketObject(tenant: tenant, info), status: .created)
    }
}
