import Coordinator
import Foundation
import LineProtocol
import SQL
import TSDB

/// `INSERT INTO t(…) VALUES (…)`: the rows become line protocol and take the write path (routing, Raft, the same
/// checks as any write). Each value is read as the type its column has in the table (CnosDB casts quoted values:
/// `'1.5'` into a DOUBLE column is 1.5); a column the table does not have yet becomes a field of the literal's type.
extension SQLExecutor {
    func insert(_ insert: Insert) async throws(CoordinatorError) -> QueryResult {
        guard !insert.table.hasPrefix("#") else {
            throw CoordinatorError(
                .badRequest, "sql.bad_insert",
                "a table name cannot begin with '#' (line protocol reads it as a comment)")
        }
        let schema = try await source.schema(tenant: tenant, database: database)[insert.table]
        var body: [UInt8] = []
        for (number, row) in insert.rows.enumerated() {
            try appendLine(insert, row: row, number: number + 1, schema: schema, to: &body)
        }
        let points = try await coordinator.write(
            tenant: tenant, database: database, precision: .nanoseconds, body: body, checkTypes: true)
        return QueryResult(columns: ["rows"], rows: [[.integer(Int64(points))]])
    }

    private func appendLine(
        _ insert: Insert, row: [Literal], number: Int, schema: MeasurementSchema?, to out: inout [UInt8]
    ) throws(CoordinatorError) {
        func bad(_ message: String) -> CoordinatorError {
            CoordinatorError(.badRequest, "sql.bad_insert", "row \(number): \(message)")
        }
        var tags: [(String, String)] = []
        var fields: [(String, String)] = []
        var time: Int64?
        for (column, literal) in zip(insert.columns, row) {
            if case .null = literal { continue }
            if case .string(let text) = literal, text.contains(where: { $0 == "\n" || $0 == "\r" }) {
                throw bad("the value of '\(column)' holds a line break, which a point cannot carry")
            }
            if column.lowercased() == "time" {
                time = try insertTime(literal, bad)
            } else if schema?.tags.contains(column) ?? false {
                tags.append((column, text(literal)))
            } else {
                fields.append((column, try fieldText(literal, as: schema?.fields[column], bad)))
            }
        }
        guard !fields.isEmpty else { throw bad("a row needs at least one field value") }
        out += LineText.measurement(insert.table)
        for (key, value) in tags.sorted(by: { $0.0 < $1.0 }) {
            out.append(UInt8(ascii: ","))
            out += LineText.name(key)
            out.append(UInt8(ascii: "="))
            out += LineText.name(value)
        }
        for (index, (key, value)) in fields.enumerated() {
            out.append(UInt8(ascii: index == 0 ? " " : ","))
            out += LineText.name(key)
            out.append(UInt8(ascii: "="))
            out += Array(value.utf8)
        }
        if let time {
            out.append(UInt8(ascii: " "))
            out += Array(String(time).utf8)
        }
        out.append(10)
    }

    /// A time literal: nanoseconds, or a string holding an integer or an RFC 3339 / `YYYY-MM-DD hh:mm:ss` time.
    private func insertTime(
        _ literal: Literal, _ bad: (String) -> CoordinatorError
    ) throws(CoordinatorError) -> Int64 {
        switch literal {
        case .integer(let value): return value
        case .string(let text):
            if let value = Int64(text) { return value }
            guard let value = parseTime(text) else { throw bad("'\(text)' is not a time") }
            return value
        default: throw bad("time takes an integer (nanoseconds) or a time string")
        }
    }

    private func text(_ literal: Literal) -> String {
        switch literal {
        case .integer(let v): return String(v)
        case .float(let v): return String(v)
        case .string(let v): return v
        case .boolean(let v): return v ? "true" : "false"
        case .null: return ""
        }
    }

    /// The field value in line protocol, read as `type` (the column's SQL type) when the table has the column.
    private func fieldText(
        _ literal: Literal, as type: String?, _ bad: (String) -> CoordinatorError
    ) throws(CoordinatorError) -> String {
        let raw = text(literal)
        switch type {
        case "DOUBLE"?:
            guard let value = Double(raw) else { throw bad("'\(raw)' is not a DOUBLE") }
            return String(value)
        case "BIGINT"?:
            guard let value = Int64(raw) ?? Double(raw).flatMap({ Int64(exactly: $0) }) else {
                throw bad("'\(raw)' is not a BIGINT")
            }
            return "\(value)i"
        case "BIGINT UNSIGNED"?:
            guard let value = UInt64(raw) else { throw bad("'\(raw)' is not a BIGINT UNSIGNED") }
            return "\(value)u"
        case "BOOLEAN"?:
            switch raw.lowercased() {
            case "true", "t", "1": return "true"
            case "false", "f", "0": return "false"
            default: throw bad("'\(raw)' is not a BOOLEAN")
            }
        case "STRING"?: return LineText.string(raw)
        default:
            switch literal {
            case .integer(let v): return "\(v)i"
            case .float(let v): return String(v)
            case .boolean(let v): return v ? "true" : "false"
            case .string(let v): return LineText.string(v)
            case .null: return LineText.string("")
            }
        }
    }
}

/// Line-protocol text for names and values, escaped as the parser reads them.
enum LineText {
    /// A measurement: commas and spaces escaped.
    static func measurement(_ name: String) -> [UInt8] { escaped(name, [UInt8(ascii: ","), UInt8(ascii: " ")]) }

    /// A tag key, tag value or field key: commas, equals signs and spaces escaped.
    static func name(_ name: String) -> [UInt8] {
        escaped(name, [UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: " ")])
    }

    /// A string field value, quoted, with quotes and backslashes escaped.
    static func string(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private static func escaped(_ text: String, _ special: Set<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for byte in text.utf8 {
            if special.contains(byte) || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        return out
    }
}
