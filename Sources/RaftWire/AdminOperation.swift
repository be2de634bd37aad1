import RaftCore

/// A change to one group's membership or leadership, carried out by the group's leader (docs/replicas.md, the
/// replica commands). Each completes only when its effect is committed and visible:
/// - `addLearner`: the node is a learner in the applied membership and has caught up to the commit index seen
///   when it joined (snapshot and log);
/// - `promote`: the node is a voter and the group has left joint consensus;
/// - `remove`: the node is no longer a member and the group has left joint consensus;
/// - `transferLeadership`: the node is the leader (TimeoutNow; the voter set does not change).
public enum AdminOperation: Sendable, Equatable, CustomStringConvertible {
    case addLearner(NodeID)
    case promote(NodeID)
    case remove(NodeID)
    case transferLeadership(NodeID)

    /// The member the operation is about.
    public var node: NodeID {
        switch self {
        case .addLearner(let n), .promote(let n), .remove(let n), .transferLeadership(let n): return n
        }
    }

    /// The operation's code on the wire (docs/wire-format.md). These values never change.
    public var code: UInt8 {
        switch self {
        case .addLearner: return 1
        case .promote: return 2
        case .remove: return 3
        case .transferLeadership: return 4
        }
    }

    public init?(code: UInt8, node: NodeID) {
        switch code {
        case 1: self = .addLearner(node)
        case 2: self = .promote(node)
        case 3: self = .remove(node)
        case 4: self = .transferLeadership(node)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .addLearner(let n): return "add node \(n) as a learner"
        case .promote(let n): return "promote node \(n) to voter"
        case .remove(let n): return "remove node \(n)"
        case .transferLeadership(let n): return "transfer leadership to node \(n)"
        }
    }
}

/// An `AdminOperation` forwarded to a node that hosts the group.
public struct ForwardedAdmin: Sendable, Equatable {
    public var requestID: UInt64
    public var group: GroupID
    public var timeoutMilliseconds: UInt32
    public var operation: AdminOperation

    public init(requestID: UInt64, group: GroupID, timeoutMilliseconds: UInt32, operation: AdminOperation) {
        self.requestID = requestID
        self.group = group
        self.timeoutMilliseconds = timeoutMilliseconds
        self.operation = operation
    }
}
