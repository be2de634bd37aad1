/// The statements of Flotilla's SQL subset (docs/store.md, "Reads and SQL"), as parsed.
public indirect enum Statement: Sendable, Equatable {
    case select(Select)
    /// `SELECT 1`, `SELECT 'a' AS x`: a row of constants, no table.
    case selectValues(columns: [String], values: [Literal])
    /// `SHOW SERIES [FROM t] [WHERE …]`: the series keys (`t,tag=v,…`).
    case showSeries(table: String?, filter: SQLExpression?)
    /// `SHOW TAG VALUES FROM t WITH KEY = k [WHERE …]`.
    case showTagValues(table: String, key: String, filter: SQLExpression?)
    /// `DESCRIBE DATABASE d`: its options.
    case describeDatabase(String)
    /// `EXPLAIN <statement>`: how it would run.
    case explain(Statement)
    case showTables
    case showDatabases
    case showTenants
    case showReplicas
    case showDataNodes
    case describeTable(String)
    case createTenant(name: String, ifNotExists: Bool)
    case dropTenant(name: String)
    case createDatabase(name: String, ifNotExists: Bool, options: [DatabaseOption])
    case alterDatabase(name: String, options: [DatabaseOption])
    case dropDatabase(name: String)
    case createUser(name: String, password: String, ifNotExists: Bool)
    case dropUser(name: String)
    case grant(privilege: String, database: String, user: String)
    case revoke(database: String, user: String)
    case showVnodes
    /// `REPLICA ADD|REMOVE|PROMOTE replica_id R node_id N`, `REPLICA DESTROY replica_id R`.
    case replica(ReplicaCommand)
    /// `MOVE VNODE v TO NODE n`, `COPY VNODE v TO NODE n`, `DROP VNODE v`.
    case vnode(VnodeCommand)
    case checksumGroup(replicaSet: UInt64)
    /// `DRAIN NODE n`: move every vnode off node `n` (so that it can leave the cluster).
    case drainNode(UInt64)
    /// `INSERT INTO t(time, tag, field, …) VALUES (…), (…)`.
    case insert(Insert)
    /// `DELETE FROM t [WHERE …]` (also InfluxQL's form): the rows of `table` the condition selects — tag
    /// comparisons and a time range, joined by AND (docs/store.md).
    case delete(table: String, filter: SQLExpression?)
}

/// An `INSERT … VALUES`: rows of literals for the named columns (CnosDB's form; a `time` column is optional).
public struct Insert: Sendable, Equatable {
    public var table: String
    public var columns: [String]
    public var rows: [[Literal]]
    public init(table: String, columns: [String], rows: [[Literal]]) {
        self.table = table
        self.columns = columns
        self.rows = rows
    }
}

/// A replica-group command (docs/replicas.md).
public enum ReplicaCommand: Sendable, Equatable {
    case add(replicaSet: UInt64, node: UInt64)
    case remove(replicaSet: UInt64, node: UInt64)
    case promote(replicaSet: UInt64, node: UInt64)
    case destroy(replicaSet: UInt64)
}

/// A vnode command (docs/replicas.md).
public enum VnodeCommand: Sendable, Equatable {
    case move(vnode: UInt64, toNode: UInt64)
    case copy(vnode: UInt64, toNode: UInt64)
    case drop(vnode: UInt64)
}

/// One `WITH`/`SET` option of a database: `TTL '30d'`, `SHARD 4`, `VNODE_DURATION '1d'`, `REPLICA 3`,
/// `PRECISION 'ms'`.
public struct DatabaseOption: Sendable, Equatable {
    public var name: String
    public var value: Literal
    public init(name: String, value: Literal) {
        self.name = name
        self.value = value
    }
}

