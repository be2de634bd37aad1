import RaftCore
import RaftWire

extension MultiRaftHost {
    /// Handles one inbox event on the loop thread.
    func handle(_ event: HostEvent) {
        switch event {
        case .frames(let frames, let peer):
            heard(from: peer)
            for frame in frames { handle(frame, from: peer) }
        case .peer(let peer, let connected):
            knownPeers.insert(peer)
            if connected { heard(from: peer) } else { markDown(peer, connectionClosed: true) }
        case .propose(let group, let command, let timeout, let complete):
            proposeLocally(group, command, timeout: timeout, complete: complete)
        case .proposeRemote(let group, let node, let command, let timeout, let complete):
            // A node already known to be down would never answer (its waiters were failed when it went down).
            if isKnownDown(node) { return complete(.failure(.noLeader(group, leaderHint: nil))) }
            nextRequest += 1
            let id = nextRequest
            remoteProposals[id] = RemoteWaiter(
                group: group, node: node, deadline: nowNanoseconds() + timeout, complete: complete)
            outbox[node, default: []].append(
                .forwardProposal(
                    ForwardedProposal(
                        requestID: id, group: group, timeoutMilliseconds: UInt32(timeout / 1_000_000), command: command)
                ))
        case .readRemote(let group, let node, let linearizable, let request, let timeout, let complete):
            if isKnownDown(node) { return complete(.failure(.noLeader(group, leaderHint: nil))) }
            nextRequest += 1
            let id = nextRequest
            remoteProposals[id] = RemoteWaiter(
                group: group, node: node, deadline: nowNanoseconds() + timeout, complete: complete)
            outbox[node, default: []].append(
                .forwardRead(
                    ForwardedRead(
                        requestID: id, group: group, linearizable: linearizable,
                        timeoutMilliseconds: UInt32(timeout / 1_000_000), request: request)))
        case .read(let group, let linearizable, let timeout, let run, let fail):

            guard let slot = slots[group] else { return fail(.unknownGroup(group)) }
            guard linearizable else { return run(slot.machine) }
            nextRequest += 1
            let context = nextRequest
            reads[context] = ReadWaiter(group: group, deadline: nowNanoseconds() + timeout, run: run, fail: fail)
            slot.waitingReads.append(context)
            submitRead(context)
            serveReleasedReads(slot)
        case .inspect(let body):
            body(HostView(host: self))
        case .run(let body, _):
            body()
        case .administer(let group, let operation, let timeout, let complete):
            startAdministration(group, operation, timeout: timeout, complete: complete)
        case .administerRemote(let group, let node, let operation, let timeout, let complete):
            if isKnownDown(node) { return complete(.failure(.noLeader(group, leaderHint: nil))) }
            nextRequest += 1
            let id = nextRequest
            remoteProposals[id] = RemoteWaiter(
                group: group, node: node, deadline: nowNanoseconds() + timeout, complete: complete)
            outbox[node, default: []].append(
                .forwardAdmin(
                    ForwardedAdmin(
                        requestID: id, group: group, timeoutMilliseconds: UInt32(timeout / 1_000_000),
                        operation: operation)))
        }
    }

    /// Registers a waiter for `command` and hands it to the group's member.
    func proposeLocally(
        _ group: GroupID, _ command: [UInt8], timeout: UInt64,
        complete: @escaping @Sendable (Result<[UInt8], HostError>) -> Void
    ) {
        if let storageFailure { return complete(.failure(.storageFailed(storageFailure))) }
        guard let slot = slots[group] else { return complete(.failure(.unknownGroup(group))) }
        nextRequest += 1
        let id = settings.nodeID.rawValue << 40 | nextRequest
        var payload = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { payload[i] = UInt8(truncatingIfNeeded: id >> UInt64(8 * i)) }
        payload += command
        let now = nowNanoseconds()
        proposals[id] = ProposalWaiter(
            group: group, payload: payload, deadline: now + timeout, startedAt: now, complete: complete)
        slot.pendingProposals.insert(id)
        metrics.proposals.increment()
        submit(id)
    }

    /// Hands a waiting proposal to its group's member; parks it while no leader is known.
    func submit(_ id: UInt64) {
        guard var waiter = proposals[id], let slot = slots[waiter.group] else { return }
        wake(slot, work: true)
        // A leader on a node known to be down would lose the forwarded entry, and the caller would wait out its
        // whole timeout: park it until an election names a live leader (tried again every tick).
        if slot.node.role != .leader, let leader = slot.node.leader, isKnownDown(leader) {
            waiter.parked = true
            proposals[id] = waiter
            return
        }
        do {
            _ = try slot.node.propose(waiter.payload)
            waiter.parked = false
        } catch .notLeader {
            waiter.parked = true
        } catch let error {
            proposals[id] = nil
            slot.pendingProposals.remove(id)
            waiter.complete(.failure(.rejected(waiter.group, .refused(error))))
            return
        }
        proposals[id] = waiter
    }

    /// Reads the core released at once (a leader within its lease, or a lone voter) are served now if the machine
    /// has applied their index, instead of after the next round's fsync and apply of every group. The clock's
    /// missed ticks were counted at the start of the round, before any event, so the lease is current.
    func serveReleasedReads(_ slot: GroupSlot) {
        let states = slot.node.takeReadStates()
        guard !states.isEmpty else { return }
        record(states, of: slot)
        serveReads(slot)
    }

