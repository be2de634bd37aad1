/// The result of counting votes (or acknowledgements) in a configuration.
public enum VoteResult: Sendable, Equatable {
    case pending
    case won
    case lost
}

/// Majority arithmetic for simple and joint configurations (§5.2, §5.3, §6).
enum Quorum {
    /// The highest value that a majority of `voters` has reached; `.max` for an empty set (so that `min`
    /// over the two halves of a joint configuration ignores an empty half).
    static func quorumValue(voters: Set<NodeID>, value: (NodeID) -> UInt64) -> UInt64 {
        if voters.isEmpty { return .max }
        if voters.count == 1 { return value(voters.first!) }
        if voters.count <= 7 {
            // Small groups: a fixed-size insertion sort without allocating.
            var values: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
            return withUnsafeMutableBytes(of: &values) { raw in
                let buffer = raw.bindMemory(to: UInt64.self)
                var count = 0
                for voter in voters {
                    var position = count
                    let v = value(voter)
                    while position > 0 && buffer[position - 1] < v {
                        buffer[position] = buffer[position - 1]
                        position -= 1
                    }
                    buffer[position] = v
                    count += 1
                }
                return buffer[count / 2]
            }
        }
        var values = [UInt64]()
        values.reserveCapacity(voters.count)
        for voter in voters { values.append(value(voter)) }
        values.sort(by: >)
        return values[voters.count / 2]
    }

    /// The highest value that a majority of each half of `membership` has reached (joint: the minimum
    /// of the two halves).
    static func quorumValue(_ membership: Membership, value: (NodeID) -> UInt64) -> UInt64 {
        min(
            quorumValue(voters: membership.voters, value: value),
            quorumValue(voters: membership.outgoingVoters, value: value))
    }

    /// The committed index of a (possibly joint) membership.
    static func committedIndex(_ membership: Membership, match: (NodeID) -> LogIndex) -> LogIndex {
        LogIndex(rawValue: quorumValue(membership) { match($0).rawValue })
    }

    /// Counts yes/no answers in one majority config; members absent from `answers` have not answered.
    static func voteResult(voters: Set<NodeID>, answer: (NodeID) -> Bool?) -> VoteResult {
        if voters.isEmpty { return .won }
        var granted = 0
        var missing = 0
        for voter in voters {
            switch answer(voter) {
            case .some(true): granted += 1
            case .some(false): break
            case .none: missing += 1
            }
        }
        let quorum = voters.count / 2 + 1
        if granted >= quorum { return .won }
        if granted + missing >= quorum { return .pending }
        return .lost
    }

    /// Counts answers in a (possibly joint) membership: both halves must win.
    static func voteResult(_ membership: Membership, answer: (NodeID) -> Bool?) -> VoteResult {
        let incoming = voteResult(voters: membership.voters, answer: answer)
        let outgoing = voteResult(voters: membership.outgoingVoters, answer: answer)
        if incoming == .won && outgoing == .won { return .won }
        if incoming == .lost || outgoing == .lost { return .lost }
        return .pending
    }
}
