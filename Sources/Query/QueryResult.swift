import Foundation

/// A value in a query result.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case boolean(Bool)
    /// Nanoseconds since the epoch, shown as CnosDB shows a `TIMESTAMP(NANOSECOND)`: UTC with nine fraction
    /// digits and no zone (`2024-01-02T03:04:05.123456789`).
    case time(Int64)

    /// `text`'s UTF-8 bytes appended to `bytes`, without making the string where it need not be (times).
    func appendText(to bytes: inout [UInt8]) {
        switch self {
        case .time(let v): appendTime(v, to: &bytes)
        case .null: return
        default: bytes.append(contentsOf: text.utf8)
        }
    }

    /// The value as a number, if it is one (of whatever kind).
    var number: Double? {
        switch self {
        case .integer(let x): return Double(x)
        case .unsigned(let x): return Double(x)
        case .double(let x): return x
        default: return nil
        }
    }

    /// -1, 0 or 1 as `self` sorts before, with or after `other`: nulls first, numbers by value (of whatever kind),
    /// then strings, booleans and times each in their own order.
    func order(_ other: SQLValue) -> Int {
        func rank(_ v: SQLValue) -> Int {
            switch v {
            case .null: return 0
            case .integer, .unsigned, .double: return 1
            case .string: return 2
            case .boolean: return 3
            case .time: return 4
            }
        }
        func compare<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : a > b ? 1 : 0 }
        switch (self, other) {
        case (.string(let a), .string(let b)): return compare(a, b)
        case (.time(let a), .time(let b)): return compare(a, b)
        case (.boolean(let a), .boolean(let b)): return compare(a ? 1 : 0, b ? 1 : 0)
        case (.integer(let a), .integer(let b)): return compare(a, b)
        default:
            if let a = number, let b = other.number { return compare(a, b) }
            return compare(rank(self), rank(other))
        }
    }

    var text: String {
        switch self {
        case .null: return ""
        case .integer(let v): return String(v)
        case .unsigned(let v): return String(v)
        case .double(let v):
            return v == v.rounded() && abs(v) < 1e15
                ? (v.sign == .minus ? "-" : "") + String(Int64(abs(v))) + ".0" : String(v)
        case .string(let v): return v
        case .boolean(let v): return v ? "true" : "false"
        case .time(let v): return formatTime(v)
        }
    }
}

