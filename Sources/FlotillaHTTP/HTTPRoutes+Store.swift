import Coordinator
import Foundation
import Hummingbird
import LineProtocol
import NIOCore
import Query
import SQL

/// The store's endpoints (docs/store.md): line-protocol writes (native, InfluxDB v1 and v2) and SQL.
extension HTTPRoutes {
    enum WriteStyle { case native, influxV1, influxV2 }

    func addStoreRoutes(to router: RouterGroup<FlotillaRequestContext>) {
        router.post("/api/v1/write") { request, context in
            let q = request.uri.queryParameters
            return try await write(
                request, context, tenant: q.get("tenant") ?? "cnosdb", database: q.get("db") ?? "public",
                precision: q.get("precision"), style: .native)
        }
        router.post("/write") { request, context in
            let q = request.uri.queryParameters
            return try await write(
                request, context, tenant: "cnosdb", database: Self.databaseName(bucket: q.get("db") ?? "public"),
                precision: q.get("precision"), style: .influxV1)
        }
        router.post("/api/v2/write") { request, context in
            let q = request.uri.queryParameters
            return try await write(
                request, context, tenant: tenant(org: q.get("org") ?? q.get("orgID")),
                database: Self.databaseName(bucket: q.get("bucket") ?? "public"), precision: q.get("precision"),
                style: .influxV2)
        }
        router.post("/api/v1/sql") { request, context in try await sql(request, context) }
    }

    private func write(
        _ request: Request, _ context: FlotillaRequestContext, tenant: String, database: String, precision: String?,
        style: WriteStyle
    ) async throws(APIError) -> Response {
        try context.authorize(.write(database))
        var unit: Precision?
        if let precision, !precision.isEmpty {
            guard let parsed = Precision(parsing: precision) else {
                throw APIError(
                    .badRequest, code: "write.bad_precision",
                    message: "precision '\(precision)' is not one of ns, us, ms, s, m, h")
            }
            unit = parsed
        }
        // Admission before the body is read, so that waiting requests hold no memory; sized by the declared
        // length (a chunked body counts as a large one).
        let declared = request.headers[.contentLength].flatMap(Int.init) ?? (1 << 20)
        let claimed = min(max(declared, 1), node.settings.maxBodyBytes)
        guard await node.writeAdmission.admit(bytes: claimed) else {
            throw APIError(
                .serviceUnavailable, code: "write.busy",
                message:
                    "this node is at its bound of \(node.writeAdmission.maxRequests) write requests in flight and "
                    + "none finished within \(node.settings.writeAdmissionWaitMilliseconds) ms; retry later",
                retryAfter: true)
        }
        defer { node.writeAdmission.release(bytes: claimed) }
        let body = try await readBody(request)
        do {
            try await node.write(tenant: tenant, database: database, precision: unit, body: body)
            return style == .native ? Response(status: .ok) : Response(status: .noContent)
        } catch {
            guard style != .native else { throw APIError(error) }
            // InfluxDB's clients read `error` (1.x) or `code`/`message` (2.x).
            throw APIError(error).influx(code: error.status == 400 ? "invalid" : error.code)
        }
    }

    private func sql(_ request: Request, _ context: FlotillaRequestContext) async throws(APIError) -> Response {
        let q = request.uri.queryParameters
        let text = String(decoding: try await readBody(request), as: UTF8.self)
        let statement: Statement
        do {
            statement = try SQLParser.parse(text, now: Int64(Date().timeIntervalSince1970 * 1_000_000_000))
        } catch {
            throw APIError(.badRequest, code: "sql.parse", message: "\(error)")
        }
        let database = q.get("db") ?? "public"
        func need(_ statement: Statement) -> Need {
            switch statement {
            case .select(let select): return .read(select.database ?? database)
            case .showTables, .describeTable, .showSeries, .showTagValues, .describeDatabase: return .read(database)
            case .insert, .delete: return .write(database)
            case .showDatabases, .showTenants, .showDataNodes, .showReplicas, .showVnodes, .selectValues: return .any
            case .explain(let inner): return need(inner)
            default: return .admin
            }
        }
        try context.authorize(need(statement))
        var executor = SQLExecutor(
            coordinator: node.coordinator, tenant: q.get("tenant") ?? "cnosdb", database: database,
            stale: q.get("consistency") == "stale")
        executor.pageRows = node.settings.queryPageRows
        let accept = request.headers[.accept] ?? ""
        let format = ResultFormat(accept: accept)
        let epochs = q.get("epoch") == "ns"
        var result: QueryResult
        do {
            if case .select(let select) = statement, format != .table {
                switch try await executor.answer(select) {
                case .whole(let whole): result = whole
                case .streamed(let rows): return streamed(rows, format: format, epochs: epochs)
                }
            } else {
                result = try await executor.run(statement)
            }
        } catch {
            throw APIError(error)
        }
        if epochs { result.timesAsIntegers() }
        switch format {
        case .json:
            var out: [UInt8] = []
            result.appendJSONArray(to: &out)
            return answer(out, type: "application/json", for: request)
        case .ndjson:
            var out: [UInt8] = []
            result.appendNDJSON(to: &out)
            return answer(out, type: "application/nd-json", for: request)
        case .table: return answer(Array(result.table().utf8), type: "text/plain", for: request)
        case .csv: return answer(result.csvBytes(), type: "text/csv", for: request)
        }
    }

