import LineProtocol
import Meta
import TSDB

/// A scan of every replica set of a time range in pages of about `pageRows` rows each, so that no node holds
/// more than a page per set at a time, whatever the range holds. The first page of every set is read at once
/// (`Coordinator.scanInPages`); when that was all (`isWhole`) the caller has the whole answer, else `next` hands
/// out the rest set after set (a set's first page, then its further pages as they are read), series in key
/// order within a set: the rows of a series come together.
///
/// Each page is its own read (linearizable unless `stale`): a scan in pages holds every write acknowledged
/// before it began, and each page what was acknowledged before that page was read; a write made meanwhile may
/// be in it or not. A replica set is looked up in the current meta state for each page, so that a replica move
/// that ends during the scan does not end it.
public struct PagedScan: Sendable {
    let coordinator: Coordinator
    let tenant: String
    let database: String
    let measurement: String
    let start: Int64
    let end: Int64
    let tags: [Tag]
    let fields: [String]?
    let pageRows: Int
    let linearizable: Bool
    let filter: @Sendable ([Tag]) -> Bool
    var sets: [ReplicaSetInfo]
    /// Per set, its first page's rows until they are handed out.
    var unread: [[Row]?]
    /// Per set, where its next page starts (nil: the set is done).
    var cursors: [ScanCursor?]

    /// True when every set's rows came in its first page: `next` then gives those and nothing else.
    public var isWhole: Bool { cursors.allSatisfy { $0 == nil } }

    /// The next rows (possibly none, when a page's series all failed the filter), or nil when the scan is done.
    public mutating func next() async throws(CoordinatorError) -> [Row]? {
        guard let index = sets.indices.first(where: { unread[$0] != nil || cursors[$0] != nil }) else { return nil }
        if let rows = unread[index] {
            unread[index] = nil
            return rows
        }
        let id = sets[index].id
        let set =
            coordinator.meta.current.database(tenant, database)?.buckets.lazy.flatMap(\.replicaSets)
            .first { $0.id == id && $0.isLive } ?? sets[index]
        let answer = try await coordinator.read(request(after: cursors[index]), from: set, linearizable: linearizable)
        let page = try Self.decode(answer, set: set)
        cursors[index] = page.next
        return page.rows.filter { filter($0.tags) }
    }

    func request(after cursor: ScanCursor?) -> [UInt8] {
        VnodeQuery.scan(
            measurement: measurement, start: start, end: end, tags: tags, fields: fields, rowBatches: true,
            page: ScanPage(rows: pageRows, after: cursor)
        ).bytes
    }

    static func decode(
        _ answer: [UInt8], set: ReplicaSetInfo
    ) throws(CoordinatorError) -> (rows: [Row], next: ScanCursor?) {
        do {
            return try VnodeQuery.page(from: answer)
        } catch {
            throw CoordinatorError(.internalError, "read.malformed", "replica set \(set.id) answered: \(error)")
        }
    }
}

extension Coordinator {
    /// `scan` in pages of about `pageRows` rows (see `PagedScan`): the first page of every replica set is read
    /// now, at once.
    public func scanInPages(
        tenant: String, database name: String, measurement: String, start: Int64, end: Int64, tags: [Tag] = [],
        fields: [String]? = nil, pageRows: Int, stale: Bool, filter: @escaping @Sendable ([Tag]) -> Bool
    ) async throws(CoordinatorError) -> PagedScan {
        var scan = PagedScan(
            coordinator: self, tenant: tenant, database: name, measurement: measurement, start: start, end: end,
            tags: tags, fields: fields, pageRows: max(1, pageRows), linearizable: !stale, filter: filter, sets: [],
            unread: [], cursors: [])
        let (sets, answers) = try await readPlanned(
            scan.request(after: nil), tenant: tenant, database: name, start: start, end: end, stale: stale)
        scan.sets = sets
        for (set, answer) in zip(sets, answers) {
            let page = try PagedScan.decode(answer, set: set)
            scan.unread.append(page.rows.filter { filter($0.tags) })
            scan.cursors.append(page.next)
        }
        return scan
    }
}
