import RaftCore

// MARK: - Faults, membership changes and transfers

extension Simulation {
    func chance(_ percent: UInt64, _ random: inout SplitMix64) -> Bool { random.next() % 1000 < percent }

    mutating func injectFaults() {
        let up = nodes.filter(\.isUp).map(\.id)
        let down = nodes.filter { !$0.isUp }.map(\.id)
        if !up.isEmpty && chance(40, &random) { crash(up[Int(random.next() % UInt64(up.count))]) }
        if !down.isEmpty && chance(80, &random) { restart(down[Int(random.next() % UInt64(down.count))]) }
        if chance(40, &random) { partition() }
        if !blocked.isEmpty && chance(70, &random) {
            blocked = []
            note("network healed")
        }
        if chance(10, &random) {
            dropRate = Double(random.next() % 20) / 100
            note("drop rate \(dropRate)")
        }
    }

    mutating func crash(_ id: NodeID) {
        let i = index(id)
        // A write in progress when the power goes: like the WAL (one batch = snapshot, entries, then hard
        // state records, cut at a record boundary by recovery), nothing of it, a prefix of its entries
        // without the hard state, or all of it (written but not yet acknowledged) may be on disk.
        if let ready = nodes[i].persisting {
            switch random.next() % 3 {
            case 0:
                break
            case 1:
                let prefix = ready.entries.isEmpty ? 0 : Int(random.next() % UInt64(ready.entries.count))
                var torn = ready
                torn.snapshot = nil
                torn.hardState = nil
                nodes[i].persist(torn, snapshotState: nil, entryPrefix: prefix)
            default:
                let snapshotState = ready.snapshot.flatMap { nodes[i].receivedSnapshots[$0.index] }
                if ready.snapshot == nil || snapshotState != nil {
                    nodes[i].persist(ready, snapshotState: snapshotState)
                }
            }
        }
        nodes[i].core = nil
        nodes[i].persisting = nil
        nodes[i].generation += 1
        nodes[i].state = KeyValueState()
        nodes[i].appliedIndex = .zero
        nodes[i].receivedSnapshots = [:]
        report.crashes += 1
        note("crash \(id)")
    }

    mutating func restart(_ id: NodeID) {
        let i = index(id)
        do {
            nodes[i].core = try RaftNode(config: config(for: id), restoring: nodes[i].recoveredState)
        } catch {
            preconditionFailure("simulator config is invalid: \(error)")
        }
        nodes[i].state = nodes[i].diskSnapshotState
        nodes[i].appliedIndex = nodes[i].diskSnapshot.index
        note(
            "restart \(id) (term \(nodes[i].diskHardState.term), \(nodes[i].diskEntries.count) entries on disk, snapshot \(nodes[i].diskSnapshot.index), \(nodes[i].core!.membership))"
        )
    }

    mutating func partition() {
        blocked = []
        let ids = nodes.map(\.id)
        switch random.next() % 4 {
        case 0:
            // Symmetric split into two sides.
            var side: [NodeID: Bool] = [:]
            for id in ids { side[id] = random.next() % 2 == 0 }
            for a in ids { for b in ids where side[a] != side[b] { blocked.insert(Pair(from: a, to: b)) } }
            note("partition: symmetric \(ids.filter { side[$0]! }) | \(ids.filter { !side[$0]! })")
        case 1:
            // Asymmetric: some links fail in one direction only.
            for a in ids {
                for b in ids where a != b && random.next() % 4 == 0 { blocked.insert(Pair(from: a, to: b)) }
            }
            note("partition: asymmetric, \(blocked.count) one-way links cut")
        default:
            // Isolate the leader.
            guard let leader = nodes.first(where: { $0.core?.role == .leader })?.id else { return }
            for other in ids where other != leader {
                blocked.insert(Pair(from: leader, to: other))
                blocked.insert(Pair(from: other, to: leader))
            }
            note("partition: leader \(leader) isolated")
        }
    }

    mutating func proposeChanges() {
        guard let leader = nodes.first(where: { $0.core?.role == .leader })?.id else { return }
        let i = index(leader)
        let membership = nodes[i].core!.membership
        if options.membershipChanges && chance(60, &random) {
            let all = nodes.map(\.id)
            let target = all[Int(random.next() % UInt64(all.count))]
            var operations: [ConfChange.Operation]
            switch random.next() % 4 {
            case 0: operations = [.addLearner(target)]
            case 1: operations = [.addVoter(target)]
            case 2:
                // Keep at least three voters so the group stays live once healed.
                guard membership.voters.count > 3 || !membership.voters.contains(target) else { return }
                operations = [.remove(target)]
            default:
                // Swap one voter for another in a single joint change.
                guard let out = membership.voters.sorted().first(where: { _ in random.next() % 2 == 0 }),
                    !membership.voters.contains(target)
                else { return }
                operations = [.addVoter(target), .remove(out)]
            }
            do {
                try nodes[i].core!.proposeConfChange(ConfChange(operations))
                report.membershipChanges += 1
                note("\(leader) proposes \(operations)")
            } catch {
                note("\(leader) refuses \(operations): \(error)")
            }
        }
        if options.transfers && chance(25, &random) {
            let voters = membership.allVoters.sorted().filter { $0 != leader }
            guard !voters.isEmpty else { return }
            let target = voters[Int(random.next() % UInt64(voters.count))]
            if (try? nodes[i].core!.transferLeadership(to: target)) != nil {
                report.transfers += 1
                note("\(leader) transfers leadership to \(target)")
            }
        }
    }

    /// Ends the chaos: every node up, the network whole and reliable.
    mutating func heal() {
        faultsEnabled = false
        blocked = []
        dropRate = 0
        duplicateRate = 0
        for node in nodes where !node.isUp { restart(node.id) }
        note("healed: all nodes up, network reliable")
    }
}
