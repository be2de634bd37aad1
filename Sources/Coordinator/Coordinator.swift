import Foundation
import LineProtocol
import Meta
import MultiRaft
import RaftCore
import TSDB

/// Routes writes and reads (CnosDB's write path, docs/store.md, "Write path"): (tenant, database, timestamp) → bucket, created
/// on demand through the meta group; hash of the series key → replica set → its Raft group. A group this node
/// hosts is proposed to locally (a follower's member forwards to its leader); any other is forwarded over the
/// Raft transport to a node that hosts it, leader hint first. A group without a leader makes the write wait for
/// the election, up to the write timeout.
public final class Coordinator: Sendable {
    public let host: MultiRaftHost
    public let meta: MetaStore
    public let nodeID: UInt64
    /// Meta members, for nodes that do not host the meta group.
    let metaNodes: [UInt64]
    public let metaGroup: GroupID
    let writeTimeoutMilliseconds: Int
    /// Gives every request one identity for all its attempts: the groups' machines apply it once.
    let requests: RequestSequencer
    /// Linearizable reads of the meta group, batched: one ReadIndex round serves every request that arrived
    /// while the previous round ran.
    let metaBarrier: ReadBarrier
    /// How many nodes founded the cluster (they count towards REPLICA before they have registered).
    public let foundingNodeCount: Int
    /// The field types this node knows, for `write(…, checkTypes: true)`.
    let fieldTypes = FieldTypeCheck()

    public init(
        host: MultiRaftHost, meta: MetaStore, nodeID: UInt64, metaGroup: GroupID, metaNodes: [UInt64],
        foundingNodeCount: Int = 0, writeTimeoutMilliseconds: Int = 5_000
    ) {
        self.host = host
        self.meta = meta
        self.nodeID = nodeID
        self.metaGroup = metaGroup
        self.metaNodes = metaNodes
        self.writeTimeoutMilliseconds = writeTimeoutMilliseconds
        self.requests = RequestSequencer(client: nodeID)
        self.foundingNodeCount = foundingNodeCount
        self.metaBarrier = ReadBarrier { [host] in
            _ = try await host.read(metaGroup, linearizable: true, timeoutMilliseconds: writeTimeoutMilliseconds) { _ in
                0
            }
        }
    }

    // MARK: - Meta

    /// Proposes a metadata change and returns what applying it answered. Every attempt carries the same
    /// request identity, so the change applies once however the attempts end.
    public func execute(_ command: MetaCommand) async throws(CoordinatorError) -> MetaResult {
        let bytes = MetaStore.encode(command)
        let sequence = requests.begin()
        defer { requests.end(sequence) }
        var lastError: (any Error)?
        let targets = metaNodes.contains(nodeID) ? [nodeID] : metaNodes
        for target in targets {
            do {
                let answer = try await host.propose(
                    requests.request(sequence).envelope(bytes), to: metaGroup, via: NodeID(target),
                    timeoutMilliseconds: writeTimeoutMilliseconds)
                try Self.checkNotExpired(answer, what: "the meta group")
                return MetaStore.decodeResult(answer)
            } catch let error as CoordinatorError {
                throw error
            } catch {
                lastError = error
            }
        }
        throw Self.unavailable(lastError, what: "the meta group")
    }

    /// A request whose result its group no longer keeps (it waited in flight through more of this node's
    /// requests than a session remembers) has an unknown outcome: never report it as done.
    static func checkNotExpired(_ answer: [UInt8], what: String) throws(CoordinatorError) {
        guard answer == DeduplicatingMachine.expiredAnswer else { return }
        throw CoordinatorError(
            .unavailable, "raft.outcome_unknown",
            "\(what): the request was in flight too long for its outcome to be known; check and retry")
    }

    /// Returns once the local meta replica has applied everything committed before the call (a meta ReadIndex
    /// round that started after the call, shared with the requests that arrived meanwhile).
    /// - Throws: `meta.unavailable` (503) when no round completes in time (no meta leader, this node cut off
    ///   from it, or still replaying its log).
    public func awaitCurrentMeta() async throws(CoordinatorError) {
        do {
            try await metaBarrier.wait()
        } catch {
            throw CoordinatorError(
                .unavailable, "meta.unavailable",
                "this node cannot confirm it has the latest metadata (\(error)); retry, or read with "
                    + "consistency=stale")
        }
    }

