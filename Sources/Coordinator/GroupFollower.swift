import Meta
import MultiRaft
import RaftCore

/// Keeps the groups a node hosts in step with the meta log as it applies (`MetaStore.onChange`), judging the
/// entries a restarted node replays by the state at their end only (`GroupReconciler.action`).
///
/// `@unchecked Sendable`: used only on the host's loop thread (where meta entries apply and where
/// `recoveryFinished` is run).
public final class GroupFollower: @unchecked Sendable {
    let host: MultiRaftHost
    let node: UInt64
    let metaGroup: GroupID
    /// Recovery is over: snapshots restored from now on were sent by the leader.
    private var running = false

    public init(host: MultiRaftHost, node: UInt64, metaGroup: GroupID) {
        self.host = host
        self.node = node
        self.metaGroup = metaGroup
    }

    /// A meta command applied at `index` (or, with `command == nil`, a snapshot was restored). Loop thread only.
    public func metaChanged(_ command: MetaCommand?, index: LogIndex, before: MetaState?, after: MetaState) {
        let action = GroupReconciler.action(
            index: command == nil ? nil : index, recoveredCommit: host.recoveredCommitFromLoopThread(of: metaGroup),
            running: running)
        switch action {
        case .nothing: break
        case .ensure: GroupReconciler.ensure(state: after, node: node, host: host)
        case .reconcile: GroupReconciler.apply(command, before: before, after: after, node: node, host: host)
        }
    }

    /// Loop thread only, once the host started: from now on restored snapshots are the leader's. If the replay
    /// already reached the recovered commit (or there was nothing to replay), the groups follow its end state
    /// now; otherwise the end of the replay will (`replayFinished`).
    public func recoveryFinished(current: MetaState) {
        running = true
        if host.appliedIndexFromLoopThread(of: metaGroup) >= host.recoveredCommitFromLoopThread(of: metaGroup) {
            GroupReconciler.ensure(state: current, node: node, host: host)
        }
    }

    /// Loop thread only: the meta group has applied everything it had committed when the node started (whatever
    /// the entry at that index was: a leader's no-op or a membership entry never reaches the meta machine, so
    /// `metaChanged` alone would miss the end of such a replay). The groups follow the replay's end state.
    public func replayFinished(current: MetaState) {
        GroupReconciler.ensure(state: current, node: node, host: host)
    }
}
