import RaftCore

// MARK: - Simulated clients: writes acknowledged on apply, linearizable reads checked against history

extension Simulation {
    mutating func startOperation(_ client: Int) throws(SimulationFailure) {
        guard clients[client].operation == nil else { return }
        let up = nodes.filter { $0.isUp }.map(\.id)
        guard !up.isEmpty else {
            queue.push(.client(client), at: time + 20)
            return
        }
        // Clients usually find the leader, sometimes ask anyone.
        let leaders = up.filter { nodes[index($0)].core!.role == .leader }
        let node =
            (!leaders.isEmpty && random.next() % 4 != 0)
            ? leaders[Int(random.next() % UInt64(leaders.count))] : up[Int(random.next() % UInt64(up.count))]
        let key = random.next() % Self.keys
        clients[client].serial += 1
        let serial = clients[client].serial
        queue.push(.clientTimeout(client, operation: serial), at: time + 400)
        let i = index(node)
        if random.next() % 2 == 0 {
            let context = nextReadContext
            nextReadContext += 1
            do {
                try nodes[i].core!.readIndex(context: context)
                clients[client].operation = .read(
                    key: key, node: node, context: context, required: maxAcknowledgedWrite, readIndex: nil,
                    started: time)
            } catch {
                finishOperation(client)
            }
        } else {
            let value = nextValue
            nextValue += 1
            do {
                let outcome = try nodes[i].core!.propose(SimulatedWrite.encode(key: key, value: value))
                if case .appended(let position) = outcome {
                    clients[client].operation = .write(
                        key: key, value: value, node: node, position: position, started: time)
                } else {
                    finishOperation(client)
                }
            } catch {
                finishOperation(client)
            }
        }
        try process(node)
    }

    mutating func finishOperation(_ client: Int) {
        clients[client].operation = nil
        queue.push(.client(client), at: time + 1 + random.next() % 30)
    }

    /// A ReadIndex answer arrived: it must cover every write acknowledged before the read started.
    mutating func readConfirmed(_ state: ReadState, on id: NodeID) throws(SimulationFailure) {
        for client in clients.indices {
            guard
                case .read(let key, let node, let context, let required, nil, let started) = clients[client].operation,
                node == id, context == state.context
            else { continue }
            if state.index < required {
                throw failure(
                    "linearizability: read \(context) on \(id) got read index \(state.index), but write \(required) "
                        + "was acknowledged before it started")
            }
            clients[client].operation = .read(
                key: key, node: node, context: context, required: required, readIndex: state.index, started: started)
        }
    }

    /// Serves confirmed reads once the state machine has caught up with their read index.
    mutating func serveReads(on id: NodeID) throws(SimulationFailure) {
        let i = index(id)
        for client in clients.indices {
            guard case .read(let key, let node, _, let required, let readIndex?, _) = clients[client].operation,
                node == id, nodes[i].appliedIndex >= readIndex
            else { continue }
            let applied = nodes[i].appliedIndex
            let value = nodes[i].state.values[key]
            let history = referenceKeyHistory[key] ?? []
            let expected = history.last(where: { $0.0 <= applied })?.1
            if applied < required || value != expected {
                throw failure(
                    "linearizability: read of key \(key) on \(id) at applied \(applied) returned \(String(describing: value)), "
                        + "history says \(String(describing: expected)) (required index \(required))")
            }
            report.linearizableReads += 1
            finishOperation(client)
        }
    }

    /// After healing: the leader proposes a marker entry, which must commit.
    mutating func proposeMarker() {
        if let marker {
            let node = nodes[index(marker.node)]
            if node.appliedIndex >= marker.position.index {
                markerCommitted =
                    referenceLog.count >= Int(marker.position.index.rawValue)
                    && referenceLog[Int(marker.position.index.rawValue) - 1].term == marker.position.term
                if !markerCommitted { self.marker = nil }
            } else if !node.isUp || node.core!.role != .leader || node.core!.term != marker.position.term {
                self.marker = nil
            }
            return
        }
        for node in nodes where node.isUp && node.core!.role == .leader {
            let value = nextValue
            nextValue += 1
            if case .appended(let position)? = try? nodes[index(node.id)].core!.propose(
                SimulatedWrite.encode(key: 0, value: value))
            {
                marker = (value, node.id, position)
                note(
                    "liveness marker proposed at \(position) on \(node.id), \(node.core!.membership), commit \(node.core!.log.committed)"
                )
            }
            return
        }
    }
}
