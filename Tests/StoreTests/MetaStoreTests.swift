import Coordinator
import Foundation
import Meta
import RaftCore
import Testing

@Suite("Meta store")
struct MetaStoreTests {
    func apply(_ store: MetaStore, _ command: MetaCommand) -> MetaResult {
        MetaStore.decodeResult(store.apply(MetaStore.encode(command)[...], at: LogIndex(1)))
    }

    @Test func databasesBucketsAndDeterministicIDs() throws {
        let a = MetaStore()
        let b = MetaStore()
        let commands: [MetaCommand] = [
            .registerNode(NodeInfo(id: 1, raftAddress: "r1", httpAddress: "h1")),
            .createDatabase(tenant: "cnosdb", name: "db", options: DatabaseOptions(), ifNotExists: false),
            .createBucket(tenant: "cnosdb", database: "db", start: 0, end: 100, placement: [[1], [1]]),
            .createBucket(tenant: "cnosdb", database: "db", start: 0, end: 100, placement: [[1]]),
        ]
        for command in commands {
            #expect(apply(a, command).ok)
            #expect(apply(b, command).ok)
        }
        let bucket = try #require(a.current.database("cnosdb", "db")?.buckets.first)
        #expect(a.current.database("cnosdb", "db")?.buckets.count == 1, "a second bucket for the same range is ignored")
        #expect(bucket.replicaSets.count == 2)
        #expect(Set(bucket.replicaSets.map(\.id)).count == 2)
        #expect(a.checksum == b.checksum)
        #expect(a.current.replicaSets(on: 1).count == 2)
    }

    @Test func replicaChangesKeepTheFoundersAndRecordWhatIsPending() throws {
        let store = MetaStore()
        for id in UInt64(1)...4 {
            _ = apply(store, .registerNode(NodeInfo(id: id, raftAddress: "r", httpAddress: "h")))
        }
        _ = apply(store, .createDatabase(tenant: "cnosdb", name: "db", options: DatabaseOptions(), ifNotExists: false))
        _ = apply(
            store,
            .createBucket(tenant: "cnosdb", database: "db", start: 0, end: 100, placement: [[1, 2, 3], [1, 2, 3]]))
        let set = try #require(store.current.replicaSet(101)?.set)
        #expect(set.foundingVoters == [1, 2, 3])

        #expect(apply(store, .addVnode(replicaSet: 101, node: 9)).code == "meta.node_not_found")
        #expect(apply(store, .addVnode(replicaSet: 101, node: 4)).ok)
        var changed = try #require(store.current.replicaSet(101)?.set)
        #expect(changed.nodes == [1, 2, 3, 4] && changed.vnodes.last?.joined == true)
        #expect(changed.pending == PendingChange(kind: .add, node: 4))
        #expect(changed.foundingVoters == [1, 2, 3], "the first entry's voters never change")
        #expect(apply(store, .addVnode(replicaSet: 101, node: 4)).ok, "retrying the pending addition is idempotent")
        #expect(apply(store, .setPending(replicaSet: 101, change: PendingChange(kind: .remove, node: 1))).ok)
        #expect(apply(store, .removeVnode(replicaSet: 101, node: 1)).ok)
        changed = try #require(store.current.replicaSet(101)?.set)
        #expect(changed.nodes == [2, 3, 4] && changed.pending == nil && changed.foundingVoters == [1, 2, 3])

        let sets = store.current.database("cnosdb", "db")!.buckets[0].replicaSets.map(\.id)
        #expect(apply(store, .destroyReplicaSet(sets[0])).ok)
        let slots = store.current.database("cnosdb", "db")!.buckets[0].replicaSets
        #expect(slots.map(\.id) == sets, "a destroyed set keeps its slot: hash % SHARD routes as before")
        #expect(slots.map(\.isLive) == [false, true] && slots[0].vnodes.isEmpty)
        #expect(store.current.replicaSet(sets[0]) == nil && store.current.replicaSets(on: 2).map(\.id) == [sets[1]])
        #expect(apply(store, .destroyReplicaSet(sets[1])).ok)
        #expect(store.current.database("cnosdb", "db")!.buckets.isEmpty, "a bucket without replica sets goes")
        #expect(apply(store, .destroyReplicaSet(sets[1])).code == "meta.replica_set_not_found")
    }

