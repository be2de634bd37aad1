import Coordinator
import SQL

/// The intervals of one series of a `GROUP BY time(width)` answer, every interval from the query's start to its end
/// present and the empty ones filled as `fill(…)` says (InfluxQL). Rows are `[time, value…]` with times that are
/// interval starts, in time order.
struct IntervalFill: Sendable {
    let width: Int64
    /// The WHERE's time range, `[start, end)`; `.min`/`.max` where it has no bound.
    let range: (Int64, Int64)
    let now: Int64
    let fill: Fill
    /// Per value column (the columns after the time), its own fill instead of `fill` (SQL's gapfill: `locf(…)`,
    /// `interpolate(…)`, or nulls).
    var columnFills: [Fill]? = nil

    /// The rows with the missing intervals added and filled. Without an upper time bound the intervals run to
    /// `now()` when a lower one is given (as InfluxDB), else to the last interval with data; without a lower one
    /// they start at the first interval with data.
    func apply(_ rows: [[SQLValue]]) throws(CoordinatorError) -> [[SQLValue]] {
        if case .none = fill, columnFills == nil { return rows }
        func bin(_ t: Int64) -> Int64 {
            let b = (t / width) * width
            guard t < 0 && t % width != 0 else { return b }
            let (lower, overflow) = b.subtractingReportingOverflow(width)
            return overflow ? b : lower
        }
        // `time < -9223372036854775808` holds for no time: nothing to fill.
        if range.1 == .min { return rows }
        var byBin: [Int64: [SQLValue]] = [:]
        for row in rows { if case .time(let t) = row[0] { byBin[t] = row } }
        let known = byBin.keys
        guard let firstData = known.min(), let lastData = known.max() else { return rows }
        let first = range.0 == .min ? firstData : bin(range.0)
        // No upper bound: now() when a lower one is given (as InfluxDB), else the last interval with data.
        let last = range.1 != .max ? bin(range.1 - 1) : range.0 == .min ? lastData : max(bin(now), lastData)
        guard last >= first else { return rows }
        let (span, overflow) = last.subtractingReportingOverflow(first)
        let count = overflow ? Int64.max : span / width + 1
        guard count <= 1_000_000 else {
            throw CoordinatorError(
                .badRequest, "influxql.too_many_intervals",
                "GROUP BY time(…) would make \(overflow ? "too many" : "\(count)") intervals (at most 1,000,000): narrow "
                    + "the time range")
        }
        let columns = rows.first!.count
        var out: [[SQLValue]] = []
        out.reserveCapacity(Int(count))
        for step in 0..<count {
            // first + step · width ≤ last: no overflow.
            let t = first &+ step &* width
            out.append(byBin[t] ?? [.time(t)] + [SQLValue](repeating: .null, count: columns - 1))
        }
        for column in 1..<columns {
            switch columnFills.map({ column - 1 < $0.count ? $0[column - 1] : .null }) ?? fill {
            case .none, .null: break
            case .value(let v):
                let filler: SQLValue = v == v.rounded() && abs(v) < 1e15 ? .integer(Int64(v)) : .double(v)
                for r in out.indices where out[r][column] == .null { out[r][column] = filler }
            case .previous:
                var previous = SQLValue.null
                for r in out.indices {
                    if out[r][column] == .null { out[r][column] = previous } else { previous = out[r][column] }
                }
            case .linear:
                var lastKnown: Int?
                for r in out.indices where out[r][column].number != nil {
                    if let l = lastKnown, r - l > 1, let a = out[l][column].number, let b = out[r][column].number {
                        for m in (l + 1)..<r {
                            out[m][column] = .double(a + (b - a) * Double(m - l) / Double(r - l))
                        }
                    }
                    lastKnown = r
                }
            }
        }
        return out
    }
}
