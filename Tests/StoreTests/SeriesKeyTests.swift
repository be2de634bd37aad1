import LineProtocol
import TSDB
import Testing

typealias Tag = LineProtocol.Tag

/// The series hash picks replica sets: these vectors must never change.
@Suite("Series key and hash")
struct SeriesKeyTests {
    @Test(arguments: [
        ("cpu", [Tag]([]), "cpu", UInt64(0xf5a8_fa19_0cb3_14c9)),
        ("cpu", [Tag("host", "a")], "cpu,host=a", UInt64(0xff71_6a83_b04e_6ac7)),
        ("cpu", [Tag("region", "eu"), Tag("host", "a")], "cpu,host=a,region=eu", UInt64(0x3c43_9080_5872_f10a)),
        ("my meas", [Tag("k,1", "v=1")], #"my\ meas,k\,1=v\=1"#, UInt64(0x5f3e_04b9_83d7_78ee)),
    ])
    func goldenVectors(measurement: String, tags: [Tag], canonical: String, hash: UInt64) {
        let key = SeriesKey(measurement: measurement, tags: tags)
        #expect(key.text == canonical)
        #expect(key.hash == hash)
        // Routing hashes the point without making its key: the same number.
        #expect(SeriesKey.hash(of: Point(measurement: measurement, tags: tags, fields: [], timestamp: 0)) == hash)
    }

    @Test func tagOrderDoesNotMatter() {
        #expect(
            SeriesKey(measurement: "m", tags: [Tag("a", "1"), Tag("b", "2")])
                == SeriesKey(measurement: "m", tags: [Tag("b", "2"), Tag("a", "1")]))
        var point = Point(measurement: "m e", tags: [], fields: [], timestamp: 0)
        point.tags = [Tag("z=", "1 2"), Tag("a,", #"\"#)]  // out of order, as a point may hold them
        #expect(SeriesKey.hash(of: point) == SeriesKey(point).hash)
    }
}
