import RaftCore

extension WriteAheadLog {
    /// Deletes old segments that hold nothing recovery still needs; the owner calls it after groups compact.
    ///
    /// A segment is deleted only if it and every older one can go: each of its entries is at or below its
    /// group's snapshot index, and any group's latest hard state or snapshot mark it holds has been appended
    /// again (one batch, synced) before the deletion. See `GarbagePlan` and `docs/wal-format.md`. Segments are
    /// deleted oldest first, so a crash in the middle leaves a gap-free suffix that recovers the same state.
    /// - Returns: what was deleted and copied; all zero when nothing could go.
    /// - Throws: `.failed` after an earlier failure; `.io` if the copy, the sync or a deletion fails (the
    ///   segments not yet deleted stay, and recovery is unaffected).
    public func collectGarbage() throws(WALError) -> GarbageCollection {
        if let failure {
            throw WALError(.failed, "an earlier write failed (\(failure)); restart the node", errno: failure.errno)
        }
        let plan = GarbagePlan.make(segments: segments, groups: groups)
        var result = GarbageCollection()
        result.pinningGroups = plan.pinningGroups
        guard plan.segmentCount > 0 else { return result }
        try append(plan.rewrite)
        try sync()  // the copies and everything before them are durable before anything is deleted
        result.rewrittenRecords = plan.rewrite.count
        result.rewrittenBytes = plan.rewriteBytes
        defer { segments.removeFirst(result.deletedSegments) }
        for segment in segments.prefix(plan.segmentCount) {
            try fileSystem.removeFile(segment.path)
            result.deletedSegments += 1
            result.freedBytes += segment.byteCount
        }
        if options.fsync == .always { try fileSystem.syncDirectory(directory) }
        return result
    }

    /// The total size of the segment files, in bytes.
    public var totalSegmentBytes: Int { segments.reduce(0) { $0 + $1.byteCount } }

    /// The number of segment files.
    public var segmentCount: Int { segments.count }
}
