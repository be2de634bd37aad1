/// A statement of the InfluxQL subset that `/query` answers (docs/influxql.md), as parsed: a SELECT carries the
/// same `Select` plan the SQL front end makes, plus what only InfluxQL has (fill, per-series limits).
public enum InfluxStatement: Sendable, Equatable {
    case select(InfluxSelect)
    case showDatabases
    /// `SHOW MEASUREMENTS [ON db] [WITH MEASUREMENT =~ /re/ | = 'name'] [LIMIT n] [OFFSET n]`.
    case showMeasurements(on: String?, matching: NameMatch?, filter: SQLExpression?, limit: Int?, offset: Int)
    case showTagKeys(on: String?, from: String?)
    /// `SHOW TAG VALUES [ON db] [FROM m] WITH KEY = k | IN (k, …) | =~ /re/ [WHERE …]`: a WHERE keeps the series
    /// whose tags match it (time conditions are ignored).
    case showTagValues(on: String?, from: String?, keys: NameMatch, filter: SQLExpression?)
    case showFieldKeys(on: String?, from: String?)
    case showSeries(on: String?, from: String?, filter: SQLExpression?)
    case showRetentionPolicies(on: String?)
    case showUsers
    case createDatabase(String)
    case dropDatabase(String)
    /// `DELETE FROM m [WHERE …]`, `DROP SERIES FROM m [WHERE …]` and `DROP MEASUREMENT m`: the rows of `m` the
    /// condition selects (tag comparisons and a time range, joined by AND), as SQL's DELETE.
    case delete(from: String, filter: SQLExpression?)
    /// `DELETE` without FROM, `CREATE RETENTION POLICY` and others parsed so that their answer can say
    /// what is not supported, rather than a parse error.
    case unsupported(String)
}

/// Which names a SHOW statement keeps.
public enum NameMatch: Sendable, Equatable {
    case equal(String)
    case oneOf([String])
    case regex(String)
}

/// An InfluxQL `SELECT`.
public struct InfluxSelect: Sendable, Equatable {
    /// The plan shared with SQL: items (aggregates named as InfluxDB names them), measurement, WHERE with every
    /// time expression worked out, `GROUP BY time(…)` width, `ORDER BY time DESC`. Its limit and offset stay
    /// unset: InfluxQL's apply to each series.
    public var plan: Select
    /// `FROM "db"."rp"."m"`: the database named in the FROM, if any.
    public var database: String?
    /// `GROUP BY *`: every tag of the measurement.
    public var groupByAllTags = false
    public var fill: Fill = .null
    /// Rows per series.
    public var limit: Int?
    public var offset = 0
    /// Series.
    public var seriesLimit: Int?
    public var seriesOffset = 0
    /// Per item of `plan.items` (same positions): arithmetic with a number applied to its values, as Grafana's
    /// "math" part writes it (`mean("value") / 100`).
    public var math: [[MathStep]] = []

    public init(plan: Select) { self.plan = plan }
}

/// One step of arithmetic on a selected value: `* 8`, `/ 100`.
public struct MathStep: Sendable, Equatable {
    public enum Operation: String, Sendable {
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        case divide = "/"
    }
    public var operation: Operation
    public var operand: Double
    public init(_ operation: Operation, _ operand: Double) {
        self.operation = operation
        self.operand = operand
    }

    /// `value` with `steps` applied as arithmetic reads: `*` and `/` before `+` and `-`, each left to right
    /// (`mean + 10 * 2` is mean + 20).
    public static func apply(_ steps: [MathStep], to value: Double) -> Double {
        var total = 0.0
        var term = value
        for step in steps {
            switch step.operation {
            case .multiply, .divide: term = step.apply(term)
            case .add:
                total += term
                term = step.operand
            case .subtract:
                total += term
                term = -step.operand
            }
        }
        return total + term
    }

    public func apply(_ value: Double) -> Double {
        switch operation {
        case .add: return value + operand
        case .subtract: return value - operand
        case .multiply: return value * operand
        case .divide: return value / operand
        }
    }
}

/// What an empty `GROUP BY time` interval shows.
public enum Fill: Sendable, Equatable {
    case null
    case none
    case value(Double)
    case previous
    case linear
}
