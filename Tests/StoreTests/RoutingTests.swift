import Coordinator
import LineProtocol
import Testing

/// Points land in the bucket and replica set that the write path's formulas give (docs/store.md).
@Suite("Routing")
struct RoutingTests {
    let year: Int64 = 31_557_600_000_000_000  // the default VNODE_DURATION, 365.25 days

    @Test func bucketsAreEpochAligned() {
        #expect(Coordinator.bucketStart(of: 1_700_000_000_000_000_000, width: year) == 1_672_552_800_000_000_000)
        #expect(Coordinator.bucketStart(of: 0, width: year) == 0)
        #expect(Coordinator.bucketStart(of: year - 1, width: year) == 0)
        #expect(Coordinator.bucketStart(of: year, width: year) == year)
        #expect(Coordinator.bucketStart(of: -1, width: year) == -year, "times before 1970 round down, not to zero")
        #expect(Coordinator.bucketStart(of: 86_399_999_999_999, width: 86_400_000_000_000) == 0)
    }

    @Test func replicaSetsFollowTheGoldenHash() {
        // hash("cpu,host=a") = 0xff716a83b04e6ac7 (SeriesKeyTests): 0xff716a83b04e6ac7 % 4 == 3, % 3 == 0.
        let point = Point(
            measurement: "cpu", tags: [LineProtocol.Tag("host", "a")], fields: [Field("v", .float(1))], timestamp: 5)
        #expect(Coordinator.replicaSetIndex(of: point, shards: 4) == Int(UInt64(0xff71_6a83_b04e_6ac7) % 4))
        #expect(Coordinator.replicaSetIndex(of: point, shards: 3) == Int(UInt64(0xff71_6a83_b04e_6ac7) % 3))
        #expect(Coordinator.replicaSetIndex(of: point, shards: 1) == 0)
    }

    @Test func seriesSpreadOverReplicaSets() {
        var counts = [0, 0, 0, 0]
        for i in 0..<4_000 {
            let point = Point(
                measurement: "m", tags: [LineProtocol.Tag("host", "h\(i)")], fields: [Field("v", .float(1))],
                timestamp: 0)
            counts[Coordinator.replicaSetIndex(of: point, shards: 4)] += 1
        }
        #expect(counts.allSatisfy { $0 > 800 && $0 < 1_200 }, "\(counts)")
    }
}
