import RaftCore
import RaftWire

/// A proposal from this node that waits to be applied.
struct ProposalWaiter {
    var group: GroupID
    var payload: [UInt8]
    var deadline: UInt64
    var startedAt: UInt64
    /// Called once, on the loop thread, with the state machine's answer or the reason it failed.
    var complete: @Sendable (Result<[UInt8], HostError>) -> Void
    /// No leader was known when it was proposed: it is proposed again at each tick until the deadline.
    var parked = false
}

/// A read that waits for its read index to be confirmed and applied.
struct ReadWaiter {
    var group: GroupID
    var deadline: UInt64
    /// The read index, once the leader confirmed it.
    var index: LogIndex?
    var parked = false
    var run: @Sendable (any StateMachine) -> Void
    var fail: @Sendable (HostError) -> Void
}

/// What arrives in the host's inbox from other threads.
enum HostEvent: Sendable {
    case frames([WireFrame], from: NodeID)
    case peer(NodeID, connected: Bool)
    case propose(
        GroupID, command: [UInt8], timeoutNanoseconds: UInt64, complete: @Sendable (Result<[UInt8], HostError>) -> Void)
    /// A proposal for a group this node does not host, sent to `node`, which proposes it and answers.
    case proposeRemote(
        GroupID, via: NodeID, command: [UInt8], timeoutNanoseconds: UInt64,
        complete: @Sendable (Result<[UInt8], HostError>) -> Void)
    /// A read of a group this node does not host, sent to `node`, which runs `request` through its read handler.
    case readRemote(
        GroupID, via: NodeID, linearizable: Bool, request: [UInt8], timeoutNanoseconds: UInt64,
        complete: @Sendable (Result<[UInt8], HostError>) -> Void)
    case read(
        GroupID, linearizable: Bool, timeoutNanoseconds: UInt64, run: @Sendable (any StateMachine) -> Void,
        fail: @Sendable (HostError) -> Void)
    case inspect(@Sendable (HostView) -> Void)
    /// Work to run on the loop thread (creating or destroying a group). `dropped` runs instead, on the caller's
    /// or the loop thread, if the host stops before the work ran, so that nobody waits for it forever.
    case run(@Sendable () -> Void, dropped: (@Sendable () -> Void)? = nil)
    /// A membership or leadership operation on a group this node hosts (it must lead it).
    case administer(
        GroupID, AdminOperation, timeoutNanoseconds: UInt64, complete: @Sendable (Result<[UInt8], HostError>) -> Void)
    /// The same, sent to `node`.
    case administerRemote(
        GroupID, via: NodeID, AdminOperation, timeoutNanoseconds: UInt64,
        complete: @Sendable (Result<[UInt8], HostError>) -> Void)
}

/// A membership or leadership operation in progress on this node (the group's leader).
struct AdminWaiter {
    var group: GroupID
    var operation: AdminOperation
    var deadline: UInt64
    /// True once this leader proposed the change (or started the transfer).
    var started = false
    /// For `addLearner`: the commit index when the learner joined, which it must reach to count as caught up.
    var catchUpIndex: LogIndex?
    var complete: @Sendable (Result<[UInt8], HostError>) -> Void
}

/// A proposal forwarded to another node, waiting for its answer.
struct RemoteWaiter {
    var group: GroupID
    var node: NodeID
    var deadline: UInt64
    var complete: @Sendable (Result<[UInt8], HostError>) -> Void
}
