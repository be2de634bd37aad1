/// One data point: a measurement, its tags (sorted by key, unique), its fields and a timestamp in nanoseconds.
///
/// The series a point belongs to is its measurement and tags (`SeriesKey`); a point is identified by its series
/// and timestamp, and writing the same point again replaces its fields (docs/store.md).
public struct Point: Sendable, Equatable {
    public var measurement: String
    /// Sorted by key; keys are unique.
    public var tags: [Tag]
    /// In the order written; keys are unique (the last value of a repeated key wins).
    public var fields: [Field]
    /// Nanoseconds since the Unix epoch.
    public var timestamp: Int64

    public init(measurement: String, tags: [Tag], fields: [Field], timestamp: Int64) {
        self.measurement = measurement
        // Writers mostly send their tags sorted already: sorting only the others saves a copy per point.
        let sorted = zip(tags, tags.dropFirst()).allSatisfy { $0.key <= $1.key }
        self.tags = sorted ? tags : tags.sorted { $0.key < $1.key }
        self.fields = fields
        self.timestamp = timestamp
    }
}

/// A tag: indexed, part of the series key.
public struct Tag: Sendable, Equatable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// A field: a named value of a point.
public struct Field: Sendable, Equatable {
    public var key: String
    public var value: FieldValue
    public init(_ key: String, _ value: FieldValue) {
        self.key = key
        self.value = value
    }
}

/// The five field types of the line protocol.
public enum FieldValue: Sendable, Equatable, Hashable {
    case float(Double)
    case integer(Int64)
    case unsigned(UInt64)
    case string(String)
    case boolean(Bool)

    /// The type's name, as `DESCRIBE TABLE` shows it.
    public var typeName: String {
        switch self {
        case .float: return "DOUBLE"
        case .integer: return "BIGINT"
        case .unsigned: return "BIGINT UNSIGNED"
        case .string: return "STRING"
        case .boolean: return "BOOLEAN"
        }
    }
}

/// Timestamp units of the line protocol (`precision=` on writes).
public enum Precision: String, Sendable, CaseIterable {
    case nanoseconds = "ns"
    case microseconds = "us"
    case milliseconds = "ms"
    case seconds = "s"
    case minutes = "m"
    case hours = "h"

    /// Parses `ns`, `us`, `ms`, `s`, `m`, `h` and InfluxDB's aliases `n` and `u`.
    public init?(parsing text: String) {
        switch text {
        case "ns", "n": self = .nanoseconds
        case "us", "u", "µs": self = .microseconds
        case "ms": self = .milliseconds
        case "s": self = .seconds
        case "m": self = .minutes
        case "h": self = .hours
        default: return nil
        }
    }

    /// Nanoseconds per unit.
    public var nanoseconds: Int64 {
        switch self {
        case .nanoseconds: return 1
        case .microseconds: return 1_000
        case .milliseconds: return 1_000_000
        case .seconds: return 1_000_000_000
        case .minutes: return 60_000_000_000
        case .hours: return 3_600_000_000_000
        }
    }
}
