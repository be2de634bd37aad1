/// One entry of a Raft log: a term, an index and what the state machine (or the membership) is to apply.
public struct Entry: Sendable, Equatable {
    /// The term of the leader that created the entry.
    public var term: Term
    /// The entry's position in the log.
    public var index: LogIndex
    /// What the entry carries.
    public var payload: Payload

    /// The content of an entry.
    public enum Payload: Sendable, Equatable {
        /// Opaque bytes for the state machine. An empty array is the no-op a new leader appends (§8).
        case data([UInt8])
        /// A membership change (§6), applied by the core itself once committed.
        indirect case confChange(ConfChange)
    }

    public init(term: Term, index: LogIndex, payload: Payload) {
        self.term = term
        self.index = index
        self.payload = payload
    }

    /// Convenience for a data entry.
    public init(term: Term, index: LogIndex, data: [UInt8]) {
        self.init(term: term, index: index, payload: .data(data))
    }

    /// The bytes this entry counts for message-size and uncommitted-size limits.
    public var byteCount: Int {
        switch payload {
        case .data(let bytes): return bytes.count
        case .confChange(let change): return 16 + change.operations.count * 9 + change.context.count
        }
    }

    /// The state machine's bytes, or `nil` for a membership change.
    public var data: [UInt8]? {
        if case .data(let bytes) = payload { return bytes }
        return nil
    }
}

/// An (index, term) pair naming one entry: what a proposer waits for to see committed.
public struct LogPosition: Sendable, Hashable, CustomStringConvertible {
    public var index: LogIndex
    public var term: Term
    public init(index: LogIndex, term: Term) {
        self.index = index
        self.term = term
    }
    public var description: String { "\(index)@\(term)" }
}
