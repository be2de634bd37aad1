import RaftCore
import RaftWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a proposal or read did not complete. Each maps to an honest HTTP status in the server.
public enum HostError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why a group refused a request (defined with its wire form in RaftWire).
    public typealias Rejection = RaftWire.Rejection
    /// Why the node could not persist (defined with its wire form in RaftWire).
    public typealias StorageFailure = RaftWire.StorageFailure

    /// This node does not host the group.
    case unknownGroup(GroupID)
    /// No leader was known (or reachable) before the deadline; `leaderHint` is the last one seen.
    case noLeader(GroupID, leaderHint: NodeID?)
    /// The deadline passed; the proposal may still commit later.
    case timeout(GroupID)
    /// The group refused the request: it cannot be done as asked (`Rejection` says why, with a stable code).
    case rejected(GroupID, Rejection)
    /// The node could not persist (the WAL, a snapshot, a state machine's files): it stopped accepting work for
    /// safety. `StorageFailure` holds the errno, when there is one, and what failed where.
    case storageFailed(StorageFailure)
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
        case .storageFailed(let failure):
            return
                "the node cannot persist (\(failure)); it gave up its groups and rejoins by itself once its disk works again"
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
        case .storageFailed(let failure): return .storageFailed(failure)
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
        case .storageFailed(let failure): self = .storageFailed(failure)
        case .shuttingDown: self = .shuttingDown
        case .damaged(let g, let why): self = .damaged(g, why)
        }
    }
}

extension HostError {
    /// True for a storage failure caused by a full disk: the failed system call's errno is `ENOSPC`.
    public var isDiskFull: Bool {
        guard case .storageFailed(let failure) = self else { return false }
        return failure.errno == ENOSPC
    }
}
