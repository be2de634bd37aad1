import Coordinator
import SQL
import TSDB

/// `DELETE FROM t [WHERE …]` (and InfluxQL's `DELETE`, `DROP SERIES`, `DROP MEASUREMENT`): the condition becomes a
/// `Tombstone` — tag comparisons (`=`, `!=`, `IN`, `NOT IN` with strings) and a time range, joined by AND, as
/// CnosDB allows — and the coordinator commits it through every replica set the time range meets.
extension SQLExecutor {
    /// Deletes the rows of `table` that `filter` selects (see the type's summary); 404 if there is no such table.
    public func delete(table: String, filter: SQLExpression?) async throws(CoordinatorError) -> QueryResult {
        let schema = try await source.schema(tenant: tenant, database: database)
        guard let columns = schema[table] else {
            throw CoordinatorError(.notFound, "sql.table_not_found", "table '\(table)' does not exist in '\(database)'")
        }
        let tombstone = try Self.tombstone(table, filter, tags: columns.tags)
        try await coordinator.delete(tenant: tenant, database: database, tombstone)
        return .message("ok")
    }

    /// The tombstone `filter` describes for `table`, whose tag keys are `tags`; a 400 names the first condition
    /// that a deletion cannot take.
    static func tombstone(
        _ table: String, _ filter: SQLExpression?, tags: Set<String>
    ) throws(CoordinatorError) -> Tombstone {
        var tombstone = Tombstone(measurement: table)
        guard let filter else { return tombstone }
        func refuse(_ why: String) -> CoordinatorError {
            CoordinatorError(
                .badRequest, "sql.unsupported_delete",
                "\(why): DELETE takes tag comparisons (=, !=, IN, NOT IN with strings) and time bounds, joined by AND")
        }
        func tag(_ column: String) throws(CoordinatorError) -> String {
            guard tags.contains(column) else {
                throw refuse("'\(column)' is not a tag of '\(table)' (fields cannot select rows to delete)")
            }
            return column
        }
        func text(_ literal: Literal, of column: String) throws(CoordinatorError) -> String {
            guard case .string(let value) = literal else { throw refuse("'\(column)' compares with a string") }
            return value
        }
        func add(_ e: SQLExpression) throws(CoordinatorError) {
            switch e {
            case .and(let a, let b):
                try add(a)
                try add(b)
            case .comparison(let column, let op, _) where column.lowercased() == "time":
                guard op != .notEqual else { throw refuse("time != … is not a range") }
            // The bounds are taken below, all at once.
            case .comparison(let column, .equal, let value):
                tombstone.conditions.append(TagCondition(key: try tag(column), values: [try text(value, of: column)]))
            case .comparison(let column, .notEqual, let value):
                tombstone.conditions.append(
                    TagCondition(key: try tag(column), values: [try text(value, of: column)], negated: true))
            case .inList(let column, let values, let negated):
                var texts: [String] = []
                for value in values { texts.append(try text(value, of: column)) }
                tombstone.conditions.append(TagCondition(key: try tag(column), values: texts, negated: negated))
            case .comparison(let column, let op, _):
                _ = try tag(column)
                throw refuse("'\(column) \(op.rawValue) …' orders a tag")
            case .or: throw refuse("OR is not supported")
            case .not: throw refuse("NOT is not supported")
            case .regex(let column, _, _): throw refuse("'\(column)' is matched by a regular expression")
            case .isNull(let column, _): throw refuse("'\(column) IS NULL' is not supported")
            }
        }
        try add(filter)
        let range = try Compiled(filter).timeRange
        (tombstone.start, tombstone.end) = range
        return tombstone
    }
}