    /// Gives each waiting read of `slot` its read index, released by the core.
    func record(_ states: [ReadState], of slot: GroupSlot) {
        for state in states {
            guard var waiter = reads[state.context], waiter.group == slot.id else { continue }
            waiter.index = state.index
            reads[state.context] = waiter
        }
    }

    /// Starts the ReadIndex round of a waiting read; parks it while no leader is known.
    func submitRead(_ context: UInt64) {
        guard var waiter = reads[context], let slot = slots[waiter.group] else { return }
        wake(slot, work: true)
        do {
            try slot.node.readIndex(context: context)
            waiter.parked = false
        } catch {
            waiter.parked = true
        }
        reads[context] = waiter
    }

    func handle(_ frame: WireFrame, from peer: NodeID) {
        switch frame {
        case .message(let group, let message):
            step(message, of: group, incarnation: 0)
        case .replicaMessage(let group, let incarnation, let message):
            step(message, of: group, incarnation: incarnation)
        case .snapshotChunk(let chunk):
            receive(chunk, from: peer)
        case .snapshotAck(let ack):
            acknowledge(ack)
        case .forwardProposal(let request):
            let transport = self.transport
            let reply = { @Sendable (result: Result<[UInt8], HostError>) in
                let outcome = result.mapError { $0.forwardFailure }
                transport.send([.forwardReply(ForwardReply(requestID: request.requestID, outcome: outcome))], to: peer)
            }
            proposeLocally(
                request.group, request.command, timeout: UInt64(request.timeoutMilliseconds) * 1_000_000,
                complete: reply)
        case .forwardRead(let request):
            let transport = self.transport
            let reply = { @Sendable (result: Result<[UInt8], HostError>) in
                let outcome = result.mapError { $0.forwardFailure }
                transport.send([.forwardReply(ForwardReply(requestID: request.requestID, outcome: outcome))], to: peer)
            }
            guard let handler = readHandler else { return reply(.failure(.rejected(request.group, .noReadHandler))) }
            handle(
                .read(
                    request.group, linearizable: request.linearizable,
                    timeoutNanoseconds: UInt64(request.timeoutMilliseconds) * 1_000_000,
                    run: { [environment] machine in
                        switch handler(machine, request.request) {
                        case .done(let answer): reply(.success(answer))
                        case .background(let compute):
                            environment.background(.reads) {
                                reply(
                                    Result { try compute() }.mapError {
                                        self.reportDamage(request.group, "\($0)")
                                        return .damaged(request.group, "\($0)")
                                    })
                            }
                        }
                    },
                    fail: { error in reply(.failure(error)) }))
        case .forwardAdmin(let request):
            let transport = self.transport
            startAdministration(
                request.group, request.operation, timeout: UInt64(request.timeoutMilliseconds) * 1_000_000,
                complete: { result in
                    let outcome = result.mapError { $0.forwardFailure }
                    transport.send(
                        [.forwardReply(ForwardReply(requestID: request.requestID, outcome: outcome))], to: peer)
                })
        case .forwardReply(let reply):
            remoteProposals.removeValue(forKey: reply.requestID)?.complete(reply.outcome.mapError { HostError($0) })
        case .ping, .handshake:
            break
        }
    }

    /// Steps a Raft message into its group, unless it comes from an incarnation of the sender's replica other
    /// than the one meta places there (a destroyed replica's late acknowledgements must not count).
    func step(_ message: Message, of group: GroupID, incarnation: UInt64) {
        guard let slot = slots[group], message.to == settings.nodeID else {
            logger.trace("dropped \(message.kind) for group \(group) that this node does not host")
            return
        }
        if incarnation != 0, let expected = slot.memberIncarnations[message.from], expected != incarnation {
            logger.trace(
                "dropped \(message.kind) from incarnation \(incarnation) of node \(message.from)'s replica (now \(expected))",
                metadata: ["raft.group": "\(group)"])
            return
        }
        let routine: Bool
        switch message.body {
        case .heartbeat, .heartbeatResponse: routine = true
        default: routine = false
        }
        slot.node.step(message)
        if routine {
            // Heartbeats and their answers keep a quiet group quiet: the answer to the last heartbeat a leader
            // sent before it went quiet must not wake it (or it would tick, heartbeat and wake forever).
            dirty.insert(group)
        } else {
            wake(slot, work: true)
        }
    }

    /// Marks a group as having something to do: it ticks again, and its Ready is collected this round.
    func wake(_ slot: GroupSlot, work: Bool) {
        if slot.quiet {
            slot.quiet = false
            awake.insert(slot.id)
            // The time it was not ticked still runs down its lease.
            let tick = UInt64(settings.tickMilliseconds) * 1_000_000
            slot.node.clockSkipped(ticks: (nowNanoseconds() - min(slot.quietSince, nowNanoseconds())) / tick)
        }
        if work { slot.idleTicks = 0 }
        dirty.insert(slot.id)
    }
}

extension MultiRaftHost {
    /// True if `node` is a known peer that has been silent past an election timeout (or whose connection
    /// closed): a request sent to it now would only wait out its deadline.
    func isKnownDown(_ node: NodeID) -> Bool { knownPeers.contains(node) && !livePeers.contains(node) }
}
