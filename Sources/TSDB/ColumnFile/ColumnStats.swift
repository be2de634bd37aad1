/// What a block's column holds in summary, kept in the file's index: a query whose range covers a whole block
/// answers `count`, `sum`, `min`, `max` (and `mean`) from these, without reading the block.
enum ColumnStats: Sendable, Equatable {
    case float(min: Double, max: Double, sum: Double)
    /// `exact`: the sum did not overflow (otherwise the block must be read to sum it).
    case integer(min: Int64, max: Int64, sum: Int64, exact: Bool)
    case unsigned(min: UInt64, max: UInt64, sum: UInt64, exact: Bool)
    case boolean(trues: Int)
    case string

    /// The stats of the present values of `column` in `rows`; `nil` when none is present.
    static func of(_ column: Column, rows: Range<Int>) -> ColumnStats? {
        let present = rows.filter { column.present[$0] }
        guard let first = present.first else { return nil }
        switch column.kind {
        case .float:
            var (low, high, sum) = (column.floats[first], column.floats[first], 0.0)
            for row in present {
                let value = column.floats[row]
                low = Swift.min(low, value)
                high = Swift.max(high, value)
                sum += value
            }
            return .float(min: low, max: high, sum: sum)
        case .integer:
            let (low, high, sum, exact) = integerStats(present.lazy.map { column.integers[$0] })
            return .integer(min: low, max: high, sum: sum, exact: exact)
        case .unsigned:
            let (low, high, sum, exact) = integerStats(present.lazy.map { column.unsigneds[$0] })
            return .unsigned(min: low, max: high, sum: sum, exact: exact)
        case .boolean:
            return .boolean(trues: present.count { column.booleans[$0] })
        case .string:
            return .string
        }
    }

    /// Min, max and sum of a non-empty sequence; `exact`: the sum did not overflow.
    private static func integerStats<T: FixedWidthInteger>(
        _ values: some Sequence<T>
    ) -> (min: T, max: T, sum: T, exact: Bool) {
        var (low, high, sum, exact) = (T.max, T.min, T(0), true)
        for value in values {
            low = Swift.min(low, value)
            high = Swift.max(high, value)
            let (next, overflow) = sum.addingReportingOverflow(value)
            sum = next
            exact = exact && !overflow
        }
        return (low, high, sum, exact)
    }
}
