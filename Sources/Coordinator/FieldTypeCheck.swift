import LineProtocol
import Meta
import Synchronization
import TSDB

/// Refuses a write that gives a field another type than its measurement has (InfluxDB and CnosDB refuse such a
/// write; a vnode would keep the first type and drop the value, and DESCRIBE would not show it). It knows the
/// types from one schema read per database (every replica set, not linearizable, at most a second; after a failed
/// read it checks against what it has learnt and reads again after ten seconds, so that writes during a partition
/// do not each wait for it) and from the writes it has let through since. Two first
/// writes of different types racing through different nodes can still both pass: the check is this node's view,
/// not a lock.
public final class FieldTypeCheck: Sendable {
    /// A database as it is now: a dropped and recreated one has other buckets.
    struct Key: Hashable {
        var tenant: String
        var database: String
        var firstBucket: UInt64?
    }

    /// Per database: per measurement, per field, its SQL type name (`DOUBLE`, `BIGINT`, …), read and learnt.
    private let known = Mutex<[Key: [String: [String: String]]]>([:])
    /// The databases whose schema has been read.
    private let read = Mutex<Set<Key>>([])
    /// Per database whose schema read failed: when to try again (wall nanoseconds).
    private let nextRead = Mutex<[Key: Int64]>([:])

    public init() {}

    /// Throws a 400 naming the first line whose field has another type than its measurement's (and every
    /// conflicting field of it) before anything of the request is written. Answers the fields it had not known
    /// (measurement, field, type), for `learn` once they are written.
    func check(
        _ points: [Point], body: [UInt8], tenant: String, database: DatabaseInfo, coordinator: Coordinator
    ) async throws(CoordinatorError) -> [(String, String, String)] {
        let key = Key(tenant: tenant, database: database.name, firstBucket: database.buckets.first?.id)
        let now = coordinator.host.environment.wallNanoseconds()
        if !database.buckets.isEmpty, !read.withLock({ $0.contains(key) }),
            nextRead.withLock({ ($0[key] ?? .min) <= now })
        {
            if let schema = try? await coordinator.schema(
                tenant: tenant, database: database.name, timeoutMilliseconds: 1_000)
            {
                known.withLock { all in
                    // Field by field: types learnt from writes before the read stay, the read adds the rest.
                    for (measurement, columns) in schema {
                        all[key, default: [:]][measurement, default: [:]].merge(columns.fields) { mine, _ in mine }
                    }
                }
                read.withLock { _ = $0.insert(key) }
            } else {
                nextRead.withLock { $0[key] = now &+ 10_000_000_000 }
            }
        }
        let types = known.withLock { $0[key] }
        var seen = types ?? [:]
        var new: [(String, String, String)] = []
        var previous: Point?
        for (index, point) in points.enumerated() {
            // A point with the measurement, field names and types of the one before (most of a batch) passed
            // already.
            if let previous, previous.measurement == point.measurement,
                previous.fields.elementsEqual(point.fields, by: { $0.key == $1.key && $0.value.sameKind(as: $1.value) })
            {
                continue
            }
            previous = point
            var conflicts: [String] = []
            for field in point.fields {
                let type = field.value.typeName
                if let existing = seen[point.measurement]?[field.key] {
                    if existing != type {
                        conflicts.append("'\(field.key)' is \(existing) in '\(point.measurement)', not \(type)")
                    }
                } else {
                    seen[point.measurement, default: [:]][field.key] = type
                    new.append((point.measurement, field.key, type))
                }
            }
            guard conflicts.isEmpty else {
                let line = LineProtocolParser.lineNumber(ofPoint: index, in: body).map { "line \($0)" } ?? "point \(index + 1)"
                throw CoordinatorError(
                    .badRequest, "write.field_type_conflict",
                    "\(line): field \(conflicts.joined(separator: ", field ")); nothing of this request was written")
            }
        }
        return new
    }

    /// Remembers the types of fields that were written (what `check` answered).
    func learn(_ fields: [(String, String, String)], tenant: String, database: DatabaseInfo) {
        guard !fields.isEmpty else { return }
        let key = Key(tenant: tenant, database: database.name, firstBucket: database.buckets.first?.id)
        known.withLock { all in
            for (measurement, field, type) in fields where all[key]?[measurement]?[field] == nil {
                all[key, default: [:]][measurement, default: [:]][field] = type
            }
        }
    }
}

extension FieldValue {
    /// Both values are of one type.
    func sameKind(as other: FieldValue) -> Bool {
        switch (self, other) {
        case (.float, .float), (.integer, .integer), (.unsigned, .unsigned), (.string, .string), (.boolean, .boolean):
            return true
        default: return false
        }
    }
}
