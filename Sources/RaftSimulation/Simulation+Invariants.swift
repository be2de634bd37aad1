import RaftCore

// MARK: - Safety invariants, checked after every step

extension Simulation {
    /// Log matching (§5.3): an (index, term) names one entry everywhere, with the same predecessor term.
    mutating func checkNewEntries(_ ready: Ready, on id: NodeID) throws(SimulationFailure) {
        guard let core = nodes[index(id)].core else { return }
        var previousTerm = ready.entries.first.flatMap { core.log.term(at: $0.index - 1) }
        for entry in ready.entries {
            let position = LogPosition(index: entry.index, term: entry.term)
            let fingerprint = SimulatedWrite.fingerprint(entry.payload)
            if let seen = entriesSeen[position] {
                if seen.fingerprint != fingerprint {
                    throw failure("log matching: two different entries at \(position) (on \(id))")
                }
                if let expected = seen.previousTerm, let actual = previousTerm, expected != actual {
                    throw failure(
                        "log matching: entry \(position) on \(id) follows term \(actual), elsewhere \(expected)")
                }
            } else {
                entriesSeen[position] = (fingerprint, previousTerm)
            }
            previousTerm = entry.term
        }
    }

    mutating func checkInvariants() throws(SimulationFailure) {
        let committedCount = referenceLog.count
        for node in nodes {
            guard let core = node.core else { continue }
            if core.role == .leader {
                // Election safety (§5.2): at most one leader per term.
                if let other = leadersByTerm[core.term], other != node.id {
                    throw failure("election safety: \(other) and \(node.id) both lead term \(core.term)")
                }
                leadersByTerm[core.term] = node.id
                // Leader completeness (§5.4): a newly elected leader holds every entry committed so far.
                if newLeaders[node.id] != core.term {
                    newLeaders[node.id] = core.term
                    if committedCount > 0 {
                        let last = LogIndex(UInt64(committedCount))
                        if last > core.log.snapshot.index,
                            core.log.term(at: last) != referenceLog[committedCount - 1].term
                        {
                            throw failure(
                                "leader completeness: new leader \(node.id) of term \(core.term) lacks committed "
                                    + "entry \(last)@\(referenceLog[committedCount - 1].term)")
                        }
                    }
                }
            }
            // Commit never passes the log, and applied never passes commit.
            if core.log.committed > core.log.lastIndex || core.log.applied > core.log.committed {
                throw failure("\(node.id): commit \(core.log.committed) / applied \(core.log.applied) out of bounds")
            }
        }
    }
}
