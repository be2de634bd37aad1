import Foundation
import Logging
import RaftCore
import RaftStorage
import RaftTransport
import RaftWire

/// Runs many Raft groups on one node: the shell around `RaftNode` values (CnosDB's multi-Raft layout).
///
/// One loop thread owns every group. Each round it takes the inbox (frames from peers, proposals, reads), steps
/// the groups, ticks the awake ones when a tick is due, then runs the Ready pipeline over every group with work:
/// persist all their entries and hard states in **one** WAL append (one fsync), then send every peer its
/// messages in **one** write, then apply committed entries and complete waiters. Idle groups go quiet (no ticks,
/// no heartbeats) until a message or a request wakes them; a node-level ping per tick tells quiet followers when
/// their leader's node dies.
///
/// Guarantees: entries and hard states are durable before any message that depends on them is sent and before
/// any entry is applied; a proposal's caller is answered only after the entry was committed and applied here.
///
/// `@unchecked Sendable`: every stored property but `inbox`/`stopping` is touched only by the loop thread
/// (and by `start` before the thread exists); `inbox` and `stopping` are guarded by `condition`.
public final class MultiRaftHost: @unchecked Sendable {
    public let settings: HostSettings
    let transport: any RaftTransport
    let factory: StateMachineFactory
    /// Time, randomness and background threads (virtual ones in the node-level simulation).
    public let environment: any HostEnvironment
    var logger: Logger
    let metrics = HostMetrics()

    // Shared with other threads, under `condition`.
    private let condition = NSCondition()
    private var inbox: [HostEvent] = []
    private var stopping = false
    private var thread: Thread?
    private let finished = NSCondition()
    private var isFinished = false

    // Owned by the loop thread.
    var wal: WriteAheadLog!
    var snapshots: SnapshotStore!
    var slots: [GroupID: GroupSlot] = [:]
    var awake: Set<GroupID> = []
    var dirty: Set<GroupID> = []
    var outbox: [NodeID: [WireFrame]] = [:]
    var pendingRecords: [WALRecord] = []
    var proposals: [UInt64: ProposalWaiter] = [:]
    var reads: [UInt64: ReadWaiter] = [:]
    var remoteProposals: [UInt64: RemoteWaiter] = [:]
    var administrations: [UInt64: AdminWaiter] = [:]
    /// Groups destroyed this round whose snapshot files go once their `removeGroup` record is durable.
    var removedGroupsAwaitingCleanup: [GroupID] = []
    /// Test support: told, on the loop thread, each step of a snapshot file becoming a group's (crash tests copy
    /// the data directory there). Set before `start`.
    var snapshotFileObserver: ((SnapshotFileStep, GroupID, LogIndex) -> Void)?
    /// Request ids and read contexts: counted up from a random start per boot, so that an entry or a reply from
    /// before a restart cannot complete a new request that reuses its number.
    var nextRequest: UInt64
    var tickCount: UInt64 = 0
    var knownPeers: Set<NodeID>
    var lastHeard: [NodeID: UInt64] = [:]
    var livePeers: Set<NodeID> = []
    var sending: [TransferKey: SnapshotSend] = [:]
    /// Groups with a snapshot arriving (checked each tick for stalls).
    var receivingGroups: Set<GroupID> = []
    /// Why this node stopped taking part in its groups (it could not persist), once it did.
    var storageFailure: StorageFailure?
    /// Each group's commit index as recovered from the WAL (set before the loop starts, then read-only).
    var recoveredCommits: [GroupID: LogIndex] = [:]
    /// When the next tick is due, for a host driven by `runRound()`.
    private var manualNextTick: UInt64 = 0

