/// What the simulated clients did and saw: writes of one value to one point, deletions of a series' points in a
/// time range, linearizable reads of one series. Values are unique per write, so every value read names the write
/// it came from.
struct History: Sendable {
    /// One point: a series (`k=key`) and a timestamp. Each point is a register that writes overwrite.
    struct Point: Hashable, Comparable, CustomStringConvertible {
        var key: Int
        var timestamp: Int64
        static func < (a: Point, b: Point) -> Bool { (a.key, a.timestamp) < (b.key, b.timestamp) }
        var description: String { "k\(key)@\(timestamp)" }
    }

    struct Write: Sendable {
        var point: Point
        var value: Int64
        var invoked: UInt64
        /// When the client was told it succeeded; nil if it failed or never heard (it may still have applied).
        var acknowledged: UInt64?
    }

    /// `DELETE FROM m WHERE k = key AND start <= time < end`.
    struct Delete: Sendable {
        var key: Int
        var start: Int64
        var end: Int64
        var invoked: UInt64
        var acknowledged: UInt64?

        func covers(_ point: Point) -> Bool { point.key == key && point.timestamp >= start && point.timestamp < end }
    }

    struct Read: Sendable {
        var key: Int
        var node: UInt64
        var invoked: UInt64
        var completed: UInt64
        /// The value of every point of the series the read returned, by timestamp.
        var values: [Int64: Int64]
    }

    private(set) var writes: [Int64: Write] = [:]
    private(set) var reads: [Read] = []
    private(set) var failedReads = 0
    private(set) var deletes: [Delete] = []

    mutating func invoked(_ write: Write) { writes[write.value] = write }
    /// Records a deletion; answers its number, for `deleteAcknowledged`.
    mutating func invoked(_ delete: Delete) -> Int {
        deletes.append(delete)
        return deletes.count - 1
    }
    mutating func deleteAcknowledged(_ number: Int, at time: UInt64) { deletes[number].acknowledged = time }
    mutating func acknowledged(value: Int64, at time: UInt64) { writes[value]?.acknowledged = time }
    mutating func completed(_ read: Read) { reads.append(read) }
    mutating func readFailed() { failedReads += 1 }

    var acknowledgedWrites: Int { writes.values.filter { $0.acknowledged != nil }.count }
}

extension History {
    /// The ways the history cannot be linearizable, point by point (empty if none was found).
    ///
    /// For each point: a read must return a value written to that point by a write that began before the read
    /// ended, and must not miss an acknowledged write unless a deletion of the point may come after that write
    /// and before the read (it began before the read ended, and was not acknowledged before the write began); it
    /// must not return a write acknowledged before a deletion of the point began that was acknowledged before
    /// the read began (a deleted point coming back: a write applied twice); and a read after one that found a
    /// value finds one too, unless a deletion may come between them. Then every pair of events
    /// that fixes the order of two writes in any linearization adds an edge "a before b": a write acknowledged
    /// before another began; a read that saw `a` and ended before write `b` began; a write `b` acknowledged
    /// before a read began that saw `a` (then b came before a); two reads in real-time order that saw `a`, then
    /// `b`. A cycle among these edges (a stale read, a write applied twice that undid a later one, a read going
    /// back in time) means no linearization exists. Every edge is forced, so what this reports is a real
    /// violation; a history it passes may still, rarely, not be linearizable.
    func violations() -> [String] {
        var problems: [String] = []
        var writesByPoint: [Point: [Write]] = [:]
        for write in writes.values { writesByPoint[write.point, default: []].append(write) }
        var points = Set(writesByPoint.keys)
        for read in reads {
            for timestamp in read.values.keys { points.insert(Point(key: read.key, timestamp: timestamp)) }
        }
        for point in points.sorted() {
            let pointWrites = (writesByPoint[point] ?? []).sorted { $0.value < $1.value }
            var observations: [(read: Read, value: Int64?)] = []
            for read in reads where read.key == point.key {
                observations.append((read, read.values[point.timestamp]))
            }
            problems += check(point, pointWrites, observations)
        }
        return problems
    }

