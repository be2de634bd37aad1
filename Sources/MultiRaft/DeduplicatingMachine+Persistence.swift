import RaftCore

/// A deduplicating machine over a persistent one is persistent too: its session table is the state recorded
/// with each flush, so that after a restart (or a snapshot installed) the table is the one at `durableIndex`,
/// and the log replayed after it rebuilds the rest.
extension DeduplicatingMachine: PersistentStateMachine {
    var persistentBase: (any PersistentStateMachine)? { base as? any PersistentStateMachine }

    private var durableBase: any PersistentStateMachine {
        guard let durable = persistentBase else {
            preconditionFailure("a DeduplicatingMachine is persistent only over a persistent machine")
        }
        return durable
    }

    /// The table a flush recorded (an empty state: none yet).
    static func sessions(recordedIn state: [UInt8]) throws -> SessionTable {
        guard !state.isEmpty else { return SessionTable() }
        guard let table = SessionTable(decoding: state) else { throw SessionSnapshotError.badTable }
        return table
    }

    public func openDurable() throws -> LogIndex {
        let index = try durableBase.openDurable()
        sessions = try Self.sessions(recordedIn: durableBase.durableState)
        return index
    }

    public func createDurable() throws {
        try durableBase.createDurable()
        sessions = SessionTable()
    }

    public func removeDurable() { durableBase.removeDurable() }

    public var durableIndex: LogIndex { durableBase.durableIndex }

    public var durableState: [UInt8] { durableBase.durableState }

    public func nextJob(flush: Bool, state: () -> [UInt8]) -> PersistenceJob? {
        durableBase.nextJob(flush: flush) { sessions.encoded() }
    }

    public func finishJob(_ job: PersistenceJob, output: any Sendable) throws {
        try durableBase.finishJob(job, output: output)
    }

    public func abandonJob(_ job: PersistenceJob, error: (any Error)?) { durableBase.abandonJob(job, error: error) }

    public var damage: String? { durableBase.damage }

    public func durableSnapshot() -> any StreamingSnapshotSource { durableBase.durableSnapshot() }
}
