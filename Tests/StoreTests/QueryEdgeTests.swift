import Coordinator
import LineProtocol
import SQL
import TSDB
import Testing

@testable import FlotillaHTTP
@testable import Query

/// Inputs at the edges that must be answered, never trap: empty form fields, times beyond Int64's years, interval
/// ranges wider than Int64, huge percentiles and spreads; and the rules InfluxDB and SQL give arithmetic,
/// percentiles and HAVING.
@Suite("Query edges")
struct QueryEdgeTests {
    @Test("form fields without a name are skipped; + is a space")
    func formFields() {
        let fields = HTTPRoutes.formFields("=&q=SHOW+DATABASES&=x&a&db=d%2Fr")
        #expect(fields.map(\.0) == ["q", "a", "db"])
        #expect(fields.map(\.1) == ["SHOW DATABASES", "", "d/r"])
    }

    @Test("a time outside 1677–2262 parses to nothing, not a trap")
    func timesBeyondInt64() {
        #expect(parseTime("0001-01-01T00:00:00Z") == nil)
        #expect(parseTime("3000-01-01") == nil)
        #expect(parseTime("2262-04-11T23:47:16.854775807Z") == .max)
    }

    @Test("interval ranges wider than Int64 are refused; an empty range fills nothing; bins near Int64.min hold")
    func intervalEdges() throws {
        let rows: [[SQLValue]] = [[.time(0), .double(1)]]
        #expect(throws: CoordinatorError.self) {
            try IntervalFill(width: 1, range: (.min + 1, .max - 1), now: 0, fill: .null).apply(rows)
        }
        #expect(try IntervalFill(width: 10, range: (0, .min), now: 0, fill: .null).apply(rows) == rows)
        let low: [[SQLValue]] = [[.time(.min + 5), .double(1)]]
        let filled = try IntervalFill(width: 1_000, range: (.min, .min + 2_000), now: 0, fill: .null).apply(low)
        #expect(filled.count >= 1)
    }

    private func rows(_ values: [FieldValue]) -> [Row] {
        values.enumerated().map { Row(tags: [], timestamp: Int64($0.offset), fields: ["v": $0.element]) }
    }

    @Test("percentile is InfluxDB's nearest rank and keeps integers; a huge p is null; spread of extreme integers")
    func percentileAndSpread() {
        let ten = rows((1...10).map { FieldValue.integer(Int64($0)) })
        #expect(SQLExecutor.compute(.percentile(91), "v", ten) == .integer(9))
        #expect(SQLExecutor.compute(.percentile(50), "v", ten) == .integer(5))
        #expect(SQLExecutor.compute(.percentile(1), "v", ten) == .null)
        #expect(SQLExecutor.compute(.percentile(1e300), "v", ten) == .null)
        let extreme = rows([.integer(.max), .integer(0)])
        #expect(SQLExecutor.compute(.spread, "v", extreme) == .integer(.max))
        let wider = rows([.integer(.max), .integer(.min)])
        #expect(SQLExecutor.compute(.spread, "v", wider) != .null)
    }

    @Test("arithmetic: * and / before + and -")
    func precedence() {
        #expect(MathStep.apply([MathStep(.add, 10), MathStep(.multiply, 2)], to: 1) == 21)
        #expect(MathStep.apply([MathStep(.multiply, 2), MathStep(.add, 1)], to: 5) == 11)
        #expect(MathStep.apply([MathStep(.subtract, 3), MathStep(.multiply, 2), MathStep(.divide, 4)], to: 10) == 8.5)
    }

    @Test("HAVING sees the aggregates before the SELECT's arithmetic, and refuses a name the SELECT lacks")
    func having() throws {
        var select = Select(items: [.column("host", alias: nil), .aggregate(.avg, column: "u", alias: "a")], table: "t")
        select.math = [[], [MathStep(.multiply, 100)]]
        select.having = .comparison(column: "a", op: .greater, value: .float(0.5))
        let result = QueryResult(columns: ["host", "a"], rows: [[.string("x"), .double(0.6)], [.string("y"), .double(0.4)]])
        let kept = try SQLExecutor.ordered(result, select)
        #expect(kept.rows.count == 1 && kept.rows[0][1] == .double(60))
        select.having = .comparison(column: "count(*)", op: .greater, value: .integer(1))
        #expect(throws: CoordinatorError.self) { try SQLExecutor.ordered(result, select) }
    }
}
