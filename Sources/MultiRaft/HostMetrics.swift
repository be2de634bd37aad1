import Metrics
import RaftCore

/// The host's metrics (swift-metrics; exported by the server as Prometheus text). No per-group labels.
struct HostMetrics {
    let elections = Counter(label: "flotilla_raft_elections_total")
    let leaderChanges = Counter(label: "flotilla_raft_leader_changes_total")
    let proposals = Counter(label: "flotilla_raft_proposals_total")
    let commitLatency = Metrics.Timer(label: "flotilla_raft_commit_latency_seconds", preferredDisplayUnit: .seconds)
    let fsync = Metrics.Timer(label: "flotilla_wal_fsync_seconds", preferredDisplayUnit: .seconds)
    let bytesSent = Counter(label: "flotilla_transport_sent_bytes_total")
    let bytesReceived = Counter(label: "flotilla_transport_received_bytes_total")
    let leaders = Gauge(label: "flotilla_raft_groups", dimensions: [("role", "leader")])
    let followers = Gauge(label: "flotilla_raft_groups", dimensions: [("role", "follower")])
    let candidates = Gauge(label: "flotilla_raft_groups", dimensions: [("role", "candidate")])
    let quiet = Gauge(label: "flotilla_raft_quiet_groups")
    private let sentSoFar = Box()

    /// Boxed counters of what was already reported, so that the transport's totals become counter increments.
    private final class Box: @unchecked Sendable {
        // Touched only by the host's loop thread.
        var sent: UInt64 = 0
        var received: UInt64 = 0
    }

    func update(_ host: MultiRaftHost) {
        var counts: [Role: Int] = [:]
        for slot in host.slots.values { counts[slot.node.role, default: 0] += 1 }
        leaders.record(counts[.leader] ?? 0)
        followers.record(counts[.follower] ?? 0)
        candidates.record((counts[.candidate] ?? 0) + (counts[.preCandidate] ?? 0))
        quiet.record(host.slots.count - host.awake.count)
        let stats = host.transport.statistics
        if stats.bytesSent > sentSoFar.sent { bytesSent.increment(by: Int64(stats.bytesSent - sentSoFar.sent)) }
        if stats.bytesReceived > sentSoFar.received {
            bytesReceived.increment(by: Int64(stats.bytesReceived - sentSoFar.received))
        }
        sentSoFar.sent = stats.bytesSent
        sentSoFar.received = stats.bytesReceived
    }
}
