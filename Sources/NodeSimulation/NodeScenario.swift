import Coordinator
import Foundation
import LineProtocol
import Meta
import RaftCore
import TSDB

/// What one node-level run does, and how hard.
public struct NodeSimulationOptions: Sendable {
    public var nodes = 4
    /// Seconds of virtual time with clients, replica changes and faults.
    public var faultSeconds = 20
    /// Seconds given, after the faults, for the final reads and replica comparison to finish.
    public var settleSeconds = 40
    /// The database's SHARD and REPLICA (0: REPLICA 3, 3, 2 or 1 by seed, so that sets with one replica, read
    /// through nodes that do not host them, are simulated too).
    public var shards = 2
    public var replicas = 0
    /// Series and hours (one bucket each) the clients write into.
    public var keys = 3
    public var hours = 3
    /// Every this many seconds of virtual time the clients move on by an hour, as time-series writes do: new
    /// buckets keep being created while clients read through nodes whose meta may not have them yet.
    public var secondsPerHour = 4
    /// Crashes, partitions and dropped frames (off: only clients and replica changes).
    public var faults = true
    /// Of the clients' requests, the percentage that delete a series' points (in all time or in one hour)
    /// instead of reading. 0 draws nothing more from the seed's generator, so a seed runs as it did before
    /// deletes existed (the seeds that catch a reopened hole stay the same runs).
    public var deletePercent = 0
    public init() {}
}

/// What a run found.
public struct NodeSimulationResult: Sendable {
    public var seed: UInt64
    /// Empty if the run kept every promise checked.
    public var violations: [String]
    /// A digest of every event, in order: equal for two runs of one seed.
    public var trace: UInt64
    public var writes = 0
    public var acknowledgedWrites = 0
    public var deletes = 0
    public var acknowledgedDeletes = 0
    public var reads = 0
    public var failedReads = 0
    public var replicaChanges = 0
    public var replicaChangesDone = 0
    public var crashes = 0
    /// Of the crashes, those that lost power (what was not synced lost or torn).
    public var powerLosses = 0
    /// Disks that filled up, failed (EIO) or stalled for a while.
    public var diskFaults = 0
    public var partitions = 0
    public var events = 0
    public var virtualMilliseconds: UInt64 = 0
}

/// One run: clients writing points into new buckets, deleting a series' points (in all time or in one hour), and
/// reading them back linearizably through random nodes,
/// replica changes (MOVE, ADD, REMOVE, PROMOTE, DRAIN NODE) and bucket width changes (ALTER DATABASE),
/// crashes (process kills, some leaving torn WAL tails, and power losses in the middle of a node's work), disks
/// that fill up, fail or stall, full and partial partitions and lost frames; then everything heals, every series
/// is read through every node, and the replicas of every replica set and the meta replicas of every node are
/// compared.
///
/// `@unchecked Sendable`: used only on the simulator's thread (tasks run on its executor).
final class NodeScenario: @unchecked Sendable {
    let world: NodeWorld
    let options: NodeSimulationOptions
    var history = History()
    var violations: [String] = []
    var result: NodeSimulationResult
    private var nextValue: Int64 = 1
    private var databaseReady = false
    /// The node (and its boot) running the replica change in progress, if one is. A change whose node went down
    /// meanwhile is over: its task never resumes, as a killed process's would not.
    private var adminRunningOn: (node: UInt64, boot: Int)?
    private var adminBusy: Bool {
        guard let running = adminRunningOn else { return false }
        return world.isUp(running.node) && world.nodes[running.node]?.boot == running.boot
    }
    /// The nodes that held a replica of each set before a MOVE or REPLICA REMOVE took it away.
    private var formerNodes: [UInt64: Set<UInt64>] = [:]
    private var finished = false
    /// The first bucket's start: 2026-01-01, as the nodes' wall clocks.
    static let baseTime: Int64 = 1_767_225_600_000_000_000
    static let hour: Int64 = 3_600_000_000_000

    init(world: NodeWorld, options: NodeSimulationOptions, seed: UInt64) {
        self.world = world
        self.options = options
        self.result = NodeSimulationResult(seed: seed, violations: [], trace: 0)
    }

    private func random(_ bound: Int) -> Int { Int(world.generator.next() % UInt64(max(1, bound))) }
    private func milliseconds(_ range: ClosedRange<Int>) -> UInt64 {
        UInt64(range.lowerBound + random(range.count)) * 1_000_000
    }

