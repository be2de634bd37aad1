import Meta
import RaftCore
import Testing

@testable import Coordinator

/// Meta changes never reroute data that is already written, and a node's groups follow what meta replays only
/// through the replayed end state.
@Suite("Meta consistency")
struct MetaConsistencyTests {
    func apply(_ store: MetaStore, _ command: MetaCommand) -> MetaResult {
        MetaStore.decodeResult(store.apply(MetaStore.encode(command)[...], at: LogIndex(1)))
    }

    func store(withBucket start: Int64, _ end: Int64) -> MetaStore {
        let store = MetaStore()
        _ = apply(store, .registerNode(NodeInfo(id: 1, raftAddress: "r", httpAddress: "h")))
        _ = apply(store, .createBucket(tenant: "cnosdb", database: "public", start: start, end: end, placement: [[1]]))
        return store
    }

    func buckets(_ store: MetaStore) -> [BucketInfo] { store.current.database("cnosdb", "public")!.buckets }

    static func assertDisjoint(_ buckets: [BucketInfo]) { assertDisjoint(buckets.map { ($0.start, $0.end) }) }

    static func assertDisjoint(_ buckets: [(start: Int64, end: Int64)]) {
        let sorted = buckets.sorted { $0.start < $1.start }
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            #expect(a.end <= b.start, "buckets \(a.start)..<\(a.end) and \(b.start)..<\(b.end) overlap")
        }
    }

    @Test("a bucket proposed across an existing one ends where that one starts")
    func metaNeverOverlapsBuckets() {
        let store = store(withBucket: 100, 200)
        // A wider VNODE_DURATION, or an older view of the buckets: [0, 1000) would swallow [100, 200).
        #expect(
            apply(store, .createBucket(tenant: "cnosdb", database: "public", start: 0, end: 1000, placement: [[1]])).ok)
        #expect(buckets(store).map { [$0.start, $0.end] } == [[0, 100], [100, 200]])
        // Starting inside a bucket: that bucket already holds the point; nothing is created.
        #expect(
            apply(store, .createBucket(tenant: "cnosdb", database: "public", start: 150, end: 900, placement: [[1]])).ok
        )
        #expect(buckets(store).count == 2)
        Self.assertDisjoint(buckets(store))
    }

    @Test("after VNODE_DURATION changes, a new bucket fills the gap around the point and overlaps nothing")
    func newBucketRangeFitsTheGap() {
        let day: Int64 = 86_400
        let existing: [(start: Int64, end: Int64)] = [(0, day), (3 * day, 4 * day)]
        // A week-wide bucket for a point on day 1 would be [0, 7 days): cut to the gap [1 day, 3 days).
        let (start, end) = Coordinator.newBucketRange(for: day + 5, width: 7 * day, existing: existing)
        #expect((start, end) == (day, 3 * day))
        // A narrower width stays aligned inside the gap.
        let narrow = Coordinator.newBucketRange(for: 2 * day + 7, width: 10, existing: existing)
        #expect(narrow == (2 * day, 2 * day + 10))
        // Past the last bucket, and before the first.
        #expect(Coordinator.newBucketRange(for: 9 * day, width: 7 * day, existing: existing) == (7 * day, 14 * day))
        #expect(Coordinator.newBucketRange(for: -5, width: 7 * day, existing: existing) == (-7 * day, 0))
        for t in stride(from: -day, to: 6 * day, by: Int(day / 3))
        where !existing.contains(where: { $0.start <= t && t < $0.end }) {
            let (s, e) = Coordinator.newBucketRange(for: t, width: 7 * day, existing: existing)
            #expect(s <= t && t < e)
            Self.assertDisjoint(existing + [(s, e)])
        }
    }

    @Test("replayed meta entries touch a node's groups only through the replayed end state")
    func replayIsJudgedByItsEndState() {
        let recovered = LogIndex(10)
        // Entries before the recovered commit: a later one may remove what they create.
        #expect(GroupReconciler.action(index: LogIndex(3), recoveredCommit: recovered, running: false) == .nothing)
        #expect(GroupReconciler.action(index: LogIndex(9), recoveredCommit: recovered, running: true) == .nothing)
        // The last replayed entry: the end state; nothing is destroyed on a replay.
        #expect(GroupReconciler.action(index: recovered, recoveredCommit: recovered, running: false) == .ensure)
        // New entries: create and destroy by their diff.
        #expect(GroupReconciler.action(index: LogIndex(11), recoveredCommit: recovered, running: false) == .reconcile)
        // A snapshot restored while recovering may be older than the log after it; one received later is not.
        #expect(GroupReconciler.action(index: nil, recoveredCommit: recovered, running: false) == .nothing)
        #expect(GroupReconciler.action(index: nil, recoveredCommit: recovered, running: true) == .ensure)
        // A fresh node: every entry is new.
        #expect(GroupReconciler.action(index: LogIndex(1), recoveredCommit: .zero, running: true) == .reconcile)
    }
}

@Suite("Routing to replicas")
struct ReplicaRoutingTests {
    @Test("a node whose vnode of a set is still being added sends the set's requests to its voters")
    func localLearnerIsNotUsed() throws {
        let store = MetaStore()
        for id in UInt64(1)...3 {
            _ = store.apply(
                MetaStore.encode(.registerNode(NodeInfo(id: id, raftAddress: "r", httpAddress: "h")))[...],
                at: LogIndex(1))
        }
        _ = store.apply(
            MetaStore.encode(
                .createBucket(tenant: "cnosdb", database: "public", start: 0, end: 10, placement: [[1, 2]]))[
                    ...], at: LogIndex(2))
        let id = store.current.allReplicaSets[0].set.id
        _ = store.apply(MetaStore.encode(.addVnode(replicaSet: id, node: 3))[...], at: LogIndex(3))
        let set = try #require(store.current.replicaSet(id)?.set)
        #expect(set.pending == PendingChange(kind: .add, node: 3))
        #expect(
            Coordinator.targets(of: set, from: 3) == [1, 2, 3], "the voters first; the learner only as a last resort")
        #expect(Coordinator.targets(of: set, from: 1) == [1], "a voter's own replica")
        _ = store.apply(MetaStore.encode(.setPending(replicaSet: id, change: nil))[...], at: LogIndex(4))
        let settled = try #require(store.current.replicaSet(id)?.set)
        #expect(Coordinator.targets(of: settled, from: 3) == [3], "once added, its own replica")
    }
}