    /// A SELECT's rows sent as they are read, page after page (chunked). A failure after the first page cannot
    /// change the status any more: the connection is then closed before the body's end, so that a client sees
    /// an incomplete answer, never a short one that looks whole.
    private func streamed(_ rows: StreamedRows, format: ResultFormat, epochs: Bool) -> Response {
        let logger = node.logger
        return Response(
            status: .ok, headers: [.contentType: format.contentType],
            body: ResponseBody { writer in
                var rows = rows
                var out: [UInt8] = []
                var first = true
                switch format {
                case .csv: QueryResult(columns: rows.columns, rows: []).appendCSVHeader(to: &out)
                case .json: out.append(UInt8(ascii: "["))
                case .ndjson, .table: break
                }
                do {
                    while let cells = try await rows.next() {
                        var page = QueryResult(columns: rows.columns, rows: cells)
                        if epochs { page.timesAsIntegers() }
                        switch format {
                        case .csv: page.appendCSVRows(to: &out)
                        case .ndjson, .table: page.appendNDJSON(to: &out)
                        case .json:
                            page.appendJSONObjects(first: first, to: &out)
                            if !page.rows.isEmpty { first = false }
                        }
                        if out.count >= 64 << 10 {
                            try await writer.write(ByteBuffer(bytes: out))
                            out.removeAll(keepingCapacity: true)
                        }
                    }
                } catch {
                    logger.warning("a streamed SELECT failed after its first rows were sent: \(error)")
                    throw error
                }
                if format == .json { out.append(UInt8(ascii: "]")) }
                if !out.isEmpty { try await writer.write(ByteBuffer(bytes: out)) }
                try await writer.finish(nil)
            })
    }

    /// A whole answer's body, gzipped when the request accepts it (`Accept-Encoding: gzip`) and it is large
    /// enough to gain from it.
    func answer(_ bytes: [UInt8], type: String, for request: Request) -> Response {
        let accepts = request.headers[.acceptEncoding]?.lowercased().contains("gzip") ?? false
        if accepts, bytes.count >= 256, let compressed = Gzip.compress(bytes) {
            return Response(
                status: .ok, headers: [.contentType: type, .contentEncoding: "gzip"],
                body: .init(byteBuffer: ByteBuffer(bytes: compressed)))
        }
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The request body, up to the limit, inflated if it is gzipped (413 beyond the limit; 400 if it could not be
    /// read at all, such as a connection closed mid-body, or does not inflate).
    func readBody(_ request: Request) async throws(APIError) -> [UInt8] {
        var request = request
        let limit = node.settings.maxBodyBytes
        do {
            let buffer = try await request.collectBody(upTo: limit)
            var bytes = Array(buffer.readableBytesView)
            if request.headers[.contentEncoding]?.lowercased() == "gzip" {
                guard let inflated = Gzip.decompress(bytes, limit: limit) else { throw BodyError.badGzip }
                bytes = inflated
            }
            return bytes
        } catch let error as BodyError {
            throw APIError(error)
        } catch is NIOTooManyBytesError {
            throw APIError(BodyError.tooLarge(limit: limit))
        } catch {
            throw APIError(BodyError.unreadable("\(error)"))
        }
    }
}
