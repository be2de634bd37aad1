/// A strongly typed 64-bit identifier or counter used by the Raft core.
///
/// `NodeID`, `GroupID`, `Term` and `LogIndex` all conform, so that a term can never be passed where an
/// index is expected. The raw value is the wire and disk representation.
public protocol RaftIdentifier: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
where RawValue == UInt64 {
    init(rawValue: UInt64)
}

extension RaftIdentifier {
    /// Wraps a raw value.
    public init(_ value: UInt64) { self.init(rawValue: value) }
    /// Wraps an integer literal.
    public init(integerLiteral value: UInt64) { self.init(rawValue: value) }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
    /// The zero value: "none" for ids, "before the first" for terms and indexes.
    public static var zero: Self { Self(rawValue: 0) }
}

/// The id of one member of a Raft group: the node that hosts it. Never zero for a real node.
public struct NodeID: RaftIdentifier {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// The id of one Raft group (one replica set, or the meta group) on a multi-Raft node.
public struct GroupID: RaftIdentifier {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// A Raft term (§5.1 of the Raft paper): a logical clock that only increases.
public struct Term: RaftIdentifier {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The term after this one.
    public var next: Term { Term(rawValue: rawValue + 1) }
}

/// The position of an entry in a Raft log. The first entry has index 1; index 0 stands for "before the log".
public struct LogIndex: RaftIdentifier {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func + (lhs: LogIndex, rhs: UInt64) -> LogIndex { LogIndex(rawValue: lhs.rawValue + rhs) }
    public static func - (lhs: LogIndex, rhs: UInt64) -> LogIndex { LogIndex(rawValue: lhs.rawValue - rhs) }
    public static func += (lhs: inout LogIndex, rhs: UInt64) { lhs.rawValue += rhs }
    /// The number of indexes from `other` up to this one; zero when `other` is not below.
    public func distance(from other: LogIndex) -> UInt64 { rawValue > other.rawValue ? rawValue - other.rawValue : 0 }
}
