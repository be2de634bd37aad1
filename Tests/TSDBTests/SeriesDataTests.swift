import LineProtocol
import Testing

@testable import TSDB

/// A series' columns against a plain model: rows by time, fields merged last-write-wins, a value of another type
/// than its column's skipped. Most points append a row with every column (the fast path); the others insert,
/// merge, leave fields out, add fields, repeat a field, change its type or send the fields in another order.
@Suite("Series data")
struct SeriesDataTests {
    @Test("upserts in and out of order keep every column one value per row, as the model says", arguments: 0..<20)
    func matchesTheModel(seed: UInt64) {
        var random = CodecTests.Generator(state: seed)
        let series = SeriesData(
            key: SeriesKey(measurement: "m", tags: []), measurement: "m", tags: [])
        var model: [Int64: [String: FieldValue]] = [:]
        var kinds: [String: Column.Kind] = [:]
        var time: Int64 = 0
        for _ in 0..<400 {
            let shape = random.next() % 10
            // Mostly the next time with the usual fields; sometimes an earlier time, or the last one again.
            time += shape < 7 ? Int64(1 + random.next() % 3) : 0
            let at = shape == 7 ? Int64(random.next() % UInt64(max(time, 1))) : time
            var fields = [
                Field("a", .float(Double(random.next() % 100))), Field("b", .integer(Int64(random.next() % 9))),
            ]
            switch random.next() % 12 {
            case 0: fields.removeLast()  // a field left out
            case 1: fields.append(Field("c\(random.next() % 3)", .boolean(random.next() % 2 == 0)))  // a new field
            case 2: fields.append(Field("a", .float(-1)))  // a field named twice
            case 3: fields[1] = Field("b", .string("x"))  // another type: skipped
            case 4: fields.reverse()  // the same fields in another order
            default: break
            }
            let (_, conflicts, _) = series.upsert(Point(measurement: "m", tags: [], fields: fields, timestamp: at))
            var expectedConflicts = 0
            for field in fields {
                let kind = kinds[field.key] ?? Column.Kind(of: field.value)
                guard kind == Column.Kind(of: field.value) else {
                    expectedConflicts += 1
                    continue
                }
                kinds[field.key] = kind
                model[at, default: [:]][field.key] = field.value
            }
            if model[at] == nil { model[at] = [:] }
            #expect(conflicts == expectedConflicts)
        }
        #expect(series.timestamps == model.keys.sorted())
        #expect(series.fieldNames == series.fieldNames.sorted(), "columns stay in name order")
        for (name, column) in zip(series.fieldNames, series.columns) {
            #expect(column.present.count == series.rowCount, "column \(name) has a row per timestamp")
            for (row, timestamp) in series.timestamps.enumerated() {
                #expect(column.value(at: row) == model[timestamp]?[name], "\(name) at \(timestamp)")
            }
        }
    }
}
