import Meta
import TSDB

extension Coordinator {
    /// Deletes the rows `tombstone` selects from every live replica set of the buckets of the database that
    /// overlap its time range: one command per set, committed through the set's Raft group (so every replica
    /// deletes at the same log index, and writes committed after it stay), all sets at once.
    /// - Returns: how many replica sets committed the deletion.
    /// - Throws: 404 for an unknown database; when a set fails, the error, saying how many sets the deletion
    ///   spans (some may have committed; running it again is safe: a deletion is idempotent).
    @discardableResult
    public func delete(
        tenant: String, database name: String, _ tombstone: Tombstone
    ) async throws(CoordinatorError) -> Int {
        // Fresh: a bucket that an acknowledged write made on another node must be seen, or its rows would stay.
        guard let database = try await database(tenant, name, fresh: true) else {
            throw CoordinatorError(
                .notFound, "meta.database_not_found", "database '\(name)' does not exist in tenant '\(tenant)'")
        }
        guard tombstone.start < tombstone.end else { return 0 }
        let sets = Self.liveSets(of: database, start: tombstone.start, end: tombstone.end)
        let command = VnodeMachine.deleteCommand(tombstone)
        try await proposeAll(sets.map { (command, $0) }, what: "delete", again: "running it again is safe")
        return sets.count
    }
}
