import LineProtocol
import MultiRaft
import RaftCore
import TSDB
import Testing

@Suite("Vnode store")
struct VnodeStoreTests {
    func write(_ store: VnodeStore, _ text: String) throws {
        let points = try LineProtocolParser(defaultTimestamp: 0).parse(Array(text.utf8))
        _ = store.apply(VnodeMachine.writeCommand(points)[...], at: LogIndex(1))
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

    @Test("a snapshot source is frozen when taken, spans many frames and restores from chunks of any size")
    func snapshotSourceIsFrozenAndStreams() throws {
        let store = VnodeStore()
        var lines: [String] = []
        for i in 0..<10_000 { lines.append("cpu,host=h\(i % 7) u=\(i)i,s=\"v\(i)\" \(i)") }
        try write(store, lines.joined(separator: "\n"))
        let checksumThen = store.checksum
        let source = store.snapshotSource()
        // Later writes change existing rows, add rows and add series: none of it reaches the source.
        try write(store, "cpu,host=h1 u=-1i 1\ncpu,host=h1 u=5i 20000\nnew v=1 1")
        #expect(store.checksum != checksumThen)
        var frames: [[UInt8]] = []
        try source.write { frames.append($0) }
        #expect(frames.count == 3, "10,000 points in frames of 4,096")
        let bytes = frames.flatMap { $0 }
        for chunkSize in [1, 7, 4_096, bytes.count] {
            var offset = 0
            let copy = VnodeStore()
            try copy.restore(chunks: {
                guard offset < bytes.count else { return nil }
                defer { offset += chunkSize }
                return Array(bytes[offset..<min(offset + chunkSize, bytes.count)])
            })
            #expect(copy.checksum == checksumThen, "chunks of \(chunkSize) bytes")
            #expect(copy.pointCount == 10_000)
        }
    }

    @Test("a snapshot cut inside a frame is refused")
    func truncatedSnapshotIsRefused() throws {
        let store = VnodeStore()
        try write(store, "cpu,host=a u=1 1\ncpu,host=b u=2 2")
        let bytes = store.snapshot()
        #expect(throws: CodecError.self) { try VnodeStore().restore(Array(bytes.dropLast(3))) }
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
