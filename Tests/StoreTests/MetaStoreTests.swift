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

    @Test func errorsHaveStableCodes() {
        let store = MetaStore()
        #expect(apply(store, .dropDatabase(tenant: "cnosdb", name: "none")).code == "meta.database_not_found")
        #expect(
            apply(store, .createDatabase(tenant: "cnosdb", name: "public", options: DatabaseOptions(), ifNotExists: false))
                .code == "meta.database_exists")
        #expect(apply(store, .createDatabase(tenant: "cnosdb", name: "public", options: DatabaseOptions(), ifNotExists: true)).ok)
        #expect(apply(store, .createTenant(name: "t2", ifNotExists: false)).ok)
        #expect(apply(store, .grant(user: "nobody", database: "public", privilege: "read")).code == "meta.user_not_found")
    }

    @Test func snapshotRoundTrip() throws {
        let store = MetaStore()
        _ = apply(store, .createTenant(name: "t", ifNotExists: false))
        let copy = MetaStore()
        try copy.restore(store.snapshot())
        #expect(copy.current == store.current)
    }
}
