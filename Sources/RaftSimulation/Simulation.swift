import RaftCore

/// A deterministic simulation of one Raft group: several members in one process, virtual time, a seeded
/// network that drops, delays, reorders, duplicates and partitions, crashes that lose what was not
/// persisted (with torn writes), restarts, membership changes and leadership transfers in flight, and
/// clients that write and read. Raft's safety invariants are checked after every step; liveness is
/// checked once the faults stop.
///
/// The same options (seed) always produce the same run.
public struct Simulation {
    enum Event {
        case tick
        case deliver(Message, snapshotState: KeyValueState?)
        case persisted(NodeID, generation: Int)
        case snapshotReport(from: NodeID, to: NodeID, succeeded: Bool)
        case client(Int)
        case clientTimeout(Int, operation: UInt64)
    }

    enum Operation {
        case write(key: UInt64, value: UInt64, node: NodeID, position: LogPosition?, started: UInt64)
        case read(key: UInt64, node: NodeID, context: UInt64, required: LogIndex, readIndex: LogIndex?, started: UInt64)
    }

    struct ClientState {
        var operation: Operation?
        var serial: UInt64 = 0
    }

    let options: SimulationOptions
    var random: SplitMix64
    var queue = EventQueue<Event>()
    var time: UInt64 = 0
    var stepCount = 0
    var nodes: [SimulatedNode] = []
    var clients: [ClientState] = Array(repeating: ClientState(), count: 5)

    // Network faults.
    var blocked: Set<Pair> = []
    var dropRate = 0.0
    var duplicateRate = 0.02
    var faultsEnabled = true

    // What the checker knows.
    var leadersByTerm: [Term: NodeID] = [:]
    var newLeaders: [NodeID: Term] = [:]
    var entriesSeen: [LogPosition: (fingerprint: UInt64, previousTerm: Term?)] = [:]
    var referenceLog: [(term: Term, fingerprint: UInt64)] = []  // applied entries, index = position + 1
    var referenceChecksums: [UInt64] = [0]  // checksum after applying index i
    var referenceKeyHistory: [UInt64: [(LogIndex, UInt64)]] = [:]
    var referenceState = KeyValueState()
    var maxAcknowledgedWrite: LogIndex = .zero
    var nextValue: UInt64 = 1
    var nextReadContext: UInt64 = 1
    var trace: [String] = []
    var report: SimulationReport

    // Liveness phase.
    var marker: (value: UInt64, node: NodeID, position: LogPosition)?
    var markerCommitted = false

    struct Pair: Hashable {
        var from: NodeID
        var to: NodeID
    }

    static let tickInterval: UInt64 = 10
    static let electionTicks = 10
    static let keys: UInt64 = 8

    public init(options: SimulationOptions) {
        self.options = options
        random = SplitMix64(seed: options.seed &* 0x2545_F491_4F6C_DD1D &+ 1)
        report = SimulationReport(
            seed: options.seed, steps: 0, committedEntries: 0, acknowledgedWrites: 0, linearizableReads: 0,
            elections: 0, crashes: 0, membershipChanges: 0, transfers: 0, snapshotsInstalled: 0)
        let founders = Set((1...options.voters).map { NodeID(UInt64($0)) })
        for index in 1...(options.voters + 2) {
            let id = NodeID(UInt64(index))
            let membership = founders.contains(id) ? Membership(voters: founders) : .empty
            var node = SimulatedNode(id: id, membership: membership)
            node.core = try! RaftNode(config: config(for: id), membership: membership)
            nodes.append(node)
        }
    }

    func config(for id: NodeID) -> RaftConfig {
        var config = RaftConfig(id: id)
        config.electionTicks = Self.electionTicks
        config.heartbeatTicks = 2
        config.readMode = options.readMode
        config.maxInflightMessages = 4
        config.maxMessageBytes = 256
        config.seed = options.seed
        return config
    }

    // MARK: - Running

    /// Runs the chaotic phase, then heals everything and checks liveness.
    public mutating func run() throws(SimulationFailure) -> SimulationReport {
        queue.push(.tick, at: Self.tickInterval)
        for client in clients.indices { queue.push(.client(client), at: UInt64(5 + client)) }
        while stepCount < options.steps {
            try step()
        }
        heal()
        let deadline = time + UInt64(options.livenessTicks) * Self.tickInterval
        while !markerCommitted {
            if time > deadline {
                throw failure(
                    "liveness: no leader committed a new entry within \(options.livenessTicks) ticks of healing\n"
                        + clusterSummary())
            }
            try step()
        }
        report.steps = stepCount
        report.committedEntries = referenceLog.count
        return report
    }

