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
    /// The groups have followed the end state of the replay (or there was nothing to replay).
    private var replayEnded = false

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
        case .ensure:
            GroupReconciler.ensure(state: after, node: node, host: host)
            replayEnded = true
        case .reconcile:
            if !replayEnded {
                // The entry at the recovered commit did not reach the machine (a leader's no-op or a membership
                // entry sat there): the first entry past it ends the replay.
                GroupReconciler.ensure(state: after, node: node, host: host)
                replayEnded = true
            }
            GroupReconciler.apply(command, before: before, after: after, node: node, host: host)
        }
    }

    /// Loop thread only, once the host started: from now on restored snapshots are the leader's. If the replay
    /// already reached the recovered commit (or there was nothing to replay), the groups follow its end state
    /// now; otherwise the entry at the recovered commit (or the first past it) will do it.
    public func recoveryFinished(current: MetaState) {
        running = true
        if host.appliedIndexFromLoopThread(of: metaGroup) >= host.recoveredCommitFromLoopThread(of: metaGroup) {
            GroupReconciler.ensure(state: current, node: node, host: host)
            replayEnded = true
        }
    }
}
