import Coordinator
import Foundation
import Logging
import Meta
import MultiRaft
import RaftCore
import RaftSimulation
import RaftWire
import TSDB

/// Something the simulator does at a moment of virtual time.
enum WorldEvent {
    /// A node's background work (snapshot serialization, a large read answer).
    case background(node: UInt64, boot: Int, @Sendable () -> Void)
    /// A task's sleep is over.
    case wake(CheckedContinuation<Void, Never>)
    case deliver([WireFrame], from: UInt64, to: UInt64, boot: Int)
    case connectionLost(node: UInt64, boot: Int, peer: UInt64)
    case tick(node: UInt64, boot: Int)
    /// A step of the scenario (a client operation starting, a fault).
    case action(@Sendable () -> Void)
}

/// Whole nodes — multi-Raft host, meta, group follower, coordinator, vnode machines — in one process and in
/// virtual time, over a simulated network, each with a simulated disk (`SimulatedDisk`). Every node is built
/// by `NodeAssembly`, exactly as the server builds it; its host runs in `.driven` mode, so the simulator decides
/// when each node's loop runs; all async code runs on `executor`. The same seed gives the same run (with
/// `SWIFT_DETERMINISTIC_HASHING=1`, which `flotilla-node-sim` sets for itself).
///
/// `@unchecked Sendable`: used only on the thread that calls `run`.
final class NodeWorld: @unchecked Sendable {
    /// One node: its disk and data directory on it and, while it is up, its services.
    final class Node {
        let id: UInt64
        let directory: String
        let disk: SimulatedDisk
        var boot = 0
        var assembly: NodeAssembly?
        var transport: SimulatedTransport?
        /// The end of the sync stall last noticed (an event is scheduled for it).
        var stallNoticed: UInt64 = 0
        init(id: UInt64, directory: String, disk: SimulatedDisk) {
            self.id = id
            self.directory = directory
            self.disk = disk
        }
    }

    /// How a node goes down.
    enum Crash {
        /// The process dies (`kill -9`): what it wrote stays, the OS holds it. With `tornTail`, a partial
        /// record is left at the end of the newest WAL segment, as a write cut short would.
        case kill(tornTail: Bool)
        /// The machine loses power after `operations` more mutating disk calls (in the middle of a round, a
        /// snapshot write, a sync): what was not synced is lost or torn.
        case powerLoss(operations: Int)
    }

    static let layout = NodeAssembly.Layout(metaGroup: GroupID(1), keyValueGroupBase: 1 << 40)

    private(set) var now: UInt64 = 0
    private var queue = EventQueue<WorldEvent>()
    var generator: SplitMix64
    let executor = SimulationExecutor()
    private(set) var network: SimulatedNetwork!
    private(set) var nodes: [UInt64: Node] = [:]
    let nodeIDs: [UInt64]
    /// Linearizable reads by leader lease (two seeds in three) or by a ReadIndex round every time.
    let leaseReads: Bool
    let root: String
    let logger: Logger
    /// A digest of everything that happened, in order: two runs of one seed must end with the same.
    private(set) var trace: UInt64 = 0xCBF2_9CE4_8422_2325
    private(set) var events = 0

    init(seed: UInt64, nodeCount: Int, root: String, logger: Logger) {
        generator = SplitMix64(seed: seed)
        leaseReads = seed % 3 != 0
        nodeIDs = (1...UInt64(nodeCount)).map { $0 }
        self.root = root
        self.logger = logger
        network = SimulatedNetwork(world: self, seed: generator.next())
        for id in nodeIDs {
            let disk = SimulatedDisk(seed: generator.next(), clock: { [unowned self] in now })
            nodes[id] = Node(id: id, directory: root + "/node\(id)", disk: disk)
        }
    }

    // MARK: - Scheduling

    func schedule(_ event: WorldEvent, at time: UInt64) { queue.push(event, at: max(time, now)) }

    /// Schedules `event` (background work) a short, seeded while from now, but not before `notBefore`; returns
    /// the time chosen.
    func scheduleBackground(_ event: WorldEvent, notBefore: UInt64) -> UInt64 {
        let time = max(now + 100_000 + generator.next() % 20_000_000, notBefore)
        schedule(event, at: time)
        return time
    }

    func schedule(_ event: WorldEvent, afterMilliseconds milliseconds: Int) {
        schedule(event, at: now + UInt64(max(0, milliseconds)) * 1_000_000)
    }

