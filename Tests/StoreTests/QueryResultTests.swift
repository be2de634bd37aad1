import Foundation
import Coordinator
import SQL
import Testing

@testable import Query

/// How query results print: RFC 3339 times with nanoseconds, floats that stay floats, CSV quoting.
@Suite("Query result text")
struct QueryResultTests {
    @Test("times print as CnosDB writes them (UTC, nine fraction digits, no zone), before and after the epoch, and parse back")
    func times() {
        #expect(formatTime(0) == "1970-01-01T00:00:00.000000000")
        #expect(formatTime(-1) == "1969-12-31T23:59:59.999999999")
        #expect(formatTime(1_704_164_645_123_456_789) == "2024-01-02T03:04:05.123456789")
        var state: UInt64 = 7
        for _ in 0..<1_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let nanoseconds = Int64(bitPattern: state >> 2) % 4_000_000_000_000_000_000
            #expect(parseTime(formatTime(nanoseconds)) == nanoseconds, "\(nanoseconds)")
            // The date and time of day agree with the C library's calendar.
            var seconds = time_t(nanoseconds / 1_000_000_000 - (nanoseconds % 1_000_000_000 < 0 ? 1 : 0))
            var parts = tm()
            gmtime_r(&seconds, &parts)
            let expected =
                "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
                + "\(two(parts.tm_min)):\(two(parts.tm_sec))"
            #expect(formatTime(nanoseconds).hasPrefix(expected), "\(nanoseconds)")
        }
        #expect(formatTime(951_782_400_000_000_000) == "2000-02-29T00:00:00.000000000")
        #expect(formatTime(-2_203_891_200_000_000_000) == "1900-03-01T00:00:00.000000000")
        #expect(formatTime(.min) == "1677-09-21T00:12:43.145224192")
        #expect(formatTime(.max) == "2262-04-11T23:47:16.854775807")
    }

    @Test("JSON rows keep the SELECT's column order, floats keep their fraction, strings are escaped")
    func jsonRows() {
        let result = QueryResult(
            columns: ["zeta", "alpha", "time", "note"],
            rows: [[.double(7), .integer(-2), .time(1_000_000_001), .string("a\"b\n")], [.null, .unsigned(3), .time(0), .boolean(false)]])
        var out: [UInt8] = []
        result.appendJSONArray(to: &out)
        #expect(
            String(decoding: out, as: UTF8.self)
                == #"[{"zeta":7.0,"alpha":-2,"time":"1970-01-01T00:00:01.000000001","note":"a\"b\n"},"#
                + #"{"zeta":null,"alpha":3,"time":"1970-01-01T00:00:00.000000000","note":false}]"#)
        out = []
        result.appendNDJSON(to: &out)
        #expect(String(decoding: out, as: UTF8.self).split(separator: "\n").count == 2)
    }

    @Test("ORDER BY sorts by each key in turn (nulls first, numbers of any kind by value), stably, before LIMIT")
    func ordering() throws {
        var select = Select(items: [], table: "t")
        select.orderBy = [OrderKey("b", descending: true), OrderKey("a", descending: false)]
        select.limit = 4
        let result = QueryResult(
            columns: ["a", "b"],
            rows: [[.string("x"), .integer(1)], [.string("y"), .double(2.5)], [.string("w"), .null], [.string("v"), .unsigned(1)], [.string("u"), .integer(3)]])
        let ordered = try SQLExecutor.ordered(result, select)
        #expect(ordered.rows.map { $0[0] } == [.string("u"), .string("y"), .string("v"), .string("x")])
        select.orderBy = [OrderKey("missing", descending: false)]
        #expect(throws: CoordinatorError.self) { try SQLExecutor.ordered(result, select) }
    }

    private func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }

    @Test("a whole float keeps its point, its sign too; other floats print exactly")
    func floats() {
        #expect(SQLValue.double(7).text == "7.0")
        #expect(SQLValue.double(-3).text == "-3.0")
        #expect(SQLValue.double(-0.0).text == "-0.0")
        #expect(SQLValue.double(0.1).text == "0.1")
        #expect(SQLValue.double(1e20).text == "1e+20")
    }

    @Test("CSV quotes a cell with a comma, a quote or a newline, doubling quotes")
    func csv() {
        let result = QueryResult(
            columns: ["a", "b,c"], rows: [[.string("x\"y"), .string("plain")], [.string("1\n2"), .null]])
        #expect(result.csv() == "a,\"b,c\"\n\"x\"\"y\",plain\n\"1\n2\",\n")
    }
}
