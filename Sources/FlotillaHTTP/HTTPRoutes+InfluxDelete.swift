import Coordinator
import Foundation
import Hummingbird
import Query
import SQL

/// InfluxDB 2's `POST /api/v2/delete?org=…&bucket=…` (or `bucketID`): a JSON body with `start` and `stop`
/// (RFC 3339, both inclusive, as InfluxDB has them) and a `predicate` (`DeletePredicate`); each measurement it
/// names (all when it names none) gets SQL's DELETE. Answers 204, as InfluxDB does.
extension HTTPRoutes {
    func influxDelete(_ request: Request, _ context: FlotillaRequestContext) async throws(APIError) -> Response {
        let q = request.uri.queryParameters
        let tenant = tenant(org: q.get("org") ?? q.get("orgID"))
        func invalid(_ message: String) -> APIError {
            APIError(.badRequest, code: "invalid", message: message, shape: .influx)
        }
        let databases = node.meta.current.tenants[tenant]?.databases ?? [:]
        let database: String
        if let bucket = q.get("bucket") {
            database = Self.databaseName(bucket: bucket)
        } else if let id = q.get("bucketID"),
            let name = databases.keys.first(where: { Self.influxID(tenant + "/" + $0) == id })
        {
            database = name
        } else {
            throw APIError(
                .notFound, code: "not found", message: "bucket not found: name one with bucket or bucketID",
                shape: .influx)
        }
        try context.authorize(.write(database))
        let body = try await readBody(request)
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let start = object["start"] as? String, let stop = object["stop"] as? String
        else { throw invalid("the body is JSON with \"start\" and \"stop\" (RFC 3339) and an optional \"predicate\"") }
        let predicate: DeletePredicate
        do {
            predicate = try DeletePredicate.parse(object["predicate"] as? String ?? "")
        } catch {
            throw invalid("the predicate does not parse: \(error.message) at character \(error.position + 1)")
        }
        let range = SQLExpression.and(
            .comparison(column: "time", op: .greaterOrEqual, value: .string(start)),
            .comparison(column: "time", op: .lessOrEqual, value: .string(stop)))
        let filter = predicate.filter.map { SQLExpression.and(range, $0) } ?? range
        let executor = SQLExecutor(coordinator: node.coordinator, tenant: tenant, database: database, stale: false)
        do {
            let measurements: [String]
            if let measurement = predicate.measurement {
                measurements = [measurement]
            } else {
                measurements = try await node.coordinator.schema(tenant: tenant, database: database).keys.sorted()
            }
            for measurement in measurements {
                do {
                    _ = try await executor.delete(table: measurement, filter: filter)
                } catch  where error.code == "sql.table_not_found" {
                    // InfluxDB deletes from a measurement that is not there without complaint.
                }
            }
        } catch {
            throw APIError(error).influx(code: error.kind == .notFound ? "not found" : "invalid", retryAfter: true)
        }
        var response = Response(status: .noContent)
        markInflux(&response)
        return response
    }
}
