import LineProtocol
import MultiRaft
import RaftCore

/// The state machine of one vnode (a replica of one replica set): the points of the series hashed to it.
///
/// Commands: `0x01` + `PointCodec` batch (upserts); `0x02` + `Tombstone.bytes` (a deletion). Series are indexed by key and by measurement; each series keeps
/// its rows in time order by column (`SeriesData`). The snapshot is the canonical list of points (series sorted by
/// key, rows by time, fields by name), in frames. The checksum is the wrapping sum of every row's hash (FNV-1a 64 over series
/// key, time and fields, then mixed), kept up to date on every upsert, so caught-up replicas agree and reading it
/// costs nothing. Snapshots are framed (`VnodeSnapshotSource`) and produced from a copy-on-write freeze of the
/// columns, so that the host can write and restore them off its loop thread.
public final class VnodeStore: StateMachine {
    private(set) var series: [SeriesKey: SeriesData] = [:]
    private(set) var byMeasurement: [String: [SeriesData]] = [:]
    public private(set) var pointCount = 0
    public private(set) var typeConflicts = 0
    private var digest: UInt64 = 0

    public init() {}

    public func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        switch command.first {
        case 1:
            guard let points = try? PointCodec.decode(command.dropFirst()) else { return [] }
            for point in points { upsert(point) }
        case 2:
            guard let tombstone = try? Tombstone(bytes: command.dropFirst()) else { return [] }
            delete(tombstone)
        default:
            break
        }
        return []
    }

    /// Removes the rows `tombstone` deletes (whatever its index: the model has no layers); a series left
    /// without rows is gone, as from the memtable.
    func delete(_ tombstone: Tombstone) {
        let deleted = DeletedRanges(tombstone)
        var emptied = false
        for data in byMeasurement[tombstone.measurement] ?? [] where tombstone.matches(data.tags) {
            for row in 0..<data.rowCount where deleted.contains(data.timestamps[row]) { digest &-= data.rowHash(row) }
            pointCount -= data.removeRows(deleted)
            if data.rowCount == 0 {
                series[data.key] = nil
                emptied = true
            }
        }
        if emptied { byMeasurement[tombstone.measurement]?.removeAll { $0.rowCount == 0 } }
    }

    func upsert(_ point: Point) {
        let (data, created) = series.data(of: point)
        if created { byMeasurement[point.measurement, default: []].append(data) }
        if let row = data.row(at: point.timestamp) { digest &-= data.rowHash(row) }
        let (inserted, conflicts, _) = data.upsert(point)
        if let row = data.row(at: point.timestamp) { digest &+= data.rowHash(row) }
        if inserted { pointCount += 1 }
        typeConflicts += conflicts
    }

    // MARK: - Snapshot

    /// Snapshots are large: the host writes and restores them off its loop thread.
    public var snapshotsInBackground: Bool { true }

    /// Apply touches only this vnode's series.
    public var appliesConcurrently: Bool { true }

    public func snapshotSource() -> any SnapshotSource {
        VnodeSnapshotSource(series: series.keys.sorted().map { series[$0]!.frozen() })
    }

    public func snapshot() -> [UInt8] {
        var bytes: [UInt8] = []
        try? snapshotSource().write { bytes += $0 }
        return bytes
    }

    public func restore(_ data: [UInt8]) throws { try restoreAsOneChunk(data) }

    public func restore(chunks next: () throws -> [UInt8]?) throws {
        series = [:]
        byMeasurement = [:]
        pointCount = 0
        typeConflicts = 0
        digest = 0
        var frames = VnodeSnapshotFrames()
        while let chunk = try next() {
            for batch in try frames.take(chunk) { for point in batch { upsert(point) } }
        }
        try frames.finish()
    }

    public var checksum: UInt64 { digest }

    // MARK: - Queries

    /// Measurement names.
    public var measurements: [String] { byMeasurement.keys.sorted() }

    /// The columns of a measurement: tag keys, then fields with their types.
    public func schema(of measurement: String) -> (tags: Set<String>, fields: [String: String]) {
        var tags: Set<String> = []
        var fields: [String: String] = [:]
        for data in byMeasurement[measurement] ?? [] {
            for tag in data.tags { tags.insert(tag.key) }
            for name in data.fieldNames where fields[name] == nil { fields[name] = data.fieldType(name) }
        }
        return (tags, fields)
    }

    /// Every row of `measurement` with `start <= time < end` whose series passes `seriesFilter`.
    public func scan(
        _ measurement: String, start: Int64 = .min, end: Int64 = .max, seriesFilter: ([Tag]) -> Bool = { _ in true }
    ) -> [Row] {
        var rows: [Row] = []
        for data in byMeasurement[measurement] ?? [] where seriesFilter(data.tags) {
            var row = data.lowerBound(start)
            let names = data.fieldNames
            while row < data.rowCount && data.timestamps[row] < end {
                var fields: [String: FieldValue] = [:]
                for name in names { if let value = data.value(name, at: row) { fields[name] = value } }
                rows.append(Row(tags: data.tags, timestamp: data.timestamps[row], fields: fields))
                row += 1
            }
        }
        return rows
    }
}

/// One row of a scan: its series' tags, its time and its fields.
public struct Row: Sendable, Equatable {
    public var tags: [Tag]
    public var timestamp: Int64
    public var fields: [String: FieldValue]

    public init(tags: [Tag], timestamp: Int64, fields: [String: FieldValue]) {
        self.tags = tags
        self.timestamp = timestamp
        self.fields = fields
    }

    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }
}
