/// The members of a Raft group and their roles, possibly in joint consensus (§6 of the Raft paper).
///
/// In a joint configuration a decision (an election or a commit) needs a majority of `voters` *and* a
/// majority of `outgoingVoters`. Learners receive the log but never count.
public struct Membership: Sendable, Equatable, CustomStringConvertible {
    /// The voters of the (incoming) configuration.
    public var voters: Set<NodeID>
    /// The voters of the configuration being left; empty unless joint.
    public var outgoingVoters: Set<NodeID>
    /// Non-voting members that receive the log.
    public var learners: Set<NodeID>
    /// Outgoing voters that become learners when the joint configuration is left.
    public var learnersNext: Set<NodeID>

    public init(
        voters: Set<NodeID>, outgoingVoters: Set<NodeID> = [], learners: Set<NodeID> = [],
        learnersNext: Set<NodeID> = []
    ) {
        self.voters = voters
        self.outgoingVoters = outgoingVoters
        self.learners = learners
        self.learnersNext = learnersNext
    }

    /// An empty membership: what a member that is yet to be added knows of its group.
    public static let empty = Membership(voters: [])

    /// True while in joint consensus.
    public var isJoint: Bool { !outgoingVoters.isEmpty }

    /// Every member that votes in at least one half of the configuration.
    public var allVoters: Set<NodeID> { voters.union(outgoingVoters) }

    /// Every member the leader replicates to.
    public var allMembers: Set<NodeID> { voters.union(outgoingVoters).union(learners).union(learnersNext) }

    /// True if `node` may campaign and is counted in some majority.
    public func isVoter(_ node: NodeID) -> Bool { voters.contains(node) || outgoingVoters.contains(node) }

    public var description: String {
        func list(_ s: Set<NodeID>) -> String { s.sorted().map(\.description).joined(separator: ",") }
        var text = "voters=[\(list(voters))]"
        if isJoint { text += " outgoing=[\(list(outgoingVoters))]" }
        if !learners.isEmpty { text += " learners=[\(list(learners))]" }
        if !learnersNext.isEmpty { text += " learnersNext=[\(list(learnersNext))]" }
        return text
    }
}

/// A membership change (§6): a list of operations applied together. A change that alters the voter set
/// enters joint consensus, and the leader leaves it automatically once the joint entry is committed. A
/// change that only adds or removes learners takes effect directly. An empty list leaves a joint config.
public struct ConfChange: Sendable, Equatable {
    /// One operation on one member.
    public enum Operation: Sendable, Equatable {
        case addVoter(NodeID)
        case addLearner(NodeID)
        case remove(NodeID)

        public var node: NodeID {
            switch self {
            case .addVoter(let n), .addLearner(let n), .remove(let n): return n
            }
        }
    }

    public var operations: [Operation]
    /// Opaque bytes for the shell (for example the new member's address); the core ignores them.
    public var context: [UInt8]

    public init(_ operations: [Operation], context: [UInt8] = []) {
        self.operations = operations
        self.context = context
    }

    /// The change that leaves a joint configuration.
    public static let leaveJoint = ConfChange([])
}

/// Why a membership change cannot be applied to a configuration.
public enum ConfChangeError: Error, Sendable, Equatable {
    /// A non-empty change was proposed while the configuration is joint.
    case alreadyJoint
    /// An empty (leave) change was given for a configuration that is not joint.
    case notJoint
    /// The change would leave no voter.
    case noVotersLeft
}

extension Membership {
    /// The configuration after applying `change`, following the rules of joint consensus.
    /// A pure function: every member computes the same result from the same log.
    public func applying(_ change: ConfChange) throws(ConfChangeError) -> Membership {
        if change.operations.isEmpty {
            guard isJoint else { throw .notJoint }
            var next = self
            next.outgoingVoters = []
            next.learners.formUnion(learnersNext)
            next.learnersNext = []
            return next
        }
        guard !isJoint else { throw .alreadyJoint }
        var next = self
        for operation in change.operations {
            switch operation {
            case .addVoter(let node):
                next.voters.insert(node)
                next.learners.remove(node)
            case .addLearner(let node):
                next.voters.remove(node)
                next.learners.insert(node)
            case .remove(let node):
                next.voters.remove(node)
                next.learners.remove(node)
            }
        }
        guard !next.voters.isEmpty else { throw .noVotersLeft }
        if next.voters != voters {
            // Enter joint consensus: the old voters keep a say until the leave entry commits. A voter
            // demoted to learner stays a voter of the outgoing half until then.
            next.outgoingVoters = voters
            let demoted = next.learners.intersection(voters)
            next.learners.subtract(demoted)
            next.learnersNext = demoted
        }
        return next
    }
}