    mutating func step() throws(SimulationFailure) {
        guard let (eventTime, event) = queue.pop() else { throw failure("event queue ran dry") }
        time = eventTime
        stepCount += 1
        switch event {
        case .tick:
            queue.push(.tick, at: time + Self.tickInterval)
            try handleTick()
        case .deliver(let message, let snapshotState):
            try deliver(message, snapshotState: snapshotState)
        case .persisted(let id, let generation):
            try finishPersisting(id, generation: generation)
        case .snapshotReport(let from, let to, let succeeded):
            if nodes[index(from)].isUp {
                nodes[index(from)].core!.reportSnapshot(to: to, succeeded: succeeded)
                try process(from)
            }
        case .client(let client):
            try startOperation(client)
        case .clientTimeout(let client, let serial):
            if clients[client].serial == serial, clients[client].operation != nil {
                note("client \(client) gives up on operation \(serial)")
                finishOperation(client)
            }
        }
        try checkInvariants()
    }

    mutating func handleTick() throws(SimulationFailure) {
        if faultsEnabled { injectFaults() }
        for node in nodes where node.isUp {
            nodes[index(node.id)].core!.tick()
        }
        if faultsEnabled { proposeChanges() } else { proposeMarker() }
        for node in nodes where node.isUp { try process(node.id) }
    }

    // MARK: - The shell: persist, send, apply

    /// Starts persisting the node's next Ready, if it has one and is not busy.
    mutating func process(_ id: NodeID) throws(SimulationFailure) {
        let i = index(id)
        guard nodes[i].isUp, nodes[i].persisting == nil, nodes[i].core!.hasReady else { return }
        let ready = nodes[i].core!.ready()
        try checkNewEntries(ready, on: id)
        if let soft = ready.softState, soft.role == .leader {
            report.elections += 1
            note("\(id) becomes leader of term \(nodes[i].core!.term)")
        }
        nodes[i].persisting = ready
        queue.push(.persisted(id, generation: nodes[i].generation), at: time + 1 + random.next() % 8)
    }

    mutating func finishPersisting(_ id: NodeID, generation: Int) throws(SimulationFailure) {
        let i = index(id)
        guard nodes[i].generation == generation, nodes[i].isUp, let ready = nodes[i].persisting else { return }
        // 1. Persist.
        var snapshotState: KeyValueState?
        if let snapshot = ready.snapshot {
            guard let received = nodes[i].receivedSnapshots[snapshot.index] else {
                throw failure("\(id) was told to install snapshot \(snapshot.index) it never received")
            }
            snapshotState = received
        }
        nodes[i].persist(ready, snapshotState: snapshotState)
        // 2. Send.
        for message in ready.messages { send(message) }
        // 3. Apply.
        if let snapshot = ready.snapshot, let snapshotState {
            guard Int(snapshot.index.rawValue) < referenceChecksums.count,
                referenceChecksums[Int(snapshot.index.rawValue)] == snapshotState.checksum
            else {
                throw failure("\(id) installed snapshot \(snapshot.index) whose data differs from the committed log")
            }
            nodes[i].state = snapshotState
            nodes[i].appliedIndex = snapshot.index
            nodes[i].receivedSnapshots = [:]
            report.snapshotsInstalled += 1
            note("\(id) installed snapshot at \(snapshot.index)")
        }
        for entry in ready.committedEntries { try apply(entry, on: id) }
        // 4. Reads.
        for state in ready.readStates { try readConfirmed(state, on: id) }
        try serveReads(on: id)
        nodes[i].core!.advance(ready)
        nodes[i].persisting = nil
        maybeCompact(id)
        try process(id)
    }

    mutating func send(_ message: Message) {
        let pair = Pair(from: message.from, to: message.to)
        var snapshotState: KeyValueState?
        if case .snapshot(let snapshot) = message.body {
            let sender = nodes[index(message.from)]
            if sender.diskSnapshot.index == snapshot.index { snapshotState = sender.diskSnapshotState }
        }
        let lost = blocked.contains(pair) || Double(random.next() % 10_000) / 10_000 < dropRate
        if lost {
            if case .snapshot = message.body {
                queue.push(.snapshotReport(from: message.from, to: message.to, succeeded: false), at: time + 20)
            }
            return
        }
        let delay = 1 + random.next() % 25
        queue.push(.deliver(message, snapshotState: snapshotState), at: time + delay)
        if Double(random.next() % 10_000) / 10_000 < duplicateRate {
            queue.push(.deliver(message, snapshotState: snapshotState), at: time + delay + random.next() % 30)
        }
    }