    func run() -> NodeSimulationResult {
        for id in world.nodeIDs { startNode(id) }
        let faultEnd = UInt64(options.faultSeconds) * 1_000_000_000
        world.at(300_000_000) { [self] in createDatabase() }
        world.at(milliseconds(10...50)) { [self] in client(until: faultEnd) }
        world.at(1_000_000_000 + milliseconds(0...2_000)) { [self] in replicaChange(until: faultEnd) }
        if options.faults {
            world.network.dropPercent = 1
            world.at(1_000_000_000 + milliseconds(0...2_000)) { [self] in fault(until: faultEnd) }
        } else {
            world.network.dropPercent = 0
        }
        world.at(faultEnd) { [self] in heal() }
        world.at(faultEnd + 3_000_000_000) { [self] in world.spawn { await self.finalChecks() } }
        let deadline = faultEnd + UInt64(options.settleSeconds) * 1_000_000_000
        while !finished && world.now < deadline { world.run(until: world.now + 1_000_000_000) }
        if !finished {
            violations.append(
                "the final reads and comparisons did not finish within \(options.settleSeconds) s after the faults ended"
            )
        }
        result.virtualMilliseconds = world.now / 1_000_000
        world.shutDown()
        violations += history.violations()
        result.violations = violations
        result.trace = world.trace
        result.events = world.events
        result.writes = history.writes.count
        result.acknowledgedWrites = history.acknowledgedWrites
        result.deletes = history.deletes.count
        result.acknowledgedDeletes = history.deletes.filter { $0.acknowledged != nil }.count
        result.reads = history.reads.count
        result.failedReads = history.failedReads
        return result
    }

    /// Starts `id`; a start that fails while its disk is faulty is tried again a second later, as a supervisor
    /// would (any other failure to start is a violation).
    private func startNode(_ id: UInt64) {
        do {
            try world.start(id)
        } catch {
            if world.nodes[id]!.disk.fault != .none {
                world.logger.info("node \(id) could not start on its faulty disk: \(error)")
                world.at(world.now + 1_000_000_000) { [self] in startNode(id) }
                return
            }
            violations.append(
                "node \(id) could not start from its data directory at \(world.now / 1_000_000) ms: \(error)")
        }
    }

    private func coordinator(of node: UInt64) -> Coordinator? { world.nodes[node]?.assembly?.coordinator }

    private func randomUpNode() -> UInt64? {
        let up = world.upNodes
        return up.isEmpty ? nil : up[random(up.count)]
    }

    // MARK: - Clients

    private func createDatabase() {
        var database = DatabaseOptions()
        database.shard = options.shards
        database.replica = options.replicas
        database.vnodeDuration = Self.hour
        let options = database
        world.spawn { [self] in
            while true {
                if let node = randomUpNode(), let coordinator = coordinator(of: node),
                    let result = try? await coordinator.execute(
                        .createDatabase(tenant: "cnosdb", name: "sim", options: options, ifNotExists: true)),
                    result.ok
                {
                    databaseReady = true
                    return
                }
                await world.sleepTask(milliseconds: 200)
            }
        }
    }

    private func client(until end: UInt64) {
        guard world.now < end else { return }
        world.at(world.now + milliseconds(10...50)) { [self] in client(until: end) }
        guard databaseReady, let node = randomUpNode(), let coordinator = coordinator(of: node) else { return }
        let key = random(options.keys)
        let kind = random(100)
        if kind >= 60 && kind < 60 + options.deletePercent {
            // A deletion of one series: everywhere in time, or in one hour (one bucket) from its first second on.
            let hour = Self.baseTime + Int64(random(options.hours) + hoursPassed) * Self.hour
            let (start, end) = random(2) == 0 ? (Int64.min, Int64.max) : (hour + 1_000_000_000, hour + Self.hour)
            let number = history.invoked(
                History.Delete(key: key, start: start, end: end, invoked: world.now, acknowledged: nil))
            let tombstone = Tombstone(
                measurement: "m", conditions: [TagCondition(key: "k", values: ["k\(key)"])], start: start, end: end)
            let boot = world.nodes[node]!.boot
            world.spawn { [self] in
                do {
                    try await coordinator.delete(tenant: "cnosdb", database: "sim", tombstone)
                    guard world.nodes[node]?.boot == boot, world.isUp(node) else { return }
                    history.deleteAcknowledged(number, at: world.now)
                } catch {}
            }
        } else if kind < 60 {
            let point = History.Point(
                key: key,
                timestamp: Self.baseTime + Int64(random(options.hours) + hoursPassed) * Self.hour
                    + Int64(random(2)) * 1_000_000_000)
            let value = nextValue
            nextValue += 1
            history.invoked(History.Write(point: point, value: value, invoked: world.now, acknowledged: nil))
            let body = Array("m,k=k\(key) v=\(value)i \(point.timestamp)".utf8)
            let boot = world.nodes[node]!.boot
            world.spawn { [self] in
                do {
                    _ = try await coordinator.write(
                        tenant: "cnosdb", database: "sim", precision: .nanoseconds, body: body)
                    // The answer of a node that went down meanwhile reaches no client.
                    guard world.nodes[node]?.boot == boot, world.isUp(node) else { return }
                    history.acknowledged(value: value, at: world.now)
                } catch {}
            }
        } else {
            let invoked = world.now
            let boot = world.nodes[node]!.boot
            world.spawn { [self] in
                do {
                    let values = try await read(key, through: coordinator)
                    guard world.nodes[node]?.boot == boot, world.isUp(node) else { return history.readFailed() }
                    history.completed(
                        History.Read(key: key, node: node, invoked: invoked, completed: world.now, values: values))
                } catch {
                    history.readFailed()
                }
            }
        }
    }