    /// The database. `fresh`: from meta state at least as new as a meta read index taken after the call (what
    /// a linearizable request plans from). Otherwise from the local meta replica, and on a miss after a meta
    /// read (a database created through another node a moment ago is found).
    public func database(
        _ tenant: String, _ name: String, fresh: Bool = false
    ) async throws(CoordinatorError) -> DatabaseInfo? {
        if !fresh, let found = meta.current.database(tenant, name) { return found }
        try await awaitCurrentMeta()
        return meta.current.database(tenant, name)
    }

    // MARK: - Writes

    /// The start of the bucket that holds `timestamp`: `floor(timestamp / width) * width` (epoch-aligned, also
    /// for times before 1970).
    public static func bucketStart(of timestamp: Int64, width: Int64) -> Int64 {
        var start = (timestamp / width) * width
        if timestamp < 0 && timestamp % width != 0 { start -= width }
        return start
    }

    /// Which of a bucket's replica sets holds the point: `hash(series key) % SHARD`.
    public static func replicaSetIndex(of point: Point, shards: Int) -> Int {
        Int(SeriesKey.hash(of: point) % UInt64(max(1, shards)))
    }

    /// Parses line protocol and writes every point; returns how many. Nothing is written if the body does not
    /// parse. Points are committed per replica set: on a partial failure the error says so, and a retry converges
    /// (writes are idempotent upserts).
    /// Writes the points of a line-protocol body; answers how many. Points older than the database's TTL are not
    /// written: the others are, then a 400 `write.beyond_ttl` says how many were dropped (InfluxDB's "partial
    /// write"). `checkTypes`: first refuse the whole request if a field has another type than its measurement
    /// has (`FieldTypeCheck`; the HTTP API asks for it).
    public func write(
        tenant: String, database name: String, precision: Precision?, body: [UInt8], checkTypes: Bool = false
    ) async throws(CoordinatorError) -> Int {
        guard let database = try await database(tenant, name) else {
            throw CoordinatorError(
                .notFound, "meta.database_not_found", "database '\(name)' does not exist in tenant '\(tenant)'")
        }
        let unit = precision ?? Precision(parsing: database.options.precision) ?? .nanoseconds
        let now = host.environment.wallNanoseconds()
        var points: [Point]
        do {
            points = try LineProtocolParser(precision: unit, defaultTimestamp: now).parse(body)
        } catch {
            throw CoordinatorError(.badRequest, "write.malformed", "\(error)")
        }
        guard !points.isEmpty else { return 0 }
        // Types first, on every point as written, so that a conflict names its line in the body.
        var newFields: [(String, String, String)] = []
        if checkTypes {
            newFields = try await fieldTypes.check(
                points, body: body, tenant: tenant, database: database, coordinator: self)
        }
        var beyondTTL = 0
        if let ttl = database.options.ttl {
            let cutoff = now &- ttl
            let kept = points.filter { $0.timestamp >= cutoff }
            beyondTTL = points.count - kept.count
            points = kept
        }
        var batches: [UInt64: (set: ReplicaSetInfo, points: [Point])] = [:]
        var info = database
        for point in points {
            let bucket = try await bucket(for: point.timestamp, tenant: tenant, database: &info)
            let set = bucket.replicaSets[Self.replicaSetIndex(of: point, shards: bucket.replicaSets.count)]
            guard set.isLive else {
                throw CoordinatorError(
                    .conflict, "meta.replica_set_destroyed",
                    "replica set \(set.id) of bucket \(bucket.id) (\(bucket.start)..<\(bucket.end)) was destroyed with "
                        + "REPLICA DESTROY; the series of this point cannot be written into that time range")
            }
            batches[set.id, default: (set, [])].points.append(point)
        }
        try await proposeAll(
            batches.values.map { (VnodeMachine.writeCommand($0.points), $0.set) }, what: "write",
            again: "retrying is safe")
        fieldTypes.learn(newFields, tenant: tenant, database: database)
        if beyondTTL > 0 {
            throw CoordinatorError(
                .badRequest, "write.beyond_ttl",
                "partial write: \(beyondTTL) of \(beyondTTL + points.count) points are older than the database's TTL "
                    + "and were dropped; the other \(points.count) were written")
        }
        return points.count
    }

