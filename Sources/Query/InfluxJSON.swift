import Coordinator
import SQL
import TSDB

/// InfluxDB 1.x's JSON answer of `/query`, written byte by byte in column order: `{"results":[{"statement_id":0,
/// "series":[{"name":…,"tags":{…},"columns":[…],"values":[[…]]}]}]}`, a statement's failure as its `error`.
/// Floats keep a fraction (`7.0`) so that clients read them back as floats; times are RFC 3339 with trailing zeros
/// of the fraction trimmed (Go's `RFC3339Nano`), or integers in the unit of `epoch`.
public struct InfluxJSON: Sendable {
    /// Nanoseconds per unit of the request's `epoch` (`ns`, `u`/`µ`, `ms`, `s`, `m`, `h`); nil: RFC 3339.
    let epochUnit: Int64?

    public init(epoch: String?) {
        switch epoch {
        case "ns", "n": epochUnit = 1
        case "u", "µ", "us": epochUnit = 1_000
        case "ms": epochUnit = 1_000_000
        case "s": epochUnit = 1_000_000_000
        case "m": epochUnit = 60_000_000_000
        case "h": epochUnit = 3_600_000_000_000
        default: epochUnit = nil
        }
    }

    /// One statement's result object.
    public func appendResult(_ id: Int, _ outcome: Result<[InfluxSeries], CoordinatorError>, to out: inout [UInt8]) {
        out += Array("{\"statement_id\":\(id)".utf8)
        switch outcome {
        case .failure(let failure):
            out += Array(",\"error\":".utf8)
            JSONText.appendString(failure.message, to: &out)
        case .success(let series) where !series.isEmpty:
            out += Array(",\"series\":[".utf8)
            for (index, one) in series.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendSeries(one, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .success: break
        }
        out.append(UInt8(ascii: "}"))
    }

    private func appendSeries(_ series: InfluxSeries, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var comma = false
        if let name = series.name {
            out += Array("\"name\":".utf8)
            JSONText.appendString(name, to: &out)
            comma = true
        }
        if !series.tags.isEmpty {
            if comma { out.append(UInt8(ascii: ",")) }
            out += Array("\"tags\":{".utf8)
            for (index, tag) in series.tags.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendString(tag.key, to: &out)
                out.append(UInt8(ascii: ":"))
                JSONText.appendString(tag.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
            comma = true
        }
        if comma { out.append(UInt8(ascii: ",")) }
        out += Array("\"columns\":[".utf8)
        for (index, column) in series.columns.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(column, to: &out)
        }
        out += Array("],\"values\":[".utf8)
        for (r, row) in series.values.enumerated() {
            if r > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            for (c, cell) in row.enumerated() {
                if c > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(cell, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out += Array("]}".utf8)
    }

    func appendValue(_ value: SQLValue, to out: inout [UInt8]) {
        switch value {
        case .time(let t):
            if let unit = epochUnit {
                out += Array(String(t / unit).utf8)
            } else {
                out.append(UInt8(ascii: "\""))
                out += Self.rfc3339Trimmed(t)
                out.append(UInt8(ascii: "\""))
            }
        default: value.appendJSON(to: &out)
        }
    }

    /// `2024-01-02T03:04:05.5Z`: the fraction without trailing zeros, none at all when whole.
    static func rfc3339Trimmed(_ t: Int64) -> [UInt8] {
        var bytes: [UInt8] = []
        appendTime(t, to: &bytes)
        // `appendTime` writes `…:05.123456789`: drop trailing zeros, then the dot if nothing is left.
        while bytes.last == UInt8(ascii: "0") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        bytes.append(UInt8(ascii: "Z"))
        return bytes
    }
}
