import Coordinator
import Foundation
import Hummingbird
import LineProtocol
import NIOCore
import SQL
import Query

/// The store's endpoints (docs/store.md): line-protocol writes (native, InfluxDB v1 and v2) and SQL.
extension HTTPRoutes {
    enum WriteStyle { case native, influxV1, influxV2 }

    func addStoreRoutes(to router: Router<BasicRequestContext>) {
        router.post("/api/v1/write") { request, _ in
            let q = request.uri.queryParameters
            return await write(
                request, tenant: q.get("tenant") ?? "cnosdb", database: q.get("db") ?? "public",
                precision: q.get("precision"), style: .native)
        }
        router.post("/write") { request, _ in
            let q = request.uri.queryParameters
            return await write(
                request, tenant: "cnosdb", database: Self.databaseName(bucket: q.get("db") ?? "public"),
                precision: q.get("precision"), style: .influxV1)
        }
        router.post("/api/v2/write") { request, _ in
            let q = request.uri.queryParameters
            return await write(
                request, tenant: tenant(org: q.get("org") ?? q.get("orgID")),
                database: Self.databaseName(bucket: q.get("bucket") ?? "public"), precision: q.get("precision"),
                style: .influxV2)
        }
        router.post("/api/v1/sql") { request, _ in await sql(request) }
    }

    private func write(
        _ request: Request, tenant: String, database: String, precision: String?, style: WriteStyle
    ) async -> Response {
        if let denied = authenticator.check(request, .write(database)) { return denied }
        var unit: Precision?
        if let precision, !precision.isEmpty {
            guard let parsed = Precision(parsing: precision) else {
                return errorResponse(
                    .badRequest, code: "write.bad_precision",
                    message: "precision '\(precision)' is not one of ns, us, ms, s, m, h")
            }
            unit = parsed
        }
        // Admission before the body is read, so that waiting requests hold no memory; sized by the declared
        // length (a chunked body counts as a large one).
        let declared = request.headers[.contentLength].flatMap(Int.init) ?? (1 << 20)
        let claimed = min(max(declared, 1), node.options.maxBodyBytes)
        guard await node.writeAdmission.admit(bytes: claimed) else {
            var response = errorResponse(
                .serviceUnavailable, code: "write.busy",
                message:
                    "this node is at its bound of \(node.writeAdmission.maxRequests) write requests in flight and "
                    + "none finished within \(node.options.writeAdmissionWaitMilliseconds) ms; retry later")
            response.headers[.retryAfter] = "1"
            return response
        }
        defer { node.writeAdmission.release(bytes: claimed) }
        let body: [UInt8]
        switch await readBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let failure): return failure.response
        }
        do {
            _ = try await node.coordinator.write(
                tenant: tenant, database: database, precision: unit, body: body, checkTypes: true)
            return style == .native ? Response(status: .ok) : Response(status: .noContent)
        } catch {
            guard style != .native else { return coordinatorFailure(error) }
            // InfluxDB's clients read `error` (1.x) or `code`/`message` (2.x).
            var response = influxError(
                HTTPResponse.Status(code: error.status), code: error.status == 400 ? "invalid" : error.code,
                message: error.message)
            if error.status == 503 { response.headers[.retryAfter] = "1" }
            return response
        }
    }

    private func sql(_ request: Request) async -> Response {
        let q = request.uri.queryParameters
        let text: String
        switch await readBody(request) {
        case .success(let bytes): text = String(decoding: bytes, as: UTF8.self)
        case .failure(let failure): return failure.response
        }
        let statement: Statement
        do {
            statement = try SQLParser.parse(text, now: Int64(Date().timeIntervalSince1970 * 1_000_000_000))
        } catch {
            return errorResponse(.badRequest, code: "sql.parse", message: "\(error)")
        }
        let database = q.get("db") ?? "public"
        func need(_ statement: Statement) -> Authenticator.Need {
            switch statement {
            case .select(let select): return .read(select.database ?? database)
            case .showTables, .describeTable, .showSeries, .showTagValues, .describeDatabase: return .read(database)
            case .insert, .delete: return .write(database)
            case .showDatabases, .showTenants, .showDataNodes, .showReplicas, .showVnodes, .selectValues: return .any
            case .explain(let inner): return need(inner)
            default: return .admin
            }
        }
        if let denied = authenticator.check(request, need(statement)) { return denied }
        var executor = SQLExecutor(
            coordinator: node.coordinator, tenant: q.get("tenant") ?? "cnosdb", database: database,
            stale: q.get("consistency") == "stale")
        executor.pageRows = node.options.queryPageRows
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
            return coordinatorFailure(error)
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

    /// The request body, up to the limit (413 beyond it; 400 if it could not be read at all, such as a
    /// connection closed mid-body).
    func readBody(_ request: Request) async -> Result<[UInt8], ResponseError> {
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: node.options.maxBodyBytes)
            var bytes = Array(buffer.readableBytesView)
            if request.headers[.contentEncoding]?.lowercased() == "gzip" {
                guard let inflated = Gzip.decompress(bytes, limit: node.options.maxBodyBytes) else {
                    return .failure(
                        ResponseError(
                            errorResponse(
                                .badRequest, code: "write.bad_gzip", message: "the gzip body does not decompress")))
                }
                bytes = inflated
            }
            return .success(bytes)
        } catch is NIOTooManyBytesError {
            return .failure(
                ResponseError(
                    errorResponse(
                        .contentTooLarge, code: "http.body_too_large",
                        message: "the body is over the limit of \(node.options.maxBodyBytes) bytes")))
        } catch {
            return .failure(
                ResponseError(
                    errorResponse(.badRequest, code: "http.body_unreadable", message: "the body could not be read: \(error)")))
        }
    }

    func coordinatorFailure(_ error: CoordinatorError) -> Response {
        var response = errorResponse(
            HTTPResponse.Status(code: error.status), code: error.code, message: error.message)
        if error.status == 503 { response.headers[.retryAfter] = "1" }
        return response
    }
}

/// A response to send instead of the handler's normal answer.
struct ResponseError: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}
