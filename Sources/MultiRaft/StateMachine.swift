import RaftCore

/// What a Raft group replicates: applies committed commands in log order and can be saved into and restored
/// from a snapshot. Owned by the host's loop thread: never touched concurrently.
///
/// Contract: `apply` is deterministic (same commands in the same order give the same state on every replica);
/// `snapshot()` captures exactly the state after the last applied command; `restore` replaces the whole state.
public protocol StateMachine: AnyObject {
    /// Applies one committed command. Returns a result for the proposer (empty if none).
    func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8]
    /// The whole state, as bytes that `restore` understands.
    func snapshot() -> [UInt8]
    /// Replaces the state with a snapshot's.
    func restore(_ data: [UInt8]) throws
    /// A checksum of the applied data: equal on replicas that applied the same commands.
    var checksum: UInt64 { get }
}

/// Makes the state machine of a group: the host calls it when it creates or recovers a group.
public typealias StateMachineFactory = @Sendable (GroupID) -> any StateMachine
