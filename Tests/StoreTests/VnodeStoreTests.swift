import LineProtocol
import RaftCore
import TSDB
import Testing

@Suite("Vnode store")
struct VnodeStoreTests {
    func write(_ store: VnodeStore, _ text: String) throws {
        let points = try LineProtocolParser(defaultTimestamp: 0).parse(Array(text.utf8))
        _ = store.apply(VnodeStore.writeCommand(points)[...], at: LogIndex(1))
    }

    @Test func upsertsMergeFieldsAndKeepTimeOrder() throws {
        let store = VnodeStore()
        try write(store, "cpu,host=a u=1,s=\"x\" 30\ncpu,host=a u=2 10\ncpu,host=a u=3 20\ncpu,host=a s=\"y\" 30")
        let rows = store.scan("cpu")
        #expect(rows.map(\.timestamp) == [10, 20, 30])
        #expect(rows.last?.fields == ["u": .float(1), "s": .string("y")], "same series and time: fields merged")
        #expect(store.pointCount == 3)
        #expect(store.scan("cpu", start: 15, end: 30).map(\.timestamp) == [20])
    }

    @Test func typeConflictsAreSkippedAndCounted() throws {
        let store = VnodeStore()
        try write(store, "m v=1i 1\nm v=1.5 2")
        #expect(store.typeConflicts == 1)
        #expect(store.scan("m").map { $0.fields["v"] } == [.integer(1), nil])
    }

    @Test func snapshotRestoresTheSameDataAndChecksum() throws {
        let store = VnodeStore()
        try write(store, "cpu,host=a u=1 1\ncpu,host=b u=2,ok=true 1\nmem free=3u 5\ncpu,host=a u=4 0")
        let copy = VnodeStore()
        try copy.restore(store.snapshot())
        #expect(copy.checksum == store.checksum)
        #expect(copy.scan("cpu").count == 3)
        #expect(copy.schema(of: "mem").fields == ["free": "BIGINT UNSIGNED"])
        try write(copy, "cpu,host=a u=9 1")
        #expect(copy.checksum != store.checksum, "the checksum covers field values")
    }

    @Test func replicasApplyingTheSameCommandsAgree() throws {
        let a = VnodeStore()
        let b = VnodeStore()
        let batches = ["x,t=1 v=1 5", "x,t=2 v=2 3\nx,t=1 v=3 4", "y w=\"s\" 9"]
        for text in batches {
            try write(a, text)
            try write(b, text)
        }
        #expect(a.checksum == b.checksum)
    }
}
