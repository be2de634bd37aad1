import RaftCore

/// What a deduplicating state machine remembers of its clients: per client (node and boot), the results of the
/// requests it applied that the client may still retry. Part of the machine's snapshot, so every replica,
/// including one restored from a snapshot, drops the same duplicates.
///
/// Bounded: a client's results below its `firstIncomplete` are forgotten; at most `resultsPerClient` results are
/// kept per client (beyond that the oldest go and the client's floor rises past them); at most `maxClients`
/// clients are kept, the one least recently seen in the log going first. Every decision depends only on the
/// log, so replicas stay identical.
public struct SessionTable: Sendable, Equatable {
    public static let maxClients = 1_024
    public static let resultsPerClient = 16_384

    struct Key: Hashable, Comparable, Sendable {
        var client: UInt64
        var epoch: UInt64
        static func < (a: Key, b: Key) -> Bool { (a.client, a.epoch) < (b.client, b.epoch) }
    }

    struct Session: Sendable, Equatable {
        /// Every request below it was answered or given up by the client: a copy of one is a duplicate.
        var floor: UInt64 = 0
        var results: [UInt64: [UInt8]] = [:]
        /// The log index of the client's latest request here (for eviction).
        var lastIndex: UInt64 = 0
    }

    var sessions: [Key: Session] = [:]

    public init() {}

    /// What to do with a request about to apply at `index`.
    public enum Verdict: Equatable, Sendable {
        /// Apply it (then `record` its result).
        case apply
        /// Already applied: answer with its result again, apply nothing.
        case duplicate([UInt8])
        /// Below the client's floor with no result kept: it was answered long ago or its result was forgotten;
        /// apply nothing and tell the proposer the outcome is unknown.
        case expired
    }

    /// Judges `request` (arriving at `index`) and moves the client's floor up to its `firstIncomplete`.
    public mutating func check(_ request: ClientRequest, at index: LogIndex) -> Verdict {
        let key = Key(client: request.client, epoch: request.epoch)
        var session = sessions[key] ?? Session()
        if request.firstIncomplete > session.floor {
            session.floor = request.firstIncomplete
            session.results = session.results.filter { $0.key >= session.floor }
        }
        session.lastIndex = max(session.lastIndex, index.rawValue)
        defer {
            sessions[key] = session
            if sessions.count > Self.maxClients { evictLeastRecent() }
        }
        if let result = session.results[request.sequence] { return .duplicate(result) }
        if request.sequence < session.floor { return .expired }
        return .apply
    }

    /// Remembers the result of a request that `check` said to apply.
    public mutating func record(_ request: ClientRequest, result: [UInt8]) {
        let key = Key(client: request.client, epoch: request.epoch)
        guard var session = sessions[key] else { return }
        session.results[request.sequence] = result
        if session.results.count > Self.resultsPerClient, let oldest = session.results.keys.min() {
            session.results[oldest] = nil
            session.floor = max(session.floor, oldest + 1)
        }
        sessions[key] = session
    }

    private mutating func evictLeastRecent() {
        guard let victim = sessions.min(by: { ($0.value.lastIndex, $0.key) < ($1.value.lastIndex, $1.key) })?.key
        else { return }
        sessions[victim] = nil
    }

    /// How many clients are remembered.
    public var clientCount: Int { sessions.count }

    /// How many results are kept, over all clients.
    public var resultCount: Int { sessions.values.reduce(0) { $0 + $1.results.count } }

    // MARK: - Encoding

    /// `u32 count`, then per client (in key order) `client u64, epoch u64, floor u64, lastIndex u64, u32 results`,
    /// then per result (in sequence order) `sequence u64, u32 length, bytes`.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.appendU32(UInt32(sessions.count))
        for key in sessions.keys.sorted() {
            let session = sessions[key]!
            for value in [key.client, key.epoch, session.floor, session.lastIndex] { out.appendU64(value) }
            out.appendU32(UInt32(session.results.count))
            for sequence in session.results.keys.sorted() {
                let result = session.results[sequence]!
                out.appendU64(sequence)
                out.appendU32(UInt32(result.count))
                out += result
            }
        }
        return out
    }

    /// Decodes what `encoded()` wrote; `nil` if the bytes are not a whole table.
    public init?(decoding bytes: [UInt8]) {
        var position = 0
        func u32() -> UInt32? {
            guard bytes.count - position >= 4 else { return nil }
            var value: UInt32 = 0
            for k in 0..<4 { value |= UInt32(bytes[position + k]) << UInt32(8 * k) }
            position += 4
            return value
        }
        func u64() -> UInt64? {
            guard bytes.count - position >= 8 else { return nil }
            var value: UInt64 = 0
            for k in 0..<8 { value |= UInt64(bytes[position + k]) << UInt64(8 * k) }
            position += 8
            return value
        }
        guard let count = u32() else { return nil }
        for _ in 0..<count {
            guard let client = u64(), let epoch = u64(), let floor = u64(), let lastIndex = u64(),
                let results = u32()
            else { return nil }
            var session = Session(floor: floor, results: [:], lastIndex: lastIndex)
            for _ in 0..<results {
                guard let sequence = u64(), let length = u32(), bytes.count - position >= Int(length) else {
                    return nil
                }
                session.results[sequence] = Array(bytes[position..<(position + Int(length))])
                position += Int(length)
            }
            sessions[Key(client: client, epoch: epoch)] = session
        }
        guard position == bytes.count else { return nil }
    }
}

extension Array where Element == UInt8 {
    mutating func appendU32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func appendU64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
