import Testing

@testable import RaftCore

// MARK: - Building members

/// A config for tests. Plain Raft (no pre-vote, no check-quorum) unless asked, so that the §5 tests exercise
/// the paper's algorithm alone.
func testConfig(
    _ id: NodeID, preVote: Bool = false, checkQuorum: Bool = false, electionTicks: Int = 10,
    heartbeatTicks: Int = 1, seed: UInt64 = 0, _ adjust: (inout RaftConfig) -> Void = { _ in }
) -> RaftConfig {
    var config = RaftConfig(id: id)
    config.preVote = preVote
    config.checkQuorum = checkQuorum
    config.electionTicks = electionTicks
    config.heartbeatTicks = heartbeatTicks
    config.seed = seed
    adjust(&config)
    return config
}

/// Entries with indexes `first, first + 1, ...` and the given terms; each carries its index as data.
func makeEntries(terms: [UInt64], first: LogIndex = 1) -> [Entry] {
    terms.enumerated().map { offset, term in
        let index = first + UInt64(offset)
        return Entry(term: Term(term), index: index, data: [UInt8(truncatingIfNeeded: index.rawValue)])
    }
}

/// A brand-new member of `voters`, its membership held by an empty snapshot (index 0, term 0): the state
/// of a member before it has seen any term, independent of how `RaftNode.init(config:membership:)` founds
/// a group.
func newNode(_ config: RaftConfig, voters: Set<NodeID>, learners: Set<NodeID> = []) throws -> RaftNode {
    try restoredNode(config, voters: voters, learners: learners, terms: [], term: 0)
}

/// A member restarted from storage holding entries of the given terms (after an empty snapshot).
func restoredNode(
    _ config: RaftConfig, voters: Set<NodeID>, learners: Set<NodeID> = [], terms: [UInt64], term: UInt64? = nil,
    vote: NodeID? = nil, commit: LogIndex = .zero
) throws -> RaftNode {
    let hardTerm = term ?? terms.last ?? 0
    return try RaftNode(
        config: config,
        restoring: PersistentState(
            hardState: HardState(term: Term(hardTerm), vote: vote, commit: commit),
            snapshot: SnapshotMetadata(
                index: .zero, term: .zero, membership: Membership(voters: voters, learners: learners)),
            entries: makeEntries(terms: terms)))
}

extension RaftNode {
    /// Takes a Ready, "persists" it (advance) and returns it.
    mutating func drain() -> Ready {
        let ready = ready()
        advance(ready)
        return ready
    }

    /// Takes every Ready there is and returns their messages in order.
    mutating func drainMessages() -> [Message] {
        var messages: [Message] = []
        var rounds = 0
        while hasReady && rounds < 100 {
            messages += drain().messages
            rounds += 1
        }
        return messages
    }

    /// The terms of the entries in the log, in order.
    var logTerms: [UInt64] { log.entries.map(\.term.rawValue) }

    /// Ticks until the role changes (at most `limit` ticks); returns the number of ticks taken.
    mutating func ticksUntilRoleChanges(limit: Int = 1000) -> Int {
        let start = role
        var count = 0
        while role == start && count < limit {
            tick()
            count += 1
        }
        return count
    }
}

/// A message from `from` to `to` with `term`.
func msg(_ from: NodeID, _ to: NodeID, term: UInt64, _ body: Message.Body) -> Message {
    Message(from: from, to: to, term: Term(term), body: body)
}

/// Makes member `id` of `voters` the leader of term 1 by hand (plain Raft config unless given), granting it
/// the votes of the other voters, and drains its Readies.
func makeLeader(
    _ id: NodeID = 1, voters: Set<NodeID> = [1, 2, 3], config: RaftConfig? = nil
) throws -> RaftNode {
    var node = try newNode(config ?? testConfig(id), voters: voters)
    node.campaign(.election)
    for voter in voters.sorted() where voter != id {
        node.step(msg(voter, id, term: node.term.rawValue, .voteResponse(VoteResponse(preVote: false, granted: true))))
    }
    _ = node.drainMessages()
    return node
}

// MARK: - The network

/// A tiny in-process network: members exchange messages synchronously, in order. Persisting a Ready is just
/// calling `advance`. Members can be isolated (every message to or from them is dropped), single links can be
/// cut, and a filter can drop any message.
struct Network {
    struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    var nodes: [NodeID: RaftNode] = [:]
    var isolated: Set<NodeID> = []
    var cutLinks: Set<Link> = []
    /// Drops the messages for which it returns true.
    var dropFilter: ((Message) -> Bool)?
    /// When a message is dropped, tell its sender (`reportUnreachable`), as a transport that sees the failed
    /// send would. Off to model silent loss.
    var reportsUnreachable = true

    /// Messages produced but not yet delivered.
    var pending: [Message] = []
    /// Every message handed to its receiver, in order.
    var delivered: [Message] = []
    /// Every message dropped, in order.
    var dropped: [Message] = []
    /// What each member's Readies said.
    var applied: [NodeID: [Entry]] = [:]
    var readStates: [NodeID: [ReadState]] = [:]
    var installedSnapshots: [NodeID: [SnapshotMetadata]] = [:]
    var membershipChanges: [NodeID: [Membership]] = [:]