    /// Suspends the calling task for `milliseconds` of virtual time.
    func sleepTask(milliseconds: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            schedule(.wake(continuation), afterMilliseconds: milliseconds)
        }
    }

    /// Runs `body` at `time` on the simulator's thread.
    func at(_ time: UInt64, _ body: @escaping @Sendable () -> Void) { schedule(.action(body), at: time) }

    /// Starts `body` as a task on the simulation executor.
    func spawn(_ body: @escaping @Sendable () async -> Void) {
        Task(executorPreference: executor) { await body() }
    }

    func record(_ value: UInt64) {
        trace = (trace ^ value) &* 0x100_0000_01B3
    }

    /// Runs events until virtual time `end` (or until the queue is empty).
    func run(until end: UInt64) {
        while let next = queue.nextTime, next <= end, let (time, event) = queue.pop() {
            now = time
            events += 1
            handle(event)
            settle()
        }
        now = max(now, end)
    }

    /// Runs what the last event made ready: tasks, and the loop rounds of hosts that have events queued, until
    /// neither has anything left at this instant.
    func settle() {
        while true {
            var progressed = executor.runReady()
            for id in nodeIDs {
                guard let node = nodes[id], let host = node.assembly?.host, host.hasQueuedEvents, !isStalled(node)
                else { continue }
                host.runRound()
                afterWork(of: node)
                progressed = true
            }
            if !progressed { return }
        }
    }

    private func handle(_ event: WorldEvent) {
        switch event {
        case .background(let node, let boot, let work):
            record(1 &+ node &* 31)
            guard let current = nodes[node], current.boot == boot, current.assembly != nil else { return }
            work()
            afterWork(of: current)
        case .wake(let continuation):
            record(2)
            continuation.resume()
        case .deliver(let frames, let from, let to, let boot):
            record(3 &+ from &* 31 &+ to &* 961 &+ UInt64(frames.count) << 20)
            network.deliver(frames, from: from, to: to, boot: boot)
        case .connectionLost(let node, let boot, let peer):
            record(4 &+ node &* 31 &+ peer &* 961)
            network.connectionLost(at: node, boot: boot, peer: peer)
        case .tick(let node, let boot):
            record(5 &+ node &* 31)
            guard let current = nodes[node], current.boot == boot, let host = current.assembly?.host else { return }
            if isStalled(current) {
                schedule(.tick(node: node, boot: boot), at: current.disk.stalledUntil)
                return
            }
            host.runRound()
            afterWork(of: current)
            guard current.boot == boot, current.assembly != nil else { return }
            schedule(.tick(node: node, boot: boot), at: max(host.nextTickDue, now + 1))
        case .action(let body):
            record(6)
            body()
        }
    }

    // MARK: - Nodes

    /// Whether `node`'s loop is held by a stalled sync.
    private func isStalled(_ node: Node) -> Bool { node.disk.stalledUntil > now }

    /// After a round or background work of `node`: a power cut that struck meanwhile takes the node down at
    /// once (before any task sees what the round completed: answers of a dead node reach no client); a sync
    /// that began to stall gets an event at its end, when the node's loop goes on.
    private func afterWork(of node: Node) {
        if node.disk.powerIsCut {
            crashNow(node.id, losingPower: true)
            return
        }
        let until = node.disk.stalledUntil
        if until > now, until != node.stallNoticed {
            node.stallNoticed = until
            record(9 &+ node.id &* 31)
            at(until) {}
        }
    }

    func transport(of node: UInt64, boot: Int) -> SimulatedTransport? {
        guard let current = nodes[node], current.boot == boot else { return nil }
        return current.transport
    }

    func isUp(_ node: UInt64) -> Bool { nodes[node]?.assembly != nil }

    var upNodes: [UInt64] { nodeIDs.filter(isUp) }

    /// The founding groups: the meta group, its first three nodes voting, the others following as learners.
    var founding: [GroupID: Membership] {
        let ids = nodeIDs.map { NodeID($0) }
        return [Self.layout.metaGroup: Membership(voters: Set(ids.prefix(3)), learners: Set(ids.dropFirst(3)))]
    }

    /// Starts (or restarts, from its data directory) `id`.
    /// Small vnode memtables and files, so that every run flushes, compacts and sends vnode files.
    static var engineOptions: VnodeEngine.Options {
        var options = VnodeEngine.Options()
        options.memtableValues = 10
        options.blockRows = 16
        options.compactionFanIn = 3
        return options
    }

    func start(_ id: UInt64) throws {
        guard let node = nodes[id], node.assembly == nil else { return }
        node.boot += 1
        record(7 &+ id &* 31)
        logger.info("node \(id) starts at \(now / 1_000_000) ms (boot \(node.boot))")
        let environment = VirtualEnvironment(
            world: self, node: id, boot: node.boot, seed: generator.next(), disk: node.disk)
        let transport = SimulatedTransport(network: network, node: id, boot: node.boot, disk: node.disk)
        node.transport = transport
        var settings = HostSettings(nodeID: NodeID(id), dataDirectory: node.directory)
        settings.snapshotEveryEntries = 40  // snapshots, compaction and snapshot transfers happen in every run
        settings.snapshotChunkBytes = 4 << 10
        settings.leaseReads = leaseReads
        let assembly = NodeAssembly(
            settings: settings, transport: transport, peers: Set(nodeIDs.filter { $0 != id }.map { NodeID($0) }),
            layout: Self.layout, metaNodes: Array(nodeIDs.prefix(3)), foundingNodeCount: nodeIDs.count,
            environment: environment, logger: logger, engineOptions: Self.engineOptions, nodeRegistered: { _ in })
        node.assembly = assembly
        do {
            try assembly.start(founding: founding, loop: .driven)
        } catch {
            // The process exits with the error (a supervisor starts it again).
            stop(node, assembly)
            node.disk.closeEverything()
            throw error
        }
        schedule(.tick(node: id, boot: node.boot), at: assembly.host.nextTickDue)
        let boot = node.boot
        let alive: @Sendable () -> Bool = { [self] in nodes[id]?.boot == boot && nodes[id]?.assembly != nil }
        spawn { [self] in
            // The server's storage watch: once the disk works again after a storage failure, the process
            // restarts (the server `exec`s itself: nothing written is lost).
            await assembly.watchStorage(isAlive: alive, waiting: { _ in }) { [self] in
                logger.info("node \(id): storage works again at \(now / 1_000_000) ms, restarting")
                crash(id, .kill(tornTail: false))
                try? start(id)
            }
        }
        spawn { [self] in
            // The server's maintenance task: a round a second for as long as this boot lives.
            var round = 0
            while true {
                await sleepTask(milliseconds: 1_000)
                guard alive() else { return }
                round += 1
                for line in await assembly.maintain(round: round) { logger.info("node \(id): \(line)") }
            }
        }
        if node.boot == 1 {
            let info = NodeInfo(id: id, raftAddress: "sim-\(id):8901", httpAddress: "sim-\(id):8902")
            spawn { await assembly.register(info) }
        }
    }

    /// Takes `id` down as `how` says. Peers see the connection close; in-flight requests fail; background work
    /// is dropped. A power loss strikes later, in the middle of the node's work, or at the latest 300 ms from now.
    func crash(_ id: UInt64, _ how: Crash) {
        guard let node = nodes[id], node.assembly != nil else { return }
        switch how {
        case .kill(let tornTail):
            crashNow(id, losingPower: false)
            if tornTail { tearWALTail(of: node) }
        case .powerLoss(let operations):
            record(10 &+ id &* 31)
            node.disk.cutPower(afterOperations: operations)
            let boot = node.boot
            at(now + 300_000_000) { [self] in
                if nodes[id]?.boot == boot, isUp(id) { crashNow(id, losingPower: true) }
            }
        }
    }

    private func crashNow(_ id: UInt64, losingPower: Bool) {
        guard let node = nodes[id], let assembly = node.assembly else { return }
        record(8 &+ id &* 31)
        logger.info("node \(id) \(losingPower ? "loses power" : "crashes") at \(now / 1_000_000) ms")
        stop(node, assembly)
        for peer in upNodes {
            schedule(.connectionLost(node: peer, boot: nodes[peer]!.boot, peer: id), at: now + 1_000_000)
        }
        if losingPower {
            node.disk.losePower(tear: generator.next() % 2 == 0)
        } else {
            node.disk.closeEverything()
        }
    }

    /// Stops a node's loop (its waiters fail) and drops its services.
    private func stop(_ node: Node, _ assembly: NodeAssembly) {
        assembly.host.shutdown()
        assembly.meta.onChange = nil  // breaks the host ↔ meta cycle, so the old boot's files close
        node.assembly = nil
        node.transport = nil
    }

    private func tearWALTail(of node: Node) {
        let directory = node.directory + "/wal"
        guard let names = try? node.disk.contentsOfDirectory(directory),
            let newest = names.filter({ $0.hasSuffix(".log") }).sorted().last
        else { return }
        logger.info("node \(node.id) leaves a torn WAL tail")
        node.disk.appendGarbage(to: directory + "/" + newest, count: 1 + Int(generator.next() % 40))
    }

    /// Stops every node and runs what is left (sleeping tasks wake and fail fast), so that no task is left
    /// suspended when the world goes.
    func shutDown() {
        for id in nodeIDs {
            guard let node = nodes[id], let assembly = node.assembly else { continue }
            stop(node, assembly)
        }
        settle()
        var left = 100_000
        while left > 0, let (time, event) = queue.pop() {
            now = max(now, time)
            handle(event)
            settle()
            left -= 1
        }
    }
}
