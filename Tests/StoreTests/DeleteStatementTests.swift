import Coordinator
import SQL
import TSDB
import Testing

@testable import Query

/// `DELETE` and InfluxQL's `DROP SERIES`/`DROP MEASUREMENT` parse to one statement, and its condition becomes a
/// tombstone — or a 400 that says which condition a deletion cannot take.
@Suite("DELETE statements")
struct DeleteStatementTests {
    static let now: Int64 = 1_700_000_000_000_000_000

    static func tombstone(_ text: String, tags: Set<String> = ["host", "rack"]) throws -> Tombstone {
        guard case .delete(let table, let filter) = try SQLParser.parse(text, now: now) else {
            throw SQLError("not a DELETE", at: 0)
        }
        return try SQLExecutor.tombstone(table, filter, tags: tags)
    }

    @Test("tag comparisons and time bounds joined by AND become one tombstone")
    func accepted() throws {
        let whole = try Self.tombstone("DELETE FROM cpu")
        #expect(whole == Tombstone(measurement: "cpu"))
        let some = try Self.tombstone(
            "DELETE FROM cpu WHERE host = 'a' AND rack NOT IN ('r1', 'r2') AND time >= 10 AND time < now() "
                + "AND host != 'b'")
        #expect(
            some
                == Tombstone(
                    measurement: "cpu",
                    conditions: [
                        TagCondition(key: "host", values: ["a"]),
                        TagCondition(key: "rack", values: ["r1", "r2"], negated: true),
                        TagCondition(key: "host", values: ["b"], negated: true),
                    ], start: 10, end: Self.now))
        let rfc = try Self.tombstone("DELETE FROM cpu WHERE time <= '2023-11-14T22:13:20Z'")
        #expect(rfc.start == .min && rfc.end == Self.now + 1)
    }

    @Test(
        "a condition a deletion cannot take is a 400 naming it",
        arguments: [
            ("DELETE FROM cpu WHERE usage > 1", "'usage' is not a tag"),
            ("DELETE FROM cpu WHERE host = 'a' OR host = 'b'", "OR is not supported"),
            ("DELETE FROM cpu WHERE NOT host = 'a'", "NOT is not supported"),
            ("DELETE FROM cpu WHERE host LIKE 'a%'", "'host' is matched by a regular expression"),
            ("DELETE FROM cpu WHERE host IS NULL", "'host IS NULL' is not supported"),
            ("DELETE FROM cpu WHERE host = 3", "'host' compares with a string"),
            ("DELETE FROM cpu WHERE host > 'a'", "'host > …' orders a tag"),
            ("DELETE FROM cpu WHERE time != 5", "time != … is not a range"),
        ])
    func refused(statement: String, words: String) throws {
        #expect {
            _ = try Self.tombstone(statement)
        } throws: { error in
            guard let error = error as? CoordinatorError else { return false }
            return error.status == 400 && error.code == "sql.unsupported_delete" && error.message.contains(words)
        }
    }

    @Test("InfluxQL's DELETE, DROP SERIES and DROP MEASUREMENT are one deletion; DELETE without FROM is not supported")
    func influxForms() throws {
        let statements = try InfluxQLParser.parse(
            "DELETE FROM cpu WHERE host = 'a'; DROP SERIES FROM \"cpu\" WHERE host = 'b'; DROP MEASUREMENT cpu; "
                + "DELETE WHERE time < 5",
            now: Self.now)
        #expect(
            statements == [
                .delete(from: "cpu", filter: .comparison(column: "host", op: .equal, value: .string("a"))),
                .delete(from: "cpu", filter: .comparison(column: "host", op: .equal, value: .string("b"))),
                .delete(from: "cpu", filter: nil), .unsupported("DELETE"),
            ])
    }
}

/// InfluxDB 2's delete predicate.
@Suite("Delete predicates")
struct DeletePredicateTests {
    @Test("the measurement and tag comparisons joined by AND; quotes and escapes; empty is everything")
    func parses() throws {
        #expect(try DeletePredicate.parse("") == DeletePredicate(measurement: nil, filter: nil))
        #expect(
            try DeletePredicate.parse(#"_measurement="cpu" and "the host"!="a \"b\"" AND dc = "x""#)
                == DeletePredicate(
                    measurement: "cpu",
                    filter: .and(
                        .comparison(column: "the host", op: .notEqual, value: .string(#"a "b""#)),
                        .comparison(column: "dc", op: .equal, value: .string("x")))))
    }

    @Test(
        "what InfluxDB's grammar lacks is refused at its character",
        arguments: [
            (#"host="a" OR host="b""#, 9, "expected AND"),
            ("host=a", 5, "double-quoted"),
            (#"host~"a""#, 4, "expected = or !="),
            (#"host="a"#, 5, "unterminated"),
            (#"_measurement!="cpu""#, 14, "_measurement takes one = comparison"),
        ])
    func refused(text: String, position: Int, words: String) {
        #expect {
            _ = try DeletePredicate.parse(text)
        } throws: { error in
            guard let error = error as? SQLError else { return false }
            return error.position == position && error.message.contains(words)
        }
    }
}