    private func check(
        _ point: Point, _ pointWrites: [Write], _ observations: [(read: Read, value: Int64?)]
    )
        -> [String]
    {
        var problems: [String] = []
        var edges: [Int64: Set<Int64>] = [:]
        func edge(_ a: Int64, _ b: Int64) { if a != b { edges[a, default: []].insert(b) } }
        let pointDeletes = deletes.filter { $0.covers(point) }
        /// True if some deletion of the point may be ordered after an event that ended no later than `after`
        /// began and before one that ended at `before`.
        func mayBeDeleted(after: UInt64, before: UInt64) -> Bool {
            pointDeletes.contains { $0.invoked < before && !(($0.acknowledged ?? .max) < after) }
        }
        for (read, value) in observations {
            guard let value else {
                if let lost = pointWrites.first(where: {
                    ($0.acknowledged ?? .max) < read.invoked && !mayBeDeleted(after: $0.invoked, before: read.completed)
                }) {
                    problems.append(
                        "\(point): read through node \(read.node) at \(ms(read.invoked)) found nothing, but write "
                            + "\(lost.value) was acknowledged at \(ms(lost.acknowledged!))")
                }
                continue
            }
            guard let write = writes[value], write.point == point else {
                problems.append("\(point): read through node \(read.node) returned \(value), never written there")
                continue
            }
            if write.invoked > read.completed {
                problems.append(
                    "\(point): read at \(ms(read.invoked))–\(ms(read.completed)) returned \(value), written from "
                        + "\(ms(write.invoked)) on")
            }
            if let acknowledged = write.acknowledged,
                let delete = pointDeletes.first(where: {
                    acknowledged < $0.invoked && ($0.acknowledged ?? .max) < read.invoked
                })
            {
                problems.append(
                    "\(point): read through node \(read.node) at \(ms(read.invoked)) returned \(value), acknowledged at "
                        + "\(ms(acknowledged)), but a deletion from \(ms(delete.invoked)) was acknowledged at "
                        + "\(ms(delete.acknowledged!)): the deleted point came back")
            }
            for other in pointWrites where other.value != value {
                if read.completed < other.invoked { edge(value, other.value) }
                if let acknowledged = other.acknowledged, acknowledged < read.invoked { edge(other.value, value) }
            }
        }
        for a in pointWrites {
            guard let acknowledged = a.acknowledged else { continue }
            for b in pointWrites where acknowledged < b.invoked { edge(a.value, b.value) }
        }
        for (first, a) in observations {
            guard let seen = a else { continue }
            for (second, b) in observations where first.completed < second.invoked {
                if let later = b {
                    edge(seen, later)
                } else if !mayBeDeleted(after: first.invoked, before: second.completed) {
                    problems.append(
                        "\(point): read through node \(second.node) at \(ms(second.invoked)) found nothing after "
                            + "a read ending at \(ms(first.completed)) found \(seen)")
                }
            }
        }
        if let cycle = Self.cycle(in: edges) {
            problems.append(
                "\(point): no linearization orders its writes: \(cycle.map(String.init).joined(separator: " → ")) "
                    + "(each must come before the next)")
        }
        return problems
    }

    /// A cycle of the directed graph, if it has one.
    static func cycle(in edges: [Int64: Set<Int64>]) -> [Int64]? {
        var state: [Int64: Int] = [:]  // 1: on the path, 2: done
        var path: [Int64] = []
        func visit(_ node: Int64) -> [Int64]? {
            state[node] = 1
            path.append(node)
            for next in (edges[node] ?? []).sorted() {
                if state[next] == 1, let start = path.firstIndex(of: next) { return Array(path[start...]) + [next] }
                if state[next] == nil, let found = visit(next) { return found }
            }
            path.removeLast()
            state[node] = 2
            return nil
        }
        for node in edges.keys.sorted() where state[node] == nil {
            if let found = visit(node) { return found }
        }
        return nil
    }

    private func ms(_ nanoseconds: UInt64) -> String { "\(nanoseconds / 1_000_000) ms" }
}