    /// A group whose founding members are `voters` and `learners`; `extra` members start with an empty
    /// membership (to be added later). Plain Raft config unless `configure` says otherwise.
    init(
        voters: [NodeID], learners: [NodeID] = [], extra: [NodeID] = [],
        configure: (inout RaftConfig) -> Void = { _ in }
    ) throws {
        let membership = Membership(voters: Set(voters), learners: Set(learners))
        for id in voters + learners {
            nodes[id] = try RaftNode(config: testConfig(id, configure), membership: membership)
        }
        for id in extra {
            nodes[id] = try RaftNode(config: testConfig(id, configure), membership: .empty)
        }
    }

    init(_ members: [RaftNode]) {
        for member in members { nodes[member.id] = member }
    }

    subscript(_ id: NodeID) -> RaftNode {
        get { nodes[id]! }
        set { nodes[id] = newValue }
    }

    var ids: [NodeID] { nodes.keys.sorted() }

    /// The members that believe they lead, in id order.
    var leaders: [NodeID] { ids.filter { nodes[$0]!.role == .leader } }

    mutating func isolate(_ id: NodeID) { isolated.insert(id) }
    mutating func heal() {
        isolated = []
        cutLinks = []
        dropFilter = nil
    }
    mutating func cut(_ from: NodeID, _ to: NodeID) { cutLinks.insert(Link(from: from, to: to)) }

    /// One Ready of `id`: records it, advances, and returns it (its messages are queued for delivery).
    @discardableResult
    mutating func process(_ id: NodeID) -> Ready {
        let ready = nodes[id]!.ready()
        applied[id, default: []] += ready.committedEntries
        readStates[id, default: []] += ready.readStates
        if let snapshot = ready.snapshot { installedSnapshots[id, default: []].append(snapshot) }
        if let membership = ready.membership { membershipChanges[id, default: []].append(membership) }
        nodes[id]!.advance(ready)
        pending += ready.messages
        return ready
    }

    /// Takes every member's Readies until none has anything to do.
    mutating func flush() {
        var progressMade = true
        var rounds = 0
        while progressMade && rounds < 1000 {
            progressMade = false
            rounds += 1
            for id in ids where nodes[id]!.hasReady {
                process(id)
                progressMade = true
            }
        }
    }

    /// True if `message` would be dropped.
    func drops(_ message: Message) -> Bool {
        isolated.contains(message.from) || isolated.contains(message.to)
            || cutLinks.contains(Link(from: message.from, to: message.to)) || nodes[message.to] == nil
            || dropFilter?(message) == true
    }

    /// Delivers (or drops) one message.
    mutating func deliver(_ message: Message) {
        if drops(message) {
            dropped.append(message)
            if reportsUnreachable, nodes[message.from] != nil { nodes[message.from]!.reportUnreachable(message.to) }
            return
        }
        delivered.append(message)
        nodes[message.to]!.step(message)
    }

    /// Delivers messages and takes Readies until nothing more happens.
    mutating func stabilize(
        until done: ((Network) -> Bool)? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var rounds = 0
        while rounds < 10_000 {
            rounds += 1
            flush()
            if pending.isEmpty { return }
            let batch = pending
            pending = []
            for (position, message) in batch.enumerated() {
                deliver(message)
                if let done, done(self) {
                    pending = Array(batch[(position + 1)...]) + pending
                    return
                }
            }
        }
        Issue.record("the network did not stabilize", sourceLocation: sourceLocation)
    }

    /// Ticks `id` `times` times, stabilizing after each tick.
    mutating func tick(_ id: NodeID, times: Int = 1) {
        for _ in 0..<times {
            nodes[id]!.tick()
            stabilize()
        }
    }

    /// Ticks every member `times` times (one round = one tick each), stabilizing after each round.
    mutating func tickAll(times: Int = 1) {
        for _ in 0..<times {
            for id in ids { nodes[id]!.tick() }
            stabilize()
        }
    }

    /// Makes `id` campaign at once and runs the election to its end. Every member is first treated as having
    /// been up for an election timeout, so that the start-up lease of check-quorum does not make them ignore
    /// the campaign.
    mutating func elect(_ id: NodeID) {
        for member in ids { nodes[member]!.recentlyStarted = false }
        nodes[id]!.campaign()
        stabilize()
    }

    /// Proposes `data` at `id` and stabilizes.
    @discardableResult
    mutating func propose(_ id: NodeID, _ data: [UInt8]) throws(RaftError) -> ProposalOutcome {
        let outcome = try nodes[id]!.propose(data)
        stabilize()
        return outcome
    }

    /// The state machine data `id` applied, in order, skipping no-ops and membership changes.
    func appliedData(_ id: NodeID) -> [[UInt8]] {
        (applied[id] ?? []).compactMap { $0.data }.filter { !$0.isEmpty }
    }
}