    public init(
        settings: HostSettings, transport: any RaftTransport, peers: Set<NodeID>,
        stateMachine factory: @escaping StateMachineFactory, logger: Logger = Logger(label: "flotilla.raft"),
        environment: any HostEnvironment = SystemHostEnvironment()
    ) {
        self.settings = settings
        self.transport = transport
        self.factory = factory
        self.environment = environment
        self.nextRequest = environment.random() % (1 << 38)
        self.knownPeers = peers.subtracting([settings.nodeID])
        var logger = logger
        logger[metadataKey: "node"] = "\(settings.nodeID)"
        self.logger = logger
    }

    /// Opens the WAL and snapshots, rebuilds every group from them, creates the `founding` groups that do not
    /// exist yet (first start), starts the transport and the loop thread.
    /// - Returns: what recovery found, for the operator's log.
    @discardableResult
    public func start(founding: [GroupID: Set<NodeID>] = [:], loop: HostLoop = .ownThread) throws -> WALRecovery {
        try start(foundingMemberships: founding.mapValues { Membership(voters: $0) }, loop: loop)
    }

    /// `start(founding:)` with whole memberships (voters and learners) for the founding groups.
    @discardableResult
    public func start(
        foundingMemberships founding: [GroupID: Membership], loop: HostLoop = .ownThread
    ) throws
        -> WALRecovery
    {
        let recovery = try recover()
        // Snapshot files of groups the WAL does not know (destroyed just before a crash, or never recorded): before
        // a founding group is created, so that it cannot take an earlier replica's file for its own.
        cleanUpRemovedGroups()
        for (group, membership) in founding.sorted(by: { $0.key < $1.key }) where slots[group] == nil {
            guard membership.allMembers.contains(settings.nodeID) else { continue }
            try createGroup(group, membership: membership)
        }
        for slot in slots.values {
            knownPeers.formUnion(slot.node.membership.allMembers.subtracting([settings.nodeID]))
        }
        // A group whose only voter is this node elects itself at once: nobody else can lead it, and waiting for
        // an election timeout would only hold back a restarted lone node's first answers.
        for slot in slots.values where slot.node.membership.allVoters == [settings.nodeID] { slot.node.campaign() }
        for peer in knownPeers { lastHeard[peer] = 0 }
        livePeers = knownPeers
        try transport.start(delegate: TransportBridge(host: self))
        if loop == .driven {
            manualNextTick = nowNanoseconds() + UInt64(settings.tickMilliseconds) * 1_000_000
            return recovery
        }
        let thread = Thread { [self] in runLoop() }
        thread.name = "flotilla-raft"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
        return recovery
    }

