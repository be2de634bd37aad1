import RaftCore
import RaftWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a proposal or read did not complete. Each maps to an honest HTTP status in the server.
public enum HostError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This node does not host the group.
    case unknownGroup(GroupID)
    /// No leader was known (or reachable) before the deadline; `leaderHint` is the last one seen.
    case noLeader(GroupID, leaderHint: NodeID?)
    /// The deadline passed; the proposal may still commit later.
    case timeout(GroupID)
    /// The core refused the request (entry too large, too many uncommitted bytes, ...).
    case rejected(GroupID, String)
    /// The WAL could not be written: the node stopped accepting work for safety.
    case storageFailed(String)
    /// The host is shutting down.
    case shuttingDown
    /// The replica's data is damaged (a file whose checksum fails, named with the offset): it serves no reads
    /// until it is repaired; another replica may answer.
    case damaged(GroupID, String)

    public var description: String {
        switch self {
        case .unknownGroup(let g): return "group \(g) is not hosted on this node"
        case .noLeader(let g, let hint):
            return "group \(g) has no leader yet" + (hint.map { " (last known leader: node \($0))" } ?? "")
        case .timeout(let g): return "group \(g) did not commit the request in time; it may still commit"
        case .rejected(let g, let why): return "group \(g) refused the request: \(why)"
        case .storageFailed(let why):
            return
                "the node cannot persist (\(why)); it gave up its groups and rejoins by itself once its disk works again"
        case .shuttingDown: return "the node is shutting down"
        case .damaged(let g, let why): return "this node's replica of group \(g) is damaged: \(why)"
        }
    }
}

extension HostError {
    /// The wire form of this error, for an answer to a forwarded proposal.
    var forwardFailure: ForwardFailure {
        switch self {
        case .unknownGroup(let g): return .unknownGroup(g)
        case .noLeader(let g, let hint): return .noLeader(g, leaderHint: hint)
        case .timeout(let g): return .timeout(g)
        case .rejected(let g, let why): return .rejected(g, why)
        case .storageFailed(let why): return .storageFailed(why)
        case .shuttingDown: return .shuttingDown
        case .damaged(let g, let why): return .damaged(g, why)
        }
    }

    init(_ failure: ForwardFailure) {
        switch failure {
        case .unknownGroup(let g): self = .unknownGroup(g)
        case .noLeader(let g, let hint): self = .noLeader(g, leaderHint: hint)
        case .timeout(let g): self = .timeout(g)
        case .rejected(let g, let why): self = .rejected(g, why)
        case .storageFailed(let why): self = .storageFailed(why)
        case .shuttingDown: self = .shuttingDown
        case .damaged(let g, let why): self = .damaged(g, why)
        }
    }
}

extension HostError {
    /// True for a storage failure caused by a full disk (`ENOSPC`): the reason travels as text (also over the
    /// wire, in a forward reply), and a failed system call names its errno in it.
    public var isDiskFull: Bool {
        guard case .storageFailed(let why) = self else { return false }
        return why.contains("(errno \(ENOSPC))") || why.contains("No space left")
    }
}
