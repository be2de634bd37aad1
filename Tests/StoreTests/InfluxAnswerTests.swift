import Coordinator
import LineProtocol
import SQL
import Testing

@testable import Query

/// How `/query` answers: InfluxDB's JSON shape in column order, floats that stay floats, times as Go's RFC3339Nano
/// or in the `epoch` unit, and `GROUP BY time` intervals filled as `fill(…)` says.
@Suite("InfluxDB answers")
struct InfluxAnswerTests {
    private func text(_ encoder: InfluxJSON, _ id: Int, _ outcome: Result<[InfluxSeries], CoordinatorError>) -> String {
        var out: [UInt8] = []
        encoder.appendResult(id, outcome, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test("a series keeps its column order, tags sorted, floats with a fraction, strings escaped")
    func seriesShape() {
        let series = InfluxSeries(
            name: "cpu", tags: [Tag("dc", "x"), Tag("host", "a")], columns: ["time", "usage", "note", "n", "ok"],
            values: [[.time(1_700_000_000_500_000_000), .double(7), .string("a \"q\"\n"), .integer(-3), .boolean(true)]])
        #expect(
            text(InfluxJSON(epoch: nil), 0, .success([series]))
                == #"{"statement_id":0,"series":[{"name":"cpu","tags":{"dc":"x","host":"a"},"columns":["time","usage","note","n","ok"],"values":[["2023-11-14T22:13:20.5Z",7.0,"a \"q\"\n",-3,true]]}]}"#)
    }

    @Test("times: trailing zeros trimmed, whole seconds without a fraction, or integers in the epoch unit")
    func times() {
        #expect(InfluxJSON.rfc3339Trimmed(0) == Array("1970-01-01T00:00:00Z".utf8))
        #expect(InfluxJSON.rfc3339Trimmed(1_000_000) == Array("1970-01-01T00:00:00.001Z".utf8))
        #expect(InfluxJSON.rfc3339Trimmed(-1) == Array("1969-12-31T23:59:59.999999999Z".utf8))
        let t = SQLValue.time(1_700_000_123_456_789_000)
        for (epoch, expected) in [("ns", "1700000123456789000"), ("u", "1700000123456789"), ("ms", "1700000123456"), ("s", "1700000123"), ("m", "28333335"), ("h", "472222")] {
            var out: [UInt8] = []
            InfluxJSON(epoch: epoch).appendValue(t, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == expected, "epoch=\(epoch)")
        }
    }

    @Test("an empty result has no series key; a failed statement carries its error; NaN is null")
    func emptyAndErrors() {
        #expect(text(InfluxJSON(epoch: nil), 2, .success([])) == #"{"statement_id":2}"#)
        #expect(
            text(InfluxJSON(epoch: nil), 1, .failure(CoordinatorError(.badRequest, "x", "database name required")))
                == #"{"statement_id":1,"error":"database name required"}"#)
        var out: [UInt8] = []
        InfluxJSON(epoch: nil).appendValue(.double(.nan), to: &out)
        #expect(out == Array("null".utf8))
    }

    private let minute: Int64 = 60_000_000_000

    private func rows(_ values: [(Int64, Double?)]) -> [[SQLValue]] {
        values.map { [.time($0.0 * minute), $0.1.map { .double($0) } ?? .null] }
    }

    @Test("fill(null), fill(0), fill(previous), fill(linear) and fill(none) over a range with empty intervals")
    func fills() throws {
        let data = rows([(1, 10), (4, 40)])
        let range = (0 * minute, 6 * minute)
        func filled(_ fill: Fill) throws -> [SQLValue] {
            try IntervalFill(width: minute, range: range, now: 0, fill: fill).apply(data).map { $0[1] }
        }
        #expect(try filled(.null) == [.null, .double(10), .null, .null, .double(40), .null])
        #expect(try filled(.value(0)) == [.integer(0), .double(10), .integer(0), .integer(0), .double(40), .integer(0)])
        #expect(try filled(.previous) == [.null, .double(10), .double(10), .double(10), .double(40), .double(40)])
        #expect(try filled(.linear) == [.null, .double(10), .double(20), .double(30), .double(40), .null])
        #expect(try filled(.none) == [.double(10), .double(40)])
        let times = try IntervalFill(width: minute, range: range, now: 0, fill: .null).apply(data).map { $0[0] }
        #expect(times == (0..<6).map { .time(Int64($0) * minute) })
    }

    @Test("without bounds the intervals span the data; with a lower bound only they run to now(); too many is refused")
    func bounds() throws {
        let data = rows([(2, 1), (4, 2)])
        let unbounded = try IntervalFill(width: minute, range: (.min, .max), now: 100 * minute, fill: .null).apply(data)
        #expect(unbounded.map { $0[0] } == [.time(2 * minute), .time(3 * minute), .time(4 * minute)])
        let toNow = try IntervalFill(width: minute, range: (minute, .max), now: 6 * minute + 5, fill: .null).apply(data)
        #expect(toNow.count == 6)
        #expect(throws: CoordinatorError.self) {
            try IntervalFill(width: 1, range: (0, 10_000_000), now: 0, fill: .null).apply(rows([(0, 1)]))
        }
    }
}