    /// Stops the loop, fails waiting requests with `shuttingDown`, closes the transport. Durable state stays.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        let leftover = thread == nil ? inbox : []
        if thread == nil { inbox = [] }
        condition.unlock()
        if thread == nil {
            // Driven by `runRound()`: the caller is the loop thread.
            for event in leftover { fail(event, .shuttingDown) }
            if wal != nil { finishLoop() }
        }
        finished.lock()
        while !isFinished && thread != nil { finished.wait() }
        finished.unlock()
        // Background snapshot work still running finds the loop gone and drops its result; wait for it, so that
        // nothing writes into the data directory after shutdown returns.
        environment.drainBackground()
        transport.shutdown()
    }

    // MARK: - Requests

    /// Proposes `command` to `group` and waits until this node has applied it.
    /// - Returns: what the state machine returned for the command.
    /// - Throws: `HostError` (no leader in time, timeout, refusal, storage failure, shutdown).
    public func propose(_ command: [UInt8], to group: GroupID, timeoutMilliseconds: Int? = nil) async throws -> [UInt8]
    {
        let timeout = UInt64(timeoutMilliseconds ?? settings.requestTimeoutMilliseconds) * 1_000_000
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(
                .propose(
                    group, command: command, timeoutNanoseconds: timeout,
                    complete: { continuation.resume(with: $0.mapError { $0 as any Error }) }))
        }
    }

    /// Proposes `command` to `group` through `node`, a node that hosts it (this node does not): the request and
    /// its answer travel over the Raft transport. Same answers as `propose`.
    public func propose(
        _ command: [UInt8], to group: GroupID, via node: NodeID, timeoutMilliseconds: Int? = nil
    ) async throws -> [UInt8] {
        if node == settings.nodeID {
            return try await propose(command, to: group, timeoutMilliseconds: timeoutMilliseconds)
        }
        let timeout = UInt64(timeoutMilliseconds ?? settings.requestTimeoutMilliseconds) * 1_000_000
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(
                .proposeRemote(
                    group, via: node, command: command, timeoutNanoseconds: timeout,
                    complete: { continuation.resume(with: $0.mapError { $0 as any Error }) }))
        }
    }

    /// Runs `body` on `group`'s state machine: after a ReadIndex round (linearizable: it sees every write
    /// acknowledged before the call) or at once on the local replica (`linearizable == false`).
    public func read<T: Sendable>(
        _ group: GroupID, linearizable: Bool = true, timeoutMilliseconds: Int? = nil,
        _ body: @escaping @Sendable (any StateMachine) -> T
    ) async throws -> T {
        let timeout = UInt64(timeoutMilliseconds ?? settings.requestTimeoutMilliseconds) * 1_000_000
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(
                .read(
                    group, linearizable: linearizable, timeoutNanoseconds: timeout,
                    run: { machine in continuation.resume(returning: body(machine)) },
                    fail: { error in continuation.resume(throwing: error) }))
        }
    }

    /// Answers reads forwarded by other nodes: given the group's state machine and the request bytes (on the loop
    /// thread, once a linearizable read's index is applied), returns the answer or the work that computes it off
    /// the loop thread. Set before `start`.
    public var readHandler: (@Sendable (any StateMachine, [UInt8]) -> ReadWork)?
    /// Told, on the loop thread, of a replica whose data a read or a job found damaged (once per group).
    public var onDamaged: (@Sendable (GroupID, String) -> Void)?
    /// Groups reported damaged (a new replica of the group starts with a clean slate).
    var damagedGroups: Set<GroupID> = []

    /// The commit index `group` had when this node started: entries up to it that apply now are replays of what
    /// the node applied before it stopped. Loop thread only.
    public func recoveredCommitFromLoopThread(of group: GroupID) -> LogIndex { recoveredCommits[group] ?? .zero }

    /// Told, on the loop thread, once a group recovered from the WAL has applied everything it had committed when
    /// the node started (the end of its replay; whatever the last entry was). Set before `start`.
    public var onReplayed: (@Sendable (GroupID) -> Void)?

    /// Told, on the loop thread, each time this node becomes the leader of a group (for routing hints). Set
    /// before `start`.
    public var onLeadership: (@Sendable (GroupID) -> Void)?

    /// Makes `peer` (a node that joined the cluster) one this host pings every tick, so that the transport
    /// connects to it and its liveness is tracked before any group has a reason to talk to it. Any thread.
    public func addPeer(_ peer: NodeID) {
        guard peer != settings.nodeID else { return }
        enqueue(
            .run { [self] in
                guard !knownPeers.contains(peer) else { return }
                knownPeers.insert(peer)
                lastHeard[peer] = tickCount
                livePeers.insert(peer)
            })
    }

    /// The last entry `group`'s state machine applied here (zero if the node does not host it). Loop thread only.
    public func appliedIndexFromLoopThread(of group: GroupID) -> LogIndex { slots[group]?.machineApplied ?? .zero }

    /// Runs `body` on the loop thread without waiting for it (dropped if the host has stopped).
    public func runOnLoopThread(_ body: @escaping @Sendable () -> Void) { enqueue(.run(body)) }

    /// True if this node currently leads `group`.
    public func isLeader(of group: GroupID) async -> Bool {
        await inspect { view in view.role(of: group) == .leader }
    }

    /// Runs `body` on the loop thread (where the `...FromLoopThread` methods may be called).
    /// - Returns: false, without running `body`, if the host has stopped.
    @discardableResult
    public func onLoopThread(_ body: @escaping @Sendable () -> Void) async -> Bool {
        await withCheckedContinuation { continuation in
            enqueue(
                .run(
                    {
                        body()
                        continuation.resume(returning: true)
                    }, dropped: { continuation.resume(returning: false) }))
        }
    }

    /// Runs `request` through the read handler on `group`'s replica on `node` (this node or another), after a
    /// ReadIndex round when `linearizable`.
    public func read(
        _ group: GroupID, via node: NodeID, linearizable: Bool = true, request: [UInt8], timeoutMilliseconds: Int? = nil
    ) async throws -> [UInt8] {
        if node == settings.nodeID {
            guard let handler = readHandler else { throw HostError.rejected(group, .noReadHandler) }
            let work = try await read(group, linearizable: linearizable, timeoutMilliseconds: timeoutMilliseconds) {
                handler($0, request)
            }
            switch work {
            case .done(let answer): return answer
            case .background(let compute):
                // On the caller's task, off the loop thread.
                do {
                    return try compute()
                } catch {
                    reportDamage(group, "\(error)")
                    throw HostError.damaged(group, "\(error)")
                }
            }
        }
        let timeout = UInt64(timeoutMilliseconds ?? settings.requestTimeoutMilliseconds) * 1_000_000
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(
                .readRemote(
                    group, via: node, linearizable: linearizable, request: request, timeoutNanoseconds: timeout,
                    complete: { continuation.resume(with: $0.mapError { $0 as any Error }) }))
        }
    }

    /// Carries out a membership or leadership `operation` on `group` through `node` (this node or another), which
    /// must be the group's leader; returns once the operation has taken effect (see `AdminOperation`).
    /// - Throws: `HostError.noLeader` with a hint when `node` does not lead the group (retry there), `.rejected`
    ///   for an operation that cannot be done, `.timeout`.
    public func administer(
        _ operation: AdminOperation, group: GroupID, via node: NodeID, timeoutMilliseconds: Int? = nil
    ) async throws {
        let timeout = UInt64(timeoutMilliseconds ?? settings.requestTimeoutMilliseconds) * 1_000_000
        let _: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            let complete: @Sendable (Result<[UInt8], HostError>) -> Void = {
                continuation.resume(with: $0.mapError { $0 as any Error })
            }
            if node == settings.nodeID {
                enqueue(.administer(group, operation, timeoutNanoseconds: timeout, complete: complete))
            } else {
                enqueue(.administerRemote(group, via: node, operation, timeoutNanoseconds: timeout, complete: complete))
            }
        }
    }

    /// Creates this node's replica of `group` (see `ensureGroupFromLoopThread(_:membership:)`). Returns at once,
    /// having done nothing, once the host has stopped.
    public func ensureGroup(_ group: GroupID, membership: Membership) async {
        await onLoopThread { self.ensureGroupFromLoopThread(group, membership: membership) }
    }

    /// Destroys this node's replica of `group` (see `removeGroupFromLoopThread(_:)`). Returns at once, having done
    /// nothing, once the host has stopped.
    public func removeGroup(_ group: GroupID) async {
        await onLoopThread { self.removeGroupFromLoopThread(group) }
    }

    /// Runs `body` on the loop thread with a view of the host (statuses for the API).
    public func inspect<T: Sendable>(_ body: @escaping @Sendable (HostView) -> T) async -> T {
        await withCheckedContinuation { continuation in
            enqueue(.inspect { view in continuation.resume(returning: body(view)) })
        }
    }

    func enqueue(_ event: HostEvent) {
        condition.lock()
        if stopping {
            condition.unlock()
            fail(event, .shuttingDown)
            return
        }
        inbox.append(event)
        if inbox.count == 1 { condition.signal() }
        condition.unlock()
    }

    private func fail(_ event: HostEvent, _ error: HostError) {
        switch event {
        case .propose(_, _, _, let complete), .proposeRemote(_, _, _, _, let complete),
            .readRemote(_, _, _, _, _, let complete), .administer(_, _, _, let complete),
            .administerRemote(_, _, _, _, let complete):
            complete(.failure(error))
        case .read(_, _, _, _, let fail): fail(error)
        case .inspect(let body): body(HostView(host: nil))
        case .run(_, let dropped): dropped?()
        case .frames, .peer: break
        }
    }

    // MARK: - The loop

    func nowNanoseconds() -> UInt64 { environment.monotonicNanoseconds() }

    /// For a host started with `loop: .driven`: one round of the loop, on the caller's thread (which is the loop
    /// thread from then on): the events queued so far, a tick if one is due, administration steps, the Ready
    /// pipeline. Does nothing once the host has stopped.
    public func runRound() {
        condition.lock()
        let events = inbox
        inbox = []
        let stop = stopping
        condition.unlock()
        guard !stop else { return }
        round(events, nextTick: &manualNextTick)
    }

    /// True if events wait for the next `runRound()`. Any thread.
    public var hasQueuedEvents: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !inbox.isEmpty
    }

    /// When the next tick is due (`HostEnvironment.monotonicNanoseconds`), for a host driven by `runRound()`.
    public var nextTickDue: UInt64 { manualNextTick }

    private func round(_ events: [HostEvent], nextTick: inout UInt64) {
        let now = nowNanoseconds()
        // Ticks missed while the loop was held up (a long round, a paused process) count against the awake
        // groups' leases before any read is looked at; the due tick itself comes after the events.
        let tickNanoseconds = UInt64(settings.tickMilliseconds) * 1_000_000
        if now >= nextTick + tickNanoseconds {
            let missed = (now - nextTick) / tickNanoseconds
            for group in awake { slots[group]?.node.clockSkipped(ticks: missed) }
        }
        for event in events { handle(event) }
        if now >= nextTick {
            tick()
            nextTick += UInt64(settings.tickMilliseconds) * 1_000_000
            if nextTick < now { nextTick = now + UInt64(settings.tickMilliseconds) * 1_000_000 }
        }
        if !administrations.isEmpty { advanceAdministrations() }
        processReadies()
    }

    private func runLoop() {
        let tickNanoseconds = UInt64(settings.tickMilliseconds) * 1_000_000
        var nextTick = nowNanoseconds() + tickNanoseconds
        while true {
            condition.lock()
            while inbox.isEmpty && !stopping && nowNanoseconds() < nextTick {
                let wait = Double(nextTick - min(nextTick, nowNanoseconds())) / 1e9
                _ = condition.wait(until: Date(timeIntervalSinceNow: wait))
            }
            let events = inbox
            inbox = []
            let stop = stopping
            condition.unlock()
            if stop {
                for event in events { fail(event, .shuttingDown) }
                break
            }
            round(events, nextTick: &nextTick)
        }
        finishLoop()
    }

    /// Fails every waiter with `shuttingDown`, syncs the WAL and reports the loop finished.
    private func finishLoop() {
        for (_, waiter) in proposals { waiter.complete(.failure(.shuttingDown)) }
        for (_, waiter) in remoteProposals { waiter.complete(.failure(.shuttingDown)) }
        remoteProposals = [:]
        for (_, waiter) in administrations { waiter.complete(.failure(.shuttingDown)) }
        administrations = [:]
        for (_, waiter) in reads { waiter.fail(.shuttingDown) }
        proposals = [:]
        reads = [:]
        try? wal.sync()
        finished.lock()
        isFinished = true
        finished.broadcast()
        finished.unlock()
    }
}

/// Hands transport callbacks to the host's inbox.
final class TransportBridge: TransportDelegate {
    let host: MultiRaftHost
    init(host: MultiRaftHost) { self.host = host }

    func transport(received frames: [WireFrame], from peer: NodeID) { host.enqueue(.frames(frames, from: peer)) }
    func transport(peer: NodeID, connected: Bool) { host.enqueue(.peer(peer, connected: connected)) }
}
