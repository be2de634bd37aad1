/// How the leader replicates to one follower (etcd's progress tracking).
public enum ReplicationState: String, Sendable, Equatable {
    /// The leader does not know where the follower's log matches: one AppendEntries at a time.
    case probe
    /// The logs match up to `match`: AppendEntries are pipelined, up to the in-flight window.
    case replicate
    /// The follower needs a snapshot; replication pauses until the shell reports the outcome.
    case snapshot
}

/// A bounded window of the last indexes of in-flight AppendEntries.
struct Inflights: Sendable {
    /// A ring that grows on demand up to `capacity` (most groups never have more than a few messages in flight,
    /// and thousands of idle groups must not each hold a full window).
    private var buffer: [LogIndex] = []
    private var start = 0
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var isFull: Bool { count == capacity }

    mutating func add(_ index: LogIndex) {
        precondition(!isFull, "in-flight window overflow")
        if count == buffer.count { grow() }
        buffer[(start + count) % buffer.count] = index
        count += 1
    }

    private mutating func grow() {
        var larger = [LogIndex]()
        larger.reserveCapacity(min(capacity, max(4, 2 * buffer.count)))
        for i in 0..<count { larger.append(buffer[(start + i) % buffer.count]) }
        while larger.count < larger.capacity && larger.count < capacity { larger.append(.zero) }
        buffer = larger
        start = 0
    }

    /// Frees every in-flight message whose last index is at most `index`.
    mutating func free(through index: LogIndex) {
        while count > 0 && buffer[start] <= index {
            start = (start + 1) % buffer.count
            count -= 1
        }
    }

    /// Frees the oldest in-flight message (presumed lost), so that a full window can make progress.
    mutating func freeFirst() {
        guard count > 0 else { return }
        start = (start + 1) % buffer.count
        count -= 1
    }

    mutating func reset() {
        start = 0
        count = 0
        if buffer.count > 16 { buffer = [] }
    }
}

/// The leader's view of one member.
public struct Progress: Sendable {
    /// The highest index known to be replicated on the member.
    public internal(set) var match: LogIndex
    /// The next index to send.
    public internal(set) var next: LogIndex
    public internal(set) var state: ReplicationState = .probe
    /// In the snapshot state: the index of the snapshot being sent.
    public internal(set) var pendingSnapshot: LogIndex = .zero
    /// In the probe state: an AppendEntries is outstanding.
    var probeSent = false
    /// Heard from since the last check-quorum round.
    public internal(set) var recentActive = false
    var inflights: Inflights
    /// The highest heartbeat round the member acknowledged (ReadIndex).
    var acknowledgedRound: UInt64 = 0
    /// 1 + the leader's tick count at the send of the newest heartbeat the member acknowledged; 0 if none.
    var acknowledgedSentAt: UInt64 = 0

    init(next: LogIndex, maxInflight: Int) {
        match = .zero
        self.next = next
        inflights = Inflights(capacity: maxInflight)
    }

    /// True when nothing more may be sent now.
    public var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            next = max(match + 1, pendingSnapshot + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        pendingSnapshot = .zero
        inflights.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        pendingSnapshot = .zero
        inflights.reset()
    }

    mutating func becomeSnapshot(_ index: LogIndex) {
        state = .snapshot
        pendingSnapshot = index
        probeSent = false
        inflights.reset()
    }

    /// Records a successful append up to `index`; false if it tells nothing new.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        if next < index + 1 { next = index + 1 }
        return updated
    }

    /// Handles a rejection of the AppendEntries whose prevIndex was `rejected`; `hint` is the highest
    /// index that may match. False if the rejection is stale.
    mutating func maybeDecrease(rejected: LogIndex, hint: LogIndex) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next - 1 != rejected { return false }
        next = max(min(rejected, hint + 1), match + 1)
        probeSent = false
        return true
    }
}
