import RaftCore

/// Which old segments garbage collection deletes and which live records it copies forward first
/// (`docs/wal-format.md`, "Garbage collection"). A pure function of the writer's bookkeeping.
///
/// Only a prefix of the segments is ever deleted (oldest first), so the rest stay a gap-free run and every
/// record after a kept one is kept. A segment of that prefix may go when each of its entries is at or below its
/// group's snapshot index; the latest hard state and latest snapshot mark of a group it holds are still
/// needed, so they are appended again (a snapshot mark as a `compact` record, which keeps later entries). The
/// prefix is the longest one whose copies take at most half the bytes it frees: a segment that is mostly live
/// small records stays until its records move on by themselves.
struct GarbagePlan: Sendable {
    /// How many of the oldest segments to delete.
    var segmentCount = 0
    /// Their total size.
    var freedBytes = 0
    /// Records to append (and sync) before deleting.
    var rewrite: [WALRecord] = []
    var rewriteBytes = 0
    /// The groups with live entries in the oldest segment that stays.
    var pinningGroups: [GroupID] = []

    /// Plans for `segments` (oldest first; the last one, being appended to, is never deleted).
    static func make(segments: [SegmentSummary], groups: [GroupID: GroupTracker]) -> GarbagePlan {
        var candidates = 0
        while candidates < segments.count - 1, segments[candidates].entriesAreDead(groups) { candidates += 1 }
        let pinning = pinningGroups(segments[candidates], groups)
        guard candidates > 0 else { return GarbagePlan(pinningGroups: pinning) }
        // The live small records inside the candidates, in the order they were written.
        let end = segments[candidates].firstSequence
        var live: [(sequence: UInt64, record: WALRecord)] = []
        for (group, tracker) in groups {
            if let (metadata, sequence) = tracker.latestSnapshot, sequence < end {
                live.append((sequence, .compact(group, metadata)))
            }
            if let (state, sequence) = tracker.latestHardState, sequence < end {
                live.append((sequence, .hardState(group, state)))
            }
        }
        live.sort { $0.sequence < $1.sequence }
        var best = GarbagePlan(pinningGroups: pinning)
        var plan = GarbagePlan(pinningGroups: pinning)
        var next = 0
        for count in 1...candidates {
            plan.segmentCount = count
            plan.freedBytes += segments[count - 1].byteCount
            let segmentEnd = segments[count].firstSequence
            while next < live.count, live[next].sequence < segmentEnd {
                plan.rewrite.append(live[next].record)
                plan.rewriteBytes += WALFrame.encode(live[next].record).count
                next += 1
            }
            if plan.rewriteBytes * 2 <= plan.freedBytes { best = plan }
        }
        return best
    }

    /// The groups with entries above their snapshot index in `segment`.
    private static func pinningGroups(_ segment: SegmentSummary, _ groups: [GroupID: GroupTracker]) -> [GroupID] {
        segment.maxEntryIndex.filter { group, index in
            let bounds = groups[group, default: GroupTracker()].bounds
            return !bounds.removed && index > bounds.snapshotIndex
        }
        .keys.sorted()
    }
}
