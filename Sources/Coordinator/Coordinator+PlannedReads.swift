import Meta

extension Coordinator {
    /// Runs `request` on every live replica set of `database` that overlaps `[start, end)`: the sets and their
    /// answers, in bucket order. Linearizable unless `stale`: the sets come from meta state at least as new as a
    /// meta read index taken after the call, and each set is read after its own ReadIndex round.
    ///
    /// A linearizable read does not wait for the meta round before it reads the sets: it reads the sets the
    /// local meta state names while the meta round runs, and keeps those answers when the state after the round
    /// names the same sets (each answer came from a ReadIndex round that began after the call, so it holds every
    /// write acknowledged before); otherwise (a bucket or set created or dropped meanwhile, or a failed read) it
    /// reads the sets the fresh state names. One round trip instead of two, where the plan did not change.
    func readPlanned(
        _ request: [UInt8], tenant: String, database name: String, start: Int64, end: Int64, stale: Bool
    ) async throws(CoordinatorError) -> (sets: [ReplicaSetInfo], answers: [[UInt8]]) {
        func notFound() -> CoordinatorError {
            CoordinatorError(
                .notFound, "meta.database_not_found", "database '\(name)' does not exist in tenant '\(tenant)'")
        }
        guard !stale, let local = meta.current.database(tenant, name) else {
            guard let database = try await database(tenant, name, fresh: !stale) else { throw notFound() }
            let sets = Self.liveSets(of: database, start: start, end: end)
            return (sets, try await read(request, from: sets, linearizable: !stale))
        }
        let planned = Self.liveSets(of: local, start: start, end: end)
        async let barrier = metaBarrierOutcome()
        let early = await readOutcome(request, from: planned)
        try await barrier.get()
        guard let database = meta.current.database(tenant, name) else { throw notFound() }
        let sets = Self.liveSets(of: database, start: start, end: end)
        if sets.map(\.id) == planned.map(\.id), case .success(let answers) = early { return (sets, answers) }
        return (sets, try await read(request, from: sets, linearizable: true))
    }

    private func metaBarrierOutcome() async -> Result<Void, CoordinatorError> {
        do {
            try await awaitCurrentMeta()
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    private func readOutcome(
        _ request: [UInt8], from sets: [ReplicaSetInfo]
    ) async -> Result<[[UInt8]], CoordinatorError> {
        do {
            return .success(try await read(request, from: sets, linearizable: true))
        } catch {
            return .failure(error)
        }
    }
}