    mutating func deliver(_ message: Message, snapshotState: KeyValueState?) throws(SimulationFailure) {
        let i = index(message.to)
        guard nodes[i].isUp else {
            if case .snapshot = message.body {
                queue.push(.snapshotReport(from: message.from, to: message.to, succeeded: false), at: time + 1)
            }
            return
        }
        if options.verbose { note("deliver \(message.kind) \(message.from)->\(message.to) t\(message.term)") }
        if case .snapshot(let snapshot) = message.body {
            guard let snapshotState else { return }
            nodes[i].receivedSnapshots[snapshot.index] = snapshotState
            queue.push(.snapshotReport(from: message.from, to: message.to, succeeded: true), at: time + 1)
        }
        nodes[i].core!.step(message)
        try process(message.to)
    }

    mutating func apply(_ entry: Entry, on id: NodeID) throws(SimulationFailure) {
        let i = index(id)
        guard entry.index == nodes[i].appliedIndex + 1 else {
            throw failure("\(id) applied \(entry.index) after \(nodes[i].appliedIndex): out of order")
        }
        // State machine safety: every member applies the same entry at each index.
        let fingerprint = SimulatedWrite.fingerprint(entry.payload)
        let position = Int(entry.index.rawValue) - 1
        if position < referenceLog.count {
            let reference = referenceLog[position]
            guard reference.term == entry.term, reference.fingerprint == fingerprint else {
                throw failure(
                    "state machine safety: \(id) applied \(entry.index)@\(entry.term), others applied "
                        + "\(entry.index)@\(reference.term)")
            }
        } else {
            referenceLog.append((entry.term, fingerprint))
            if let data = entry.data, let write = SimulatedWrite.decode(data) {
                referenceState.apply(key: write.key, value: write.value)
                referenceKeyHistory[write.key, default: []].append((entry.index, write.value))
            }
            referenceChecksums.append(referenceState.checksum)
        }
        if let data = entry.data, let write = SimulatedWrite.decode(data) {
            nodes[i].state.apply(key: write.key, value: write.value)
        }
        nodes[i].appliedIndex = entry.index
        // Acknowledge the client whose proposal this was.
        for client in clients.indices {
            guard case .write(_, let value, let node, let position?, _) = clients[client].operation, node == id,
                position.index == entry.index
            else { continue }
            if position.term == entry.term {
                if let data = entry.data, let write = SimulatedWrite.decode(data), write.value != value {
                    throw failure("\(id) committed another write at \(entry.index)@\(entry.term) than proposed there")
                }
                maxAcknowledgedWrite = max(maxAcknowledgedWrite, entry.index)
                report.acknowledgedWrites += 1
            }
            finishOperation(client)
        }
    }

    mutating func maybeCompact(_ id: NodeID) {
        let i = index(id)
        guard nodes[i].isUp, nodes[i].appliedIndex.distance(from: nodes[i].diskSnapshot.index) >= 24,
            time >= nodes[i].nextCompactionAt
        else { return }
        let target = nodes[i].appliedIndex
        if let snapshot = nodes[i].core!.compactLog(through: target) {
            nodes[i].compact(to: snapshot, state: nodes[i].state)
            nodes[i].nextCompactionAt = time + 50 + random.next() % 400
        }
    }

    func index(_ id: NodeID) -> Int { Int(id.rawValue) - 1 }

    /// One line per node: role, term, log positions, membership, and a leader's view of its followers.
    func clusterSummary() -> String {
        var lines: [String] = []
        for node in nodes {
            guard let core = node.core else {
                lines.append("  \(node.id): down")
                continue
            }
            var line =
                "  \(node.id): \(core.role) term \(core.term) lead \(core.leader.map(\.description) ?? "-") "
                + "last \(core.log.lastIndex) commit \(core.log.committed) applied \(node.appliedIndex) "
                + "snap \(core.log.snapshot.index) \(core.membership) busy \(node.persisting != nil)"
            for (peer, progress) in core.status.progress.sorted(by: { $0.key < $1.key }) {
                line +=
                    "\n      \(peer): \(progress.state) match \(progress.match) next \(progress.next) "
                    + "pending \(progress.pendingSnapshot) active \(progress.recentActive) paused \(progress.isPaused)"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    mutating func note(_ text: String) {
        let line = "[\(time) #\(stepCount)] \(text)"
        if options.verbose { print(line) }
        trace.append(line)
        if trace.count > 60 { trace.removeFirst(trace.count - 60) }
    }

    func failure(_ reason: String) -> SimulationFailure {
        SimulationFailure(seed: options.seed, step: stepCount, time: time, reason: reason, recentEvents: trace)
    }
}
