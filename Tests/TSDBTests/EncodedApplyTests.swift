import Foundation
import LineProtocol
import RaftCore
import RaftStorage
import Testing

@testable import TSDB

/// A write command merged into the memtable from its bytes (`VnodeEngine.apply(encoded:at:)`, what a vnode
/// applies) leaves exactly what decoding it into points and applying those leaves: the same rows, checksum,
/// columns and type conflicts, whatever the tags' order, escapes and alphabet, the fields' types and repeats.
@Suite("Vnode engine: applying encoded writes")
struct EncodedApplyTests {
    static let tagValues = ["a", "b,c", "d=e", "f g", #"h\i"#, "é", "日本", "a-very-long-tag-value-past-fifteen-bytes"]

    static func batch(_ random: inout CodecTests.Generator) -> [Point] {
        (0..<Int(1 + random.next() % 30)).map { _ in
            var tags = [
                SeriesTag("host", tagValues[Int(random.next() % UInt64(tagValues.count))]),
                SeriesTag("dc", "d\(random.next() % 2)"),
            ]
            if random.next() % 3 == 0 { tags.append(SeriesTag("ünï", "x")) }
            if random.next() % 2 == 0 { tags.sort { $0.key < $1.key } }  // else out of order
            var fields: [Field] = []
            for _ in 0..<Int(random.next() % 4) {
                let name = ["usage", "count", "note", "ok"][Int(random.next() % 4)]
                let value: FieldValue
                switch random.next() % 5 {  // the same name with another type at times: a conflict
                case 0: value = .float(Double(random.next() % 100) / 4)
                case 1: value = .integer(Int64(random.next() % 100) - 50)
                case 2: value = .unsigned(random.next() % 100)
                case 3: value = .string(random.next() % 2 == 0 ? "up" : "a string longer than fifteen bytes")
                default: value = .boolean(random.next() % 2 == 0)
                }
                fields.append(Field(name, value))
            }
            var point = Point(
                measurement: random.next() % 4 == 0 ? "disk,io" : "cpu", tags: [], fields: fields,
                timestamp: Int64(random.next() % 40))
            point.tags = tags  // as given: the encoder keeps the order
            return point
        }
    }

    @Test("the same state as the decoded points", arguments: 0..<12 as Range<UInt64>)
    func sameAsDecoded(seed: UInt64) throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var random = CodecTests.Generator(state: seed &+ 77)
        let options = VnodeEngineTests.options(memtableValues: 200)
        let fromBytes = try VnodeEngine.open(directory: root + "/a", fileSystem: POSIXFileSystem(), options: options)
        let fromPoints = try VnodeEngine.open(directory: root + "/b", fileSystem: POSIXFileSystem(), options: options)
        for index in 1...120 as ClosedRange<UInt64> {
            let encoded = PointCodec.encode(Self.batch(&random))
            try fromBytes.apply(encoded: encoded[...], at: index)
            fromPoints.apply(try PointCodec.decode(encoded[...]), at: index)
            if random.next() % 15 == 0 {
                try fromBytes.flushNow()
                try fromPoints.flushNow()
            }
        }
        #expect(fromBytes.typeConflicts == fromPoints.typeConflicts)
        #expect(try fromBytes.checksum() == fromPoints.checksum())
        for measurement in ["cpu", "disk,io"] {
            #expect(try fromBytes.scan(measurement) == fromPoints.scan(measurement), "seed \(seed): \(measurement)")
        }
        let schemas = fromBytes.schemas().mapValues { "\($0.tags.sorted()) \($0.fields.sorted { $0.key < $1.key })" }
        #expect(
            schemas == fromPoints.schemas().mapValues { "\($0.tags.sorted()) \($0.fields.sorted { $0.key < $1.key })" })
        #expect(fromBytes.memtable.series.count == fromPoints.memtable.series.count)
    }

    @Test("a batch that does not decode is not applied at all by the vnode machine")
    func malformedBatch() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let machine = VnodeMachine(directory: root, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        try machine.createDurable()
        var random = CodecTests.Generator(state: 3)
        let command = VnodeMachine.writeCommand(Self.batch(&random))
        _ = machine.apply(command.dropLast(3), at: LogIndex(1))
        #expect(machine.engine.memoryIsEmpty)
        _ = machine.apply(command[...], at: LogIndex(2))
        #expect(!machine.engine.memoryIsEmpty)
    }
}
