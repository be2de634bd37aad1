import RaftCore

/// A state machine that keeps its applied state durable in files of its own (a vnode's storage engine), so
/// that the host never serializes it into snapshot files: the log is compacted at the index its files cover,
/// recovery opens the files and replays the log after that index, and a member that needs a snapshot is sent
/// the files as they are at that index.
///
/// Contract, beside `StateMachine`'s:
/// - `durableIndex` only grows while the machine lives, and every effect of the entries at or below it
///   survives a crash once the job that raised it finished (`finishJob`); `durableState` is the state handed to
///   the flush that reached it (the session table of a `DeduplicatingMachine`).
/// - `durableSnapshot()` is the state at `durableIndex` (whatever was applied since is not in it); `restore`
///   replaces the machine's files with a snapshot's, durably, before it returns, and then `durableIndex` is the
///   snapshot's index.
/// - Apply at or below `durableIndex` changes nothing: replaying a longer log after a restart is harmless.
/// - Jobs are values that run on any thread and touch only their own files; at most one of each kind runs at a
///   time (a flush may run beside a compaction).
public protocol PersistentStateMachine: StateMachine {
    /// Opens the machine's files as a crash left them.
    /// - Returns: `durableIndex`.
    func openDurable() throws -> LogIndex
    /// Starts empty, deleting whatever an earlier replica of the same group left.
    func createDurable() throws
    /// Deletes the machine's files (its group was destroyed here).
    func removeDurable()
    /// The last log index whose effects are durable in the machine's files.
    var durableIndex: LogIndex { get }
    /// The state recorded with `durableIndex`.
    var durableState: [UInt8] { get }
    /// The work due now: a flush of what is only in memory when that has grown past its bound or `flush` is
    /// set (and there is something), else a merge of files if one is due; `nil` if nothing is, or a job runs.
    /// `state` gives what to record with the flush's index (read only when a flush begins).
    func nextJob(flush: Bool, state: () -> [UInt8]) -> PersistenceJob?
    /// Installs a finished job's output (on the owner's thread).
    func finishJob(_ job: PersistenceJob, output: any Sendable) throws
    /// Gives a job up (its memory goes back to be flushed again; its files are deleted at the next open).
    /// `error`: why it failed, if it did; a damaged file the job read makes the machine `damaged`.
    func abandonJob(_ job: PersistenceJob, error: (any Error)?)
    /// Why the machine's files are damaged (a checksum failed: file and offset), once a read or a job found it;
    /// a damaged machine hands out no jobs and serves no reads until its replica is replaced.
    var damage: String? { get }
    /// The files at `durableIndex` as a snapshot stream, frozen: safe on any thread. The host sends it as it
    /// reads it, without copying it into a snapshot file.
    func durableSnapshot() -> any StreamingSnapshotSource
}

/// A job of a persistent state machine for the host to run off the loop thread.
public struct PersistenceJob: Sendable {
    /// What the job does: flushes bound memory and raise `durableIndex`; compactions merge files.
    public enum Kind: Sendable { case flush, compaction }

    public let kind: Kind
    /// The work, returning what `finishJob` installs.
    public let run: @Sendable () throws -> any Sendable

    public init(kind: Kind, run: @escaping @Sendable () throws -> any Sendable) {
        self.kind = kind
        self.run = run
    }
}

extension StateMachine {
    /// The machine as a persistent one, if it is one (a `DeduplicatingMachine` is when the machine it wraps is).
    public var persistent: (any PersistentStateMachine)? {
        if let wrapper = self as? DeduplicatingMachine {
            return wrapper.base is any PersistentStateMachine ? wrapper : nil
        }
        return self as? any PersistentStateMachine
    }
}