/// A `SELECT`.
public struct Select: Sendable, Equatable {
    public var items: [SelectItem]
    public var table: String
    public var filter: SQLExpression?
    /// `date_bin(INTERVAL '…', time)` width in nanoseconds, if grouped by time.
    public var timeBin: Int64?
    /// `date_bin`'s third argument: where bins start (`TIMESTAMP '1970-01-01T00:00:00Z'`, a string or an integer
    /// of nanoseconds); none: the epoch.
    public var timeBinOrigin: Literal?
    public var groupTags: [String] = []
    public var descending = false
    /// An `ORDER BY time` was given (ascending or not): the rows must come in time order, however many.
    public var orderedByTime = false
    /// An `ORDER BY` on other columns (of the answer, by name or alias), applied before LIMIT and OFFSET.
    public var orderBy: [OrderKey] = []
    /// `FROM db.table`: the database named there, if any (it wins over the request's).
    public var database: String?
    /// `HAVING`: a condition on the answer's columns (by name or alias; `avg(x)` names the column of that
    /// aggregate), applied after grouping.
    public var having: SQLExpression?
    /// Per item (same positions as `items`): arithmetic with numbers applied to its values (`usage * 100`,
    /// `avg(x) / 1024`).
    public var math: [[MathStep]] = []
    /// InfluxQL's rule for a tag a row does not have: it reads as the empty string (`host != 'a'` keeps series
    /// without `host`, `host = ''` selects them). SQL's rule (false): it is NULL.
    public var missingTagsAreEmpty = false
    /// `time_window_gapfill`: every window of the range present, per item how an empty one is filled
    /// (`locf(…)`: the previous value, `interpolate(…)`: linear, otherwise null); nil: no gap filling.
    public var gapfill: [Fill]?
    public var limit: Int?
    public var offset: Int = 0

    public init(items: [SelectItem], table: String) {
        self.items = items
        self.table = table
    }
}

/// One key of an `ORDER BY`.
public struct OrderKey: Sendable, Equatable {
    public var column: String
    public var descending: Bool
    public init(_ column: String, descending: Bool) {
        self.column = column
        self.descending = descending
    }
}

/// A projected column.
public enum SelectItem: Sendable, Equatable {
    case all
    case column(String, alias: String?)
    case aggregate(Aggregate, column: String?, alias: String?)
    /// `date_bin(...)` in the select list: the bin's start time.
    case timeBin(alias: String?)
}

/// An aggregate function. The first seven are SQL's; `median`, `spread`, `stddev` (sample standard deviation) and
/// `percentile(p)` (the nearest-rank value at `p` percent, as InfluxDB computes it) are computed over rows, never
/// pushed down to the vnodes.
public enum Aggregate: Sendable, Equatable, Hashable {
    case count, sum, min, max, avg, first, last
    case median, spread, stddev
    /// `count(DISTINCT c)`: distinct values.
    case countDistinct
    case percentile(Double)

    /// The function's name, lower case (`avg`, `percentile`).
    public var name: String {
        switch self {
        case .count: "count"
        case .sum: "sum"
        case .min: "min"
        case .max: "max"
        case .avg: "avg"
        case .first: "first"
        case .last: "last"
        case .median: "median"
        case .spread: "spread"
        case .stddev: "stddev"
        case .countDistinct: "count"
        case .percentile: "percentile"
        }
    }

    /// The answer's column for this function of `column` when the SELECT gives no alias: `avg(usage)`,
    /// `count(*)`, `count(DISTINCT host)`.
    public func columnName(_ column: String?) -> String {
        self == .countDistinct ? "count(DISTINCT \(column ?? "*"))" : "\(name)(\(column ?? "*"))"
    }

    /// The function of one column that `name` (any case) stands for; `percentile` needs its argument and is not
    /// found here.
    public init?(name: String) {
        switch name.lowercased() {
        case "count": self = .count
        case "sum": self = .sum
        case "min": self = .min
        case "max": self = .max
        case "avg", "mean": self = .avg
        case "first": self = .first
        case "last": self = .last
        case "median": self = .median
        case "spread": self = .spread
        case "stddev": self = .stddev
        default: return nil
        }
    }
}

/// A literal value.
public enum Literal: Sendable, Equatable {
    case integer(Int64)
    case float(Double)
    case string(String)
    case boolean(Bool)
    case null
}

/// A `WHERE` expression.
public indirect enum SQLExpression: Sendable, Equatable {
    case comparison(column: String, op: Comparison, value: Literal)
    case and(SQLExpression, SQLExpression)
    case or(SQLExpression, SQLExpression)
    case not(SQLExpression)
    /// `column =~ /pattern/` (or `!~` when `matches` is false): an unanchored regular expression on a tag's value
    /// or a string field's (InfluxQL; SQL's `LIKE` becomes an anchored one). A row without either has the empty
    /// string there.
    case regex(column: String, pattern: String, matches: Bool)
    /// `column IS NULL` (`IS NOT NULL` when `negated`).
    case isNull(column: String, negated: Bool)
    /// `column IN (…)` (`NOT IN` when `negated`).
    case inList(column: String, values: [Literal], negated: Bool)
}

public enum Comparison: String, Sendable, Equatable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
}

/// A statement that does not parse: what was expected and at which character.
public struct SQLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: Int
    public var message: String
    public init(_ message: String, at position: Int) {
        self.message = message
        self.position = position
    }
    public var description: String { "SQL error at character \(position + 1): \(message)" }
}