    private func bucket(
        for timestamp: Int64, tenant: String, database: inout DatabaseInfo
    ) async throws(CoordinatorError) -> BucketInfo {
        for _ in 0..<3 {
            if let found = database.buckets.first(where: { $0.start <= timestamp && timestamp < $0.end }) {
                return found
            }
            let (start, end) = Self.newBucketRange(
                for: timestamp, width: database.options.vnodeDuration,
                existing: database.buckets.map { ($0.start, $0.end) })
            let result = try await execute(
                .createBucket(
                    tenant: tenant, database: database.name, start: start, end: end,
                    placement: try placement(for: database.options)))
            guard result.ok else { throw CoordinatorError(.notFound, result.code, result.message) }
            // The bucket was created through the meta leader, which may be another node: wait until this node's
            // meta replica has applied it.
            try await awaitCurrentMeta()
            guard let refreshed = meta.current.database(tenant, database.name) else {
                throw CoordinatorError(
                    .notFound, "meta.database_not_found",
                    "database '\(database.name)' does not exist in tenant '\(tenant)'")
            }
            database = refreshed
        }
        throw CoordinatorError(
            .unavailable, "meta.bucket_missing",
            "no bucket holds time \(timestamp) after three attempts to create one (buckets changing concurrently); retry"
        )
    }

    /// The range of a new bucket for `timestamp`: aligned to `width` (`bucketStart`), cut where the neighbouring
    /// buckets begin and end, so that buckets never overlap (also after `VNODE_DURATION` changed).
    public static func newBucketRange(
        for timestamp: Int64, width: Int64, existing: [(start: Int64, end: Int64)]
    ) -> (start: Int64, end: Int64) {
        let aligned = bucketStart(of: timestamp, width: width)
        let previousEnd = existing.lazy.map(\.end).filter { $0 <= timestamp }.max() ?? Int64.min
        let nextStart = existing.lazy.map(\.start).filter { $0 > timestamp }.min() ?? Int64.max
        return (max(aligned, previousEnd), min(aligned &+ width, nextStart))
    }

    /// Where a new bucket's replica sets go: per set, the REPLICA eligible nodes holding the fewest vnodes.
    private func placement(for options: DatabaseOptions) throws(CoordinatorError) -> [[UInt64]] {
        let state = meta.current
        let shard = max(1, options.shard)
        let replica = max(1, options.replica)
        let eligible = state.nodes.values.filter(\.acceptsVnodes).count
        guard eligible >= replica else {
            throw CoordinatorError(
                .unavailable, "meta.not_enough_nodes",
                "REPLICA \(replica) needs \(replica) nodes; \(eligible) have registered and are not draining")
        }
        var counts = state.vnodeCounts.filter { state.nodes[$0.key]?.acceptsVnodes == true }
        var placement: [[UInt64]] = []
        for _ in 0..<shard {
            let chosen = counts.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.prefix(replica).map(\.key).sorted()
            for node in chosen { counts[node, default: 0] += 1 }
            placement.append(chosen)
        }
        return placement
    }

    /// Proposes `command` to a replica set's group: locally if this node hosts a replica, else through the
    /// nodes that do (leader hint first). Every attempt carries the same request identity: a copy that commits
    /// after a later attempt (or after a later write to the same point) is dropped by the vnode, never applied
    /// again.
    func propose(_ command: [UInt8], to set: ReplicaSetInfo) async throws(CoordinatorError) {
        let group = GroupID(set.id)
        let targets = self.targets(of: set)
        let sequence = requests.begin()
        defer { requests.end(sequence) }
        var lastError: (any Error)?
        for target in targets {
            do {
                let answer = try await host.propose(
                    requests.request(sequence).envelope(command), to: group, via: NodeID(target),
                    timeoutMilliseconds: writeTimeoutMilliseconds)
                try Self.checkNotExpired(answer, what: "replica set \(set.id)")
                return
            } catch let error as CoordinatorError {
                throw error
            } catch {
                lastError = error
            }
        }
        throw Self.unavailable(lastError, what: "replica set \(set.id)")
    }

