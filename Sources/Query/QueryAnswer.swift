import Coordinator
import SQL
import TSDB

/// What a statement answers: a whole result, or the rows of a raw SELECT as they are read, page by page.
public enum QueryAnswer: Sendable {
    case whole(QueryResult)
    case streamed(StreamedRows)
}

/// The rows of a raw SELECT too many for one page of each replica set, filtered and projected a page at a time
/// (see `PagedScan` for the order and what each page sees). Its columns are known before any row.
public struct StreamedRows: Sendable {
    var scan: any RowPages
    let filter: Compiled?
    let projection: Projection
    /// The SELECT's arithmetic per column.
    var math: [[MathStep]] = []

    public var columns: [String] { projection.columns }

    /// The next rows' cells (possibly none), or nil after the last.
    public mutating func next() async throws(CoordinatorError) -> [[SQLValue]]? {
        guard let rows = try await scan.next() else { return nil }
        var cells = projection.cells(filter.map { filter in rows.filter { filter.matches($0) } } ?? rows)
        SQLExecutor.applyMath(math, to: &cells)
        return cells
    }
}