    /// How far the clients have moved on (`NodeSimulationOptions.secondsPerHour`).
    private var hoursPassed: Int {
        Int(world.now / (UInt64(max(1, options.secondsPerHour)) * 1_000_000_000))
    }

    private func read(_ key: Int, through coordinator: Coordinator) async throws(CoordinatorError) -> [Int64: Int64] {
        let tag = "k\(key)"
        let rows = try await coordinator.scan(
            tenant: "cnosdb", database: "sim", measurement: "m", start: .min, end: .max, stale: false,
            filter: { tags in tags.contains { $0.key == "k" && $0.value == tag } })
        var values: [Int64: Int64] = [:]
        for row in rows {
            if case .integer(let value) = row.fields["v"] { values[row.timestamp] = value }
        }
        return values
    }

    // MARK: - Replica changes and faults

    private func replicaChange(until end: UInt64) {
        guard world.now < end else { return }
        world.at(world.now + milliseconds(1_000...3_000)) { [self] in replicaChange(until: end) }
        guard databaseReady, !adminBusy, let node = randomUpNode(), let assembly = world.nodes[node]?.assembly
        else { return }
        let sets = assembly.meta.current.allReplicaSets.map(\.set).filter { $0.isLive && $0.pending == nil }
        guard !sets.isEmpty else { return }
        let set = sets[random(sets.count)]
        let outside = world.nodeIDs.filter { !set.nodes.contains($0) }
        // Half the time back to a node that held a replica of this set before: its new replica (a new
        // incarnation) must be caught up from scratch, never taken for the old one.
        let former = outside.filter { formerNodes[set.id, default: []].contains($0) }
        let targets = !former.isEmpty && random(2) == 0 ? former : outside
        let coordinator = assembly.coordinator
        let change: @Sendable () async throws(CoordinatorError) -> Void
        switch random(5) {
        case 0 where !outside.isEmpty:
            let vnode = set.vnodes[random(set.vnodes.count)]
            let target = targets[random(targets.count)]
            formerNodes[set.id, default: []].insert(vnode.node)
            change = { () throws(CoordinatorError) in try await coordinator.moveVnode(vnode.id, to: target) }
        case 1 where !outside.isEmpty:
            let target = targets[random(targets.count)]
            change = { () throws(CoordinatorError) in try await coordinator.addReplica(set.id, node: target) }
        case 2 where set.nodes.count > 2:
            let target = set.nodes[random(set.nodes.count)]
            formerNodes[set.id, default: []].insert(target)
            change = { () throws(CoordinatorError) in try await coordinator.removeReplica(set.id, node: target) }
        case 3:
            let target = set.nodes[random(set.nodes.count)]
            change = { () throws(CoordinatorError) in try await coordinator.promoteReplica(set.id, node: target) }
        case 4 where random(3) == 0:
            // DRAIN NODE: every vnode of the node moves elsewhere, one MOVE after the other, while new buckets
            // leave it out; then the node takes vnodes again.
            let drained = world.nodeIDs[random(world.nodeIDs.count)]
            world.logger.info("DRAIN NODE \(drained) from \(world.now / 1_000_000) ms")
            change = { [world] () throws(CoordinatorError) in
                let outcome: Result<[String], CoordinatorError>
                do throws(CoordinatorError) {
                    outcome = .success(try await coordinator.drainNode(drained))
                } catch {
                    outcome = .failure(error)
                }
                _ = try? await coordinator.execute(.setDraining(node: drained, draining: false))
                world.logger.info("DRAIN NODE \(drained): \(outcome) at \(world.now / 1_000_000) ms")
                _ = try outcome.get()
            }
        default:
            // ALTER DATABASE … VNODE_DURATION: buckets created from now on have another width (and must not
            // overlap the ones that exist).
            guard var database = assembly.meta.current.database("cnosdb", "sim")?.options else { return }
            database.vnodeDuration = [Self.hour, Self.hour * 3 / 2, Self.hour * 2 / 3][random(3)]
            let options = database
            change = { () throws(CoordinatorError) in
                let result = try await coordinator.execute(
                    .alterDatabase(tenant: "cnosdb", name: "sim", options: options))
                guard result.ok else { throw CoordinatorError(.badRequest, result.code, result.message) }
            }
        }
        let running = (node: node, boot: world.nodes[node]!.boot)
        adminRunningOn = running
        result.replicaChanges += 1
        world.spawn { [self] in
            if (try? await change()) != nil { result.replicaChangesDone += 1 }
            if adminRunningOn?.node == running.node && adminRunningOn?.boot == running.boot { adminRunningOn = nil }
        }
    }