    @Test func removingTheLastVnodeIsRefused() {
        let store = MetaStore()
        _ = apply(store, .registerNode(NodeInfo(id: 1, raftAddress: "r", httpAddress: "h")))
        _ = apply(store, .createBucket(tenant: "cnosdb", database: "public", start: 0, end: 10, placement: [[1]]))
        let set = store.current.allReplicaSets[0].set.id
        #expect(apply(store, .removeVnode(replicaSet: set, node: 1)).code == "meta.last_replica")
        #expect(
            apply(
                store,
                .dropBucket(tenant: "cnosdb", database: "public", bucket: store.current.allReplicaSets[0].bucket.id)
            ).ok)
        #expect(store.current.allReplicaSets.isEmpty)
    }

    @Test func errorsHaveStableCodes() {
        let store = MetaStore()
        #expect(apply(store, .dropDatabase(tenant: "cnosdb", name: "none")).code == "meta.database_not_found")
        #expect(
            apply(
                store, .createDatabase(tenant: "cnosdb", name: "public", options: DatabaseOptions(), ifNotExists: false)
            )
            .code == "meta.database_exists")
        #expect(
            apply(
                store, .createDatabase(tenant: "cnosdb", name: "public", options: DatabaseOptions(), ifNotExists: true)
            ).ok)
        #expect(apply(store, .createTenant(name: "t2", ifNotExists: false)).ok)
        #expect(
            apply(store, .grant(user: "nobody", database: "public", privilege: "read")).code == "meta.user_not_found")
    }

    @Test("a draining node keeps its mark when it registers again; unknown nodes cannot be drained")
    func drainingMark() throws {
        let store = MetaStore()
        _ = apply(store, .registerNode(NodeInfo(id: 2, raftAddress: "r2", httpAddress: "h2")))
        #expect(store.current.nodes[2]?.acceptsVnodes == true)
        #expect(apply(store, .setDraining(node: 2, draining: true)).ok)
        _ = apply(store, .registerNode(NodeInfo(id: 2, raftAddress: "r2", httpAddress: "h2-new")))
        #expect(store.current.nodes[2]?.acceptsVnodes == false, "a restart does not undo a drain")
        #expect(store.current.nodes[2]?.httpAddress == "h2-new")
        #expect(apply(store, .setDraining(node: 2, draining: false)).ok)
        #expect(store.current.nodes[2]?.acceptsVnodes == true)
        #expect(apply(store, .setDraining(node: 9, draining: true)).code == "meta.node_not_found")
    }

    @Test func snapshotRoundTrip() throws {
        let store = MetaStore()
        _ = apply(store, .createTenant(name: "t", ifNotExists: false))
        let copy = MetaStore()
        try copy.restore(store.snapshot())
        #expect(copy.current == store.current)
    }

    @Test("a refusal carries its kind; an answer from a node that predates kinds is read from its code")
    func refusalKinds() throws {
        let store = MetaStore()
        #expect(apply(store, .dropDatabase(tenant: "cnosdb", name: "nope")).failure == .notFound)
        #expect(apply(store, .createDatabase(tenant: "cnosdb", name: "public", options: DatabaseOptions(), ifNotExists: false)).failure == .exists)
        let legacy = try JSONDecoder().decode(
            MetaResult.self, from: Data(#"{"ok":false,"code":"meta.user_not_found","message":"m"}"#.utf8))
        #expect(legacy.failure == nil && legacy.failureKind == .notFound)
        #expect(MetaResult.success.failureKind == nil)
        #expect(CoordinatorError(refused: .failure(.conflict, "meta.change_pending", "m")).status == 409)
        #expect(CoordinatorError(refused: .failure(.invalid, "meta.malformed", "m")).status == 400)
    }
}
