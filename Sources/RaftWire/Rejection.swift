import RaftCore

/// Why a group refused a request that reached it: a proposal, a read or a membership or leadership operation
/// that cannot be done as asked. Retrying the same request does not help, except where the case says so.
///
/// Each reason has a stable `code` (the HTTP answer's `error_code`) and a `description` that says what was wrong
/// and how to fix it. A reason travels between nodes in a forward reply (docs/wire-format.md, result code 8); one
/// this build does not know, or a text-only reason from a node of the previous build, arrives as `.other`.
public enum Rejection: Sendable, Equatable, CustomStringConvertible {
    /// Promoting a node that is not a member of the group: it must be added as a learner first.
    case notMember(NodeID)
    /// Removing the node that holds the group's last replica: the group would be lost.
    case lastReplica(NodeID)
    /// Transferring leadership to a node that is not a voter of the group.
    case notVoter(NodeID)
    /// A leadership transfer under way ended with another node as the leader (it won an election meanwhile).
    case leadershipMoved(to: NodeID)
    /// The Raft core refused the proposal or the transfer: an entry over `maxMessageBytes`, too many uncommitted
    /// bytes, a transfer under way, ... (`RaftError`).
    case refused(RaftError)
    /// The core found `operation`'s membership change invalid for the group's configuration (§6, joint consensus).
    case invalidChange(AdminOperation, ConfChangeError)
    /// The node that was asked to run a read has no read handler installed.
    case noReadHandler
    /// A reason known only as text: sent by a node of the previous build (text-only), or by a later build with a
    /// reason this one does not know.
    case other(String)

    /// Stable; safe to match on and to show to clients, e.g. `raft.not_member`.
    public var code: String {
        switch self {
        case .notMember: return "raft.not_member"
        case .lastReplica: return "raft.last_replica"
        case .notVoter: return "raft.not_voter"
        case .leadershipMoved: return "raft.leadership_moved"
        case .refused(let error):
            switch error {
            case .notLeader: return "raft.not_leader"
            case .transferInProgress: return "raft.transfer_in_progress"
            case .entryTooLarge: return "raft.entry_too_large"
            case .uncommittedLimitExceeded: return "raft.uncommitted_limit"
            case .confChangePending: return "raft.change_pending"
            case .invalidConfChange: return "raft.invalid_change"
            case .notAVoter: return "raft.not_voter"
            }
        case .invalidChange: return "raft.invalid_change"
        case .noReadHandler: return "raft.no_read_handler"
        case .other: return "raft.rejected"
        }
    }

    /// What a client can do about a refusal.
    public enum Remedy: Sendable, Equatable {
        /// Nothing: the request as made cannot succeed (HTTP 400).
        case none
        /// Send less: the entry is over the group's size limit (HTTP 413).
        case sendLess
        /// Retry shortly: the group is busy or changing leaders (HTTP 503 with `Retry-After`).
        case retryLater
    }

    public var remedy: Remedy {
        switch self {
        case .refused(.entryTooLarge): return .sendLess
        case .refused(.uncommittedLimitExceeded), .refused(.notLeader), .refused(.transferInProgress),
            .refused(.confChangePending), .leadershipMoved:
            return .retryLater
        default: return .none
        }
    }

    public var description: String {
        switch self {
        case .notMember(let node): return "node \(node) is not a member; add it as a learner first"
        case .lastReplica(let node): return "node \(node) holds the last replica of the group"
        case .notVoter(let node): return "node \(node) is not a voter of the group"
        case .leadershipMoved(let node): return "leadership went to node \(node) instead"
        case .refused(let error): return "\(error)"
        case .invalidChange(let operation, let why): return "\(operation): \(why)"
        case .noReadHandler: return "no read handler"
        case .other(let text): return text
        }
    }
}

// MARK: - Wire form

extension Rejection {
    /// The fixed fields before the text in a forward reply's detail (docs/wire-format.md, result code 8):
    /// reason, its argument byte, and two u64 arguments. These values never change.
    var wireFields: (reason: UInt8, argument: UInt8, first: UInt64, second: UInt64) {
        switch self {
        case .other: return (0, 0, 0, 0)
        case .notMember(let node): return (1, 0, node.rawValue, 0)
        case .lastReplica(let node): return (2, 0, node.rawValue, 0)
        case .notVoter(let node): return (3, 0, node.rawValue, 0)
        case .leadershipMoved(let node): return (4, 0, node.rawValue, 0)
        case .refused(let error):
            switch error {
            case .notLeader(let hint): return (5, 1, hint?.rawValue ?? 0, 0)
            case .transferInProgress: return (5, 2, 0, 0)
            case .entryTooLarge(let bytes, let limit): return (5, 3, UInt64(bytes), UInt64(limit))
            case .uncommittedLimitExceeded(let limit): return (5, 4, UInt64(limit), 0)
            case .confChangePending: return (5, 5, 0, 0)
            case .invalidConfChange(let why): return (5, 6, UInt64(why.wireCode), 0)
            case .notAVoter(let node): return (5, 7, node.rawValue, 0)
            }
        case .invalidChange(let operation, let why):
            return (6, operation.code, operation.node.rawValue, UInt64(why.wireCode))
        case .noReadHandler: return (7, 0, 0, 0)
        }
    }

    /// The reason the fields name; `.other(text)` for a reason (or an argument) this build does not know, so that
    /// a later build's new reasons still arrive with their sentence.
    init(reason: UInt8, argument: UInt8, first: UInt64, second: UInt64, text: String) {
        let node = NodeID(first)
        switch (reason, argument) {
        case (1, _): self = .notMember(node)
        case (2, _): self = .lastReplica(node)
        case (3, _): self = .notVoter(node)
        case (4, _): self = .leadershipMoved(to: node)
        case (5, 1): self = .refused(.notLeader(leaderHint: first == 0 ? nil : node))
        case (5, 2): self = .refused(.transferInProgress)
        case (5, 3): self = .refused(.entryTooLarge(bytes: Int(clamping: first), limit: Int(clamping: second)))
        case (5, 4): self = .refused(.uncommittedLimitExceeded(limit: Int(clamping: first)))
        case (5, 5): self = .refused(.confChangePending)
        case (5, 6):
            guard let why = ConfChangeError(wireCode: first) else {
                self = .other(text)
                return
            }
            self = .refused(.invalidConfChange(why))
        case (5, 7): self = .refused(.notAVoter(node))
        case (6, _):
            guard let operation = AdminOperation(code: argument, node: node),
                let why = ConfChangeError(wireCode: second)
            else {
                self = .other(text)
                return
            }
            self = .invalidChange(operation, why)
        case (7, _): self = .noReadHandler
        default: self = .other(text)
        }
    }
}

extension ConfChangeError {
    /// The error's code on the wire (docs/wire-format.md). These values never change.
    var wireCode: UInt8 {
        switch self {
        case .alreadyJoint: return 1
        case .notJoint: return 2
        case .noVotersLeft: return 3
        }
    }

    init?(wireCode: UInt64) {
        switch wireCode {
        case 1: self = .alreadyJoint
        case 2: self = .notJoint
        case 3: self = .noVotersLeft
        default: return nil
        }
    }
}
