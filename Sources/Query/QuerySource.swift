import Coordinator
import LineProtocol
import TSDB

/// Where the query layer reads a database's data: rows, the vnodes' partial aggregates and the measurements'
/// columns. In a node it is the `Coordinator` (every replica set of the time range, linearizable unless `stale`);
/// in tests, anything that answers the same questions — an in-memory store, to check the executor's grouping,
/// filling and pushed-down aggregates against rows.
public protocol QuerySource: Sendable {
    /// The rows of `measurement` in `[start, end)` of the series with every one of `tags` (only `fields` when
    /// given; rows without any of them still come, empty), at most the first `seriesLimit` of each series.
    func scan(
        tenant: String, database: String, measurement: String, start: Int64, end: Int64, tags: [Tag],
        fields: [String]?, seriesLimit: Int?, stale: Bool
    ) async throws(CoordinatorError) -> [Row]

    /// The same rows as `scan`, a page at a time.
    func scanInPages(
        tenant: String, database: String, measurement: String, start: Int64, end: Int64, tags: [Tag],
        fields: [String]?, pageRows: Int, stale: Bool
    ) async throws(CoordinatorError) -> any RowPages

    /// `field`'s partial aggregate (rows counted when nil) per series (and per window of `window` ns).
    func aggregate(
        tenant: String, database: String, measurement: String, start: Int64, end: Int64, tags: [Tag],
        field: String?, window: Int64?, stale: Bool
    ) async throws(CoordinatorError) -> [SeriesAggregate]

    /// Each measurement's tag keys and field types.
    func schema(tenant: String, database: String) async throws(CoordinatorError) -> [String: MeasurementSchema]
}

/// Rows handed out a page at a time (`PagedScan` over the replica sets).
public protocol RowPages: Sendable {
    /// True when the first pages held every row: `next` hands out those and nothing else.
    var isWhole: Bool { get }
    /// The next rows (possibly none), or nil after the last.
    mutating func next() async throws(CoordinatorError) -> [Row]?
}

extension PagedScan: RowPages {}

extension Coordinator: QuerySource {
    public func scan(
        tenant: String, database: String, measurement: String, start: Int64, end: Int64, tags: [Tag],
        fields: [String]?, seriesLimit: Int?, stale: Bool
    ) async throws(CoordinatorError) -> [Row] {
        try await scan(
            tenant: tenant, database: database, measurement: measurement, start: start, end: end, tags: tags,
            fields: fields, seriesLimit: seriesLimit, stale: stale
        ) { _ in true }
    }

    public func scanInPages(
        tenant: String, database: String, measurement: String, start: Int64, end: Int64, tags: [Tag],
        fields: [String]?, pageRows: Int, stale: Bool
    ) async throws(CoordinatorError) -> any RowPages {
        try await scanInPages(
            tenant: tenant, database: database, measurement: measurement, start: start, end: end, tags: tags,
            fields: fields, pageRows: pageRows, stale: stale
        ) { _ in true } as PagedScan
    }

    public func schema(tenant: String, database: String) async throws(CoordinatorError) -> [String: MeasurementSchema] {
        try await schema(tenant: tenant, database: database, timeoutMilliseconds: nil)
    }
}