    private func fault(until end: UInt64) {
        guard world.now < end else { return }
        world.at(world.now + milliseconds(1_500...4_000)) { [self] in fault(until: end) }
        let ids = world.nodeIDs
        let heal = world.now + milliseconds(500...3_000)
        switch random(5) {
        case 0 where world.upNodes.count == ids.count:
            let node = ids[random(ids.count)]
            if random(2) == 0 {
                world.crash(node, .kill(tornTail: random(2) == 0))
            } else {
                world.crash(node, .powerLoss(operations: random(60)))
                result.powerLosses += 1
            }
            result.crashes += 1
            world.at(heal) { [self] in startNode(node) }
        case 3:
            // A disk that fills up, fails or stalls; the node gives up its leaderships, answers what it cannot
            // persist with an error, and restarts by itself once its disk works again.
            let node = ids[random(ids.count)]
            let disk = world.nodes[node]!.disk
            guard disk.fault == .none else { break }
            disk.fault = [.full, .failing, .failingSyncs, .stalling(milliseconds: 50 + random(1450))][random(4)]
            world.logger.info("node \(node)'s disk is \(disk.fault) from \(world.now / 1_000_000) ms")
            result.diskFaults += 1
            world.at(heal) { disk.fault = .none }
        case 1:
            let node = ids[random(ids.count)]
            world.network.isolate([node], from: ids)
            result.partitions += 1
            world.at(heal) { [self] in world.network.cut = world.network.cut.filter { $0.from != node && $0.to != node }
            }
        case 2:
            let a = ids[random(ids.count)]
            let b = ids.filter { $0 != a }[random(ids.count - 1)]
            world.network.cutBetween(a, b)
            result.partitions += 1
            world.at(heal) { [self] in
                world.network.cut.remove(.init(from: a, to: b))
                world.network.cut.remove(.init(from: b, to: a))
            }
        default:
            break
        }
    }

    private func heal() {
        world.network.cut = []
        world.network.dropPercent = 0
        for id in world.nodeIDs { world.nodes[id]!.disk.fault = .none }
        for id in world.nodeIDs where !world.isUp(id) { startNode(id) }
    }

    // MARK: - The end

    /// Every series read through every node (into the history), then every replica set's replicas and every
    /// node's meta replica compared.
    private func finalChecks() async {
        defer { finished = true }
        for key in 0..<options.keys {
            for node in world.nodeIDs {
                var done = false
                for _ in 0..<20 where !done {
                    guard let coordinator = coordinator(of: node) else { break }
                    let invoked = world.now
                    do {
                        let values = try await read(key, through: coordinator)
                        history.completed(
                            History.Read(key: key, node: node, invoked: invoked, completed: world.now, values: values))
                        done = true
                    } catch {
                        world.logger.info(
                            "final read of k\(key) through node \(node) at \(world.now / 1_000_000) ms failed: \(error)"
                        )
                        await world.sleepTask(milliseconds: 500)
                    }
                }
                if !done {
                    violations.append("after the faults, series k\(key) could not be read through node \(node)")
                }
            }
        }
        guard let first = coordinator(of: world.nodeIDs[0]) else { return }
        let state = await first.freshState()
        for location in state.allReplicaSets where location.set.isLive {
            var last = "no answer"
            var same = false
            for _ in 0..<20 where !same {
                do {
                    let rows = try await first.checksums(location.set.id)
                    same = Set(rows.map(\.checksum)).count == 1
                    last = rows.map { "vnode \($0.vnode) on node \($0.node): \($0.points) points" }.joined(
                        separator: ", ")
                } catch {
                    last = "\(error)"
                }
                world.logger.info("final check at \(world.now / 1_000_000) ms: replica set \(location.set.id): \(last)")
                if !same { await world.sleepTask(milliseconds: 500) }
            }
            if !same { violations.append("the replicas of replica set \(location.set.id) differ: \(last)") }
        }
        var metaAgrees = false
        for _ in 0..<20 where !metaAgrees {
            let states = world.nodeIDs.compactMap { world.nodes[$0]?.assembly?.meta.current }
            metaAgrees = states.count == world.nodeIDs.count && states.allSatisfy { $0 == states[0] }
            if !metaAgrees { await world.sleepTask(milliseconds: 500) }
        }
        if !metaAgrees { violations.append("the nodes' meta replicas differ after the faults") }
    }
}