    /// Proposes each command to its replica set, all at once. A failure in a request that spans several sets says
    /// so (some may have committed), and that doing it `again` is safe.
    func proposeAll(
        _ proposals: [(command: [UInt8], set: ReplicaSetInfo)], what: String, again: String
    ) async throws(CoordinatorError) {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for proposal in proposals {
                    group.addTask { try await self.propose(proposal.command, to: proposal.set) }
                }
                try await group.waitForAll()
            }
        } catch let error as CoordinatorError {
            throw CoordinatorError(
                error.kind, error.code,
                proposals.count > 1
                    ? "\(error.message) (the \(what) spans \(proposals.count) replica sets; some may have committed; "
                        + "\(again))"
                    : error.message)
        } catch {
            throw CoordinatorError(.internalError, "\(what).failed", "\(error)")
        }
    }

    /// The nodes to send a replica set's requests to, in order: this node alone if it holds a voting replica,
    /// else the set's other nodes, leader hint first. A local replica still being added (a learner catching up
    /// on a MOVE, COPY or DRAIN target) is not used: it would hold every request until it caught up.
    func targets(of set: ReplicaSetInfo) -> [UInt64] { Self.targets(of: set, from: nodeID) }

    /// `targets(of:)` as seen from node `nodeID`.
    static func targets(of set: ReplicaSetInfo, from nodeID: UInt64) -> [UInt64] {
        let localIsLearner = set.pending?.kind == .add && set.pending?.node == nodeID
        if set.nodes.contains(nodeID) && !localIsLearner { return [nodeID] }
        var targets = set.nodes.filter { $0 != nodeID }
        if let hint = set.leaderHint, let index = targets.firstIndex(of: hint) { targets.swapAt(0, index) }
        if localIsLearner { targets.append(nodeID) }  // the last resort
        return targets
    }

    static func unavailable(_ error: (any Error)?, what: String) -> CoordinatorError {
        if let host = error as? HostError {
            switch host {
            case .rejected(_, let rejection):
                let kind: CoordinatorError.Kind
                switch rejection.remedy {
                case .none: kind = .badRequest
                case .sendLess: kind = .tooLarge
                case .retryLater: kind = .unavailable
                }
                return CoordinatorError(kind, rejection.code, "\(what): \(host.description)")
            case .storageFailed:
                // A node that cannot persist gave up its groups; the write was not acknowledged.
                return host.isDiskFull
                    ? CoordinatorError(.insufficientStorage, "storage.full", "\(what): \(host.description)")
                    : CoordinatorError(.unavailable, "storage.failed", "\(what): \(host.description)")
            default: return CoordinatorError(.unavailable, "raft.unavailable", "\(what): \(host.description)")
            }
        }
        return CoordinatorError(
            .unavailable, "raft.unavailable", "\(what): \(error.map { "\($0)" } ?? "no replica reachable")")
    }

    // MARK: - Reads

    /// Every row of `measurement` in `[start, end)` whose series passes `filter`, from every replica set of the
    /// buckets that overlap the range; linearizable unless `stale`: the buckets come from meta state at least as
    /// new as a meta read index taken after the call, and each group is read after its own ReadIndex round. A
    /// replica set this node does not host is read on a node that does, over the Raft transport.
    /// `tags`: only series with every one of these tags (the vnodes filter them; nothing else travels);
    /// `fields`: only these fields travel (rows without any of them still do, empty); `seriesLimit`: at most the
    /// first this many rows of each series (per bucket), where the vnode applies every tag of `tags`.
    public func scan(
        tenant: String, database name: String, measurement: String, start: Int64, end: Int64, tags: [Tag] = [],
        fields: [String]? = nil, seriesLimit: Int? = nil, stale: Bool, filter: @escaping @Sendable ([Tag]) -> Bool
    ) async throws(CoordinatorError) -> [Row] {
        var rows: [Row] = []
        let request = VnodeQuery.scan(
            measurement: measurement, start: start, end: end, tags: tags, fields: fields, seriesLimit: seriesLimit,
            rowBatches: true
        ).bytes
        let (sets, answers) = try await readPlanned(
            request, tenant: tenant, database: name, start: start, end: end, stale: stale)
        for (set, answer) in zip(sets, answers) {
            do {
                rows += try VnodeQuery.rows(from: answer).filter { filter($0.tags) }
            } catch {
                throw CoordinatorError(.internalError, "read.malformed", "replica set \(set.id) answered: \(error)")
            }
        }
        return rows
    }

    /// Partial aggregates of `field` (rows counted when nil) per series of `measurement` in `[start, end)` with
    /// every one of `tags`, per window of `window` nanoseconds when given: each replica set answers its own
    /// (from block stats where it can), and only the partials travel. Linearizable unless `stale`, as `scan`.
    /// A series in several buckets comes once per bucket: the caller merges by its grouping.
    public func aggregate(
        tenant: String, database name: String, measurement: String, start: Int64, end: Int64, tags: [Tag],
        field: String?, window: Int64?, stale: Bool
    ) async throws(CoordinatorError) -> [SeriesAggregate] {
        var parts: [SeriesAggregate] = []
        let request = VnodeQuery.aggregate(
            measurement: measurement, start: start, end: end, tags: tags, field: field, window: window
        ).bytes
        let (sets, answers) = try await readPlanned(
            request, tenant: tenant, database: name, start: start, end: end, stale: stale)
        for (set, answer) in zip(sets, answers) {
            do {
                parts += try VnodeQuery.aggregates(from: answer)
            } catch {
                throw CoordinatorError(.internalError, "read.malformed", "replica set \(set.id) answered: \(error)")
            }
        }
        return parts
    }

    /// Measurements and their columns across a database (for SHOW TABLES / DESCRIBE TABLE).
    public func schema(
        tenant: String, database name: String, timeoutMilliseconds: Int? = nil
    ) async throws(CoordinatorError) -> [String: MeasurementSchema] {
        guard let database = try await database(tenant, name, fresh: true) else {
            throw CoordinatorError(
                .notFound, "meta.database_not_found", "database '\(name)' does not exist in tenant '\(tenant)'")
        }
        var result: [String: MeasurementSchema] = [:]
        let sets = Self.liveSets(of: database, start: .min, end: .max)
        for answer in try await read(
            VnodeQuery.schema.bytes, from: sets, linearizable: false, timeoutMilliseconds: timeoutMilliseconds)
        {
            for (measurement, part) in (try? VnodeQuery.schemas(from: answer)) ?? [:] {
                var entry = result[measurement] ?? MeasurementSchema(tags: [], fields: [:])
                entry.tags.formUnion(part.tags)
                entry.fields.merge(part.fields) { a, _ in a }
                result[measurement] = entry
            }
        }
        return result
    }

    /// The live replica sets of the buckets of `database` that overlap `[start, end)`, in bucket order.
    static func liveSets(of database: DatabaseInfo, start: Int64, end: Int64) -> [ReplicaSetInfo] {
        database.buckets.filter { $0.start < end && start < $0.end }.flatMap { $0.replicaSets.filter(\.isLive) }
    }

    /// Runs a vnode query on every one of `sets` at once (each read is its own ReadIndex round when
    /// `linearizable`), answers in the order of `sets`; the first failure is thrown.
    func read(
        _ request: [UInt8], from sets: [ReplicaSetInfo], linearizable: Bool, timeoutMilliseconds: Int? = nil
    ) async throws(CoordinatorError) -> [[UInt8]] {
        if sets.count == 1 {
            return [
                try await read(
                    request, from: sets[0], linearizable: linearizable, timeoutMilliseconds: timeoutMilliseconds)
            ]
        }
        var outcomes = [Result<[UInt8], CoordinatorError>?](repeating: nil, count: sets.count)
        await withTaskGroup(of: (Int, Result<[UInt8], CoordinatorError>).self) { group in
            for (index, set) in sets.enumerated() {
                group.addTask {
                    (
                        index,
                        await self.outcome(
                            request, from: set, linearizable: linearizable, timeoutMilliseconds: timeoutMilliseconds)
                    )
                }
            }
            for await (index, outcome) in group { outcomes[index] = outcome }
        }
        var answers: [[UInt8]] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let answer)?: answers.append(answer)
            case .failure(let error)?: throw error
            case nil: throw CoordinatorError(.internalError, "read.lost", "a replica set's read returned nothing")
            }
        }
        return answers
    }

    private func outcome(
        _ request: [UInt8], from set: ReplicaSetInfo, linearizable: Bool, timeoutMilliseconds: Int?
    ) async -> Result<[UInt8], CoordinatorError> {
        do {
            return .success(
                try await read(request, from: set, linearizable: linearizable, timeoutMilliseconds: timeoutMilliseconds)
            )
        } catch {
            return .failure(error)
        }
    }

    /// Runs a vnode query on a replica of `set`: this node's if it has one, else the leader hint's, else any.
    func read(
        _ request: [UInt8], from set: ReplicaSetInfo, linearizable: Bool, timeoutMilliseconds: Int? = nil
    ) async throws(CoordinatorError) -> [UInt8] {
        var lastError: (any Error)?
        var candidates = targets(of: set)
        var tried: Set<UInt64> = []
        while let target = candidates.first {
            candidates.removeFirst()
            tried.insert(target)
            do {
                return try await host.read(
                    GroupID(set.id), via: NodeID(target), linearizable: linearizable, request: request,
                    timeoutMilliseconds: timeoutMilliseconds ?? writeTimeoutMilliseconds)
            } catch {
                lastError = error
                // A damaged replica serves nothing: the set's other replicas answer instead.
                if case .damaged = error as? HostError {
                    candidates += Self.targets(of: set, from: 0).filter {
                        !tried.contains($0) && !candidates.contains($0)
                    }
                }
            }
        }
        throw Self.unavailable(lastError, what: "replica set \(set.id)")
    }
}