/// `2024-01-02T03:04:05.123456789`: UTC, as CnosDB writes a nanosecond timestamp (its Grafana plugin parses this
/// form and no other with nine digits).
func formatTime(_ nanoseconds: Int64) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(30)
    appendTime(nanoseconds, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

/// `formatTime`'s bytes appended to `bytes`.
func appendTime(_ nanoseconds: Int64, to bytes: inout [UInt8]) {
    var seconds = nanoseconds / 1_000_000_000
    var fraction = nanoseconds % 1_000_000_000
    if fraction < 0 {
        fraction += 1_000_000_000
        seconds -= 1
    }
    // The civil date of the day by arithmetic (days since 1970-01-01 to year, month, day: H. Hinnant's
    // `civil_from_days`), not `gmtime_r` per cell.
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = Int(seconds - days * 86_400)
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
    let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
    let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
    // Nanoseconds in an Int64 span the years 1677 to 2262: always four digits.
    // Written into a fixed buffer by hand: `String(format:)` goes through Foundation and costs microseconds a
    // cell, and appending digit by digit checks the array's capacity each time.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 29) { text in
        func put(_ value: Int, _ width: Int, at end: Int) {
            var rest = value
            for position in stride(from: end - 1, through: end - width, by: -1) {
                text[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
        }
        put(year, 4, at: 4)
        text[4] = UInt8(ascii: "-")
        put(month, 2, at: 7)
        text[7] = UInt8(ascii: "-")
        put(day, 2, at: 10)
        text[10] = UInt8(ascii: "T")
        put(secondOfDay / 3_600, 2, at: 13)
        text[13] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, 2, at: 16)
        text[16] = UInt8(ascii: ":")
        put(secondOfDay % 60, 2, at: 19)
        text[19] = UInt8(ascii: ".")
        put(Int(fraction), 9, at: 29)
        bytes.append(contentsOf: UnsafeBufferPointer(text))
    }
}

/// Parses an RFC 3339 time (`2024-01-02T03:04:05Z`, optional fraction up to nanoseconds, `Z` or `±hh:mm`) into
/// nanoseconds since the epoch.
func parseTime(_ text: String) -> Int64? {
    let bytes = Array(text.utf8)
    func number(_ from: Int, _ count: Int) -> Int? {
        guard from + count <= bytes.count else { return nil }
        var value = 0
        for b in bytes[from..<(from + count)] {
            guard b >= 48 && b <= 57 else { return nil }
            value = value * 10 + Int(b - 48)
        }
        return value
    }
    guard bytes.count >= 10, let year = number(0, 4), bytes[4] == 45, let month = number(5, 2), bytes[7] == 45,
        let day = number(8, 2)
    else { return nil }
    var hour = 0
    var minute = 0
    var second = 0
    var fraction: Int64 = 0
    var offsetSeconds = 0
    var i = 10
    if i < bytes.count && (bytes[i] == 84 || bytes[i] == 32) {
        guard let h = number(11, 2), bytes.count > 13, bytes[13] == 58, let m = number(14, 2), bytes.count > 16,
            bytes[16] == 58, let s = number(17, 2)
        else { return nil }
        (hour, minute, second) = (h, m, s)
        i = 19
        if i < bytes.count && bytes[i] == 46 {
            i += 1
            var digits = 0
            while i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 {
                if digits < 9 { fraction = fraction * 10 + Int64(bytes[i] - 48) }
                digits += 1
                i += 1
            }
            for _ in min(digits, 9)..<9 { fraction *= 10 }
        }
        if i < bytes.count {
            if bytes[i] == 90 {
                i += 1
            } else if bytes[i] == 43 || bytes[i] == 45, let oh = number(i + 1, 2), let om = number(i + 4, 2) {
                offsetSeconds = (oh * 3600 + om * 60) * (bytes[i] == 43 ? 1 : -1)
                i += 6
            } else {
                return nil
            }
        }
    }
    guard i == bytes.count, (1...12).contains(month), (1...31).contains(day) else { return nil }
    var parts = tm()
    parts.tm_year = Int32(year - 1900)
    parts.tm_mon = Int32(month - 1)
    parts.tm_mday = Int32(day)
    parts.tm_hour = Int32(hour)
    parts.tm_min = Int32(minute)
    parts.tm_sec = Int32(second)
    let epoch = Int64(timegm(&parts)) - Int64(offsetSeconds)
    // Nanoseconds in an Int64 reach from 1677 to 2262: a time outside is no time here.
    let (scaled, overflow) = epoch.multipliedReportingOverflow(by: 1_000_000_000)
    guard !overflow else { return nil }
    let (nanoseconds, overflowAgain) = scaled.addingReportingOverflow(fraction)
    return overflowAgain ? nil : nanoseconds
}

/// Columns and rows of a statement's answer.
public struct QueryResult: Sendable {
    public var columns: [String]
    public var rows: [[SQLValue]]

    public init(columns: [String], rows: [[SQLValue]]) {
        self.columns = columns
        self.rows = rows
    }

    /// `?epoch=ns`: times as integers (nanoseconds since the epoch), as InfluxDB's `epoch` parameter does.
    public mutating func timesAsIntegers() {
        for r in rows.indices {
            for c in rows[r].indices { if case .time(let t) = rows[r][c] { rows[r][c] = .integer(t) } }
        }
    }

    static func message(_ text: String) -> QueryResult { QueryResult(columns: ["result"], rows: [[.string(text)]]) }

    func csv() -> String { String(decoding: csvBytes(), as: UTF8.self) }

    /// `csv()` as the bytes sent.
    public func csvBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 * (rows.count + 1))
        appendCSVHeader(to: &out)
        appendCSVRows(to: &out)
        return out
    }

    /// The column names as a CSV line.
    public func appendCSVHeader(to out: inout [UInt8]) {
        for (k, name) in columns.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendCSVCell(name, to: &out)
        }
        out.append(10)
    }

    /// The rows as CSV lines, cells written straight into `out` (a string is quoted when it holds a comma, a
    /// quote or a newline; other values never do).
    public func appendCSVRows(to out: inout [UInt8]) {
        for row in rows {
            for (k, value) in row.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                if case .string(let text) = value {
                    Self.appendCSVCell(text, to: &out)
                } else {
                    value.appendText(to: &out)
                }
            }
            out.append(10)
        }
    }

    private static func appendCSVCell(_ s: String, to out: inout [UInt8]) {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 }) else {
            out.append(contentsOf: s.utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// One JSON object a line, keys in column order.
    public func appendNDJSON(to out: inout [UInt8]) {
        for row in rows {
            appendJSONObject(row, to: &out)
            out.append(10)
        }
    }

    /// The rows as a JSON array of objects.
    public func appendJSONArray(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        appendJSONObjects(first: true, to: &out)
        out.append(UInt8(ascii: "]"))
    }

    /// The rows' objects, comma-separated (a comma first unless `first`): part of an array that pages extend.
    public func appendJSONObjects(first: Bool, to out: inout [UInt8]) {
        for (index, row) in rows.enumerated() {
            if index > 0 || !first { out.append(UInt8(ascii: ",")) }
            appendJSONObject(row, to: &out)
        }
    }

    /// A row as a JSON object whose keys come in column order (clients that read by position, such as a PEP 249
    /// cursor's `description`, depend on it); floats keep a fraction (`7.0`), times are strings.
    func appendJSONObject(_ row: [SQLValue], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, column) in columns.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(column, to: &out)
            out.append(UInt8(ascii: ":"))
            row[index].appendJSON(to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    public func table() -> String {
        var widths = columns.map(\.count)
        let cells = rows.map { $0.map(\.text) }
        for row in cells { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        let line = "+" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+\n"
        func render(_ values: [String]) -> String {
            "|"
                + values.enumerated().map { " " + $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) + " " }
                .joined(separator: "|") + "|\n"
        }
        return line + render(columns) + line + cells.map(render).joined() + line
    }
}

/// How a query's answer is written, from the request's `Accept`: CSV unless it asks for JSON, JSON lines or a
/// table.
public enum ResultFormat: Sendable, Equatable {
    case csv, json, ndjson, table

    public init(accept: String) {
        if accept.contains("application/json") {
            self = .json
        } else if accept.contains("application/nd-json") || accept.contains("application/x-ndjson") {
            self = .ndjson
        } else if accept.contains("text/table") {
            self = .table
        } else {
            self = .csv
        }
    }

    public var contentType: String {
        switch self {
        case .csv: return "text/csv"
        case .json: return "application/json"
        case .ndjson: return "application/nd-json"
        case .table: return "text/plain"
        }
    }
}
