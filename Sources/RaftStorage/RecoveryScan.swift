import RaftCore

/// Replays the segments of a WAL directory in order (see `docs/wal-format.md`, "Recovery").
enum RecoveryScan {
    /// The outcome of a scan: the recovered state, and where the last segment's valid records end.
    struct Result {
        var recovery: WALRecovery
        /// Path, first sequence number and valid length of the last segment, if any segment exists.
        var lastSegment: (path: String, firstSequence: UInt64, validLength: Int)?
        var nextSequence: UInt64
        /// Every segment replayed, oldest first, summarized for garbage collection.
        var segments: [SegmentSummary]
        /// Every group's bounds and latest hard state and snapshot records, for the writer.
        var trackers: [GroupID: GroupTracker]
        /// Segments after a repaired corruption, to delete.
        var discardedSegments: [String] = []
    }

    /// The segment files of `directory`, ordered by first sequence number. Leftover `.tmp` files of segments
    /// whose creation a crash interrupted are deleted.
    static func segments(
        in directory: String, fileSystem: any FileSystem
    ) throws(WALError) -> [(name: String, firstSequence: UInt64)] {
        let names = try fileSystem.contentsOfDirectory(directory)
        for name in names where name.hasSuffix(".log.tmp") && name.hasPrefix("wal-") {
            try? fileSystem.removeFile(directory + "/" + name)
        }
        return names.compactMap { name in Segment.firstSequence(fileName: name).map { (name, $0) } }
            .sorted { $0.firstSequence < $1.firstSequence }
    }

    static func run(directory: String, repair: Bool = false, fileSystem: any FileSystem) throws(WALError) -> Result {
        let files = try segments(in: directory, fileSystem: fileSystem)
        var groups: [GroupID: GroupReplay] = [:]
        var truncation: TailTruncation?
        var records = 0
        var next: UInt64 = files.first?.firstSequence ?? 0
        var last: (path: String, firstSequence: UInt64, validLength: Int)?
        var summaries: [SegmentSummary] = []
        // Segments before the oldest one were garbage collected: a group's records may start mid-history.
        let strict = next == 0
        var repaired: String?
        var discarded: [String] = []
        segmentsLoop: for (position, file) in files.enumerated() {
            if repaired != nil {
                discarded.append(directory + "/" + file.name)
                continue segmentsLoop
            }
            let path = directory + "/" + file.name
            guard file.firstSequence == next else {
                throw WALError(
                    .missingSegment,
                    "segment starts at record \(file.firstSequence) but the previous one ends before record \(next); "
                        + "restore the missing segment from a backup or rebuild this node from its peers",
                    file: path)
            }
            let bytes = try fileSystem.readAll(path)
            if let problem = Segment.headerProblem(bytes) {
                throw WALError(
                    .badSegmentHeader, problem + "; this is not a Flotilla WAL segment", file: path, offset: 0)
            }
            var offset = Segment.headerSize
            var summary = SegmentSummary(path: path, firstSequence: file.firstSequence, byteCount: 0)
            scan: while offset < bytes.count {
                let record: WALRecord
                let end: Int
                do {
                    (record, end) = try WALFrame.decode(bytes, at: offset)
                } catch {
                    let isTail = position == files.count - 1 && !containsValidRecord(bytes, after: offset)
                    if !isTail && repair {
                        repaired =
                            "dropped the damaged record at \(path) offset \(offset) (\(describe(error))) and "
                            + "everything after it, \(files.count - 1 - position) later segment(s) included"
                        truncation = TailTruncation(
                            file: path, offset: offset, droppedBytes: bytes.count - offset, cause: error)
                        break scan
                    }
                    guard isTail else {
                        throw WALError(
                            .corruptRecord,
                            "record is damaged before the end of the log (\(describe(error))); restore the segment "
                                + "or rebuild this node from its peers",
                            file: path, offset: offset, decodeError: error)
                    }
                    truncation = TailTruncation(
                        file: path, offset: offset, droppedBytes: bytes.count - offset, cause: error)
                    break scan
                }
                let problem = groups[record.group, default: GroupReplay(strict: strict)].apply(record, sequence: next)
                if let problem {
                    throw WALError(
                        .invalidRecord, "group \(record.group): \(problem); the log was written by a faulty writer",
                        file: path, offset: offset)
                }
                summary.note(record)
                offset = end
                records += 1
                next += 1
            }
            last = (path, file.firstSequence, offset)
            summary.byteCount = offset
            summaries.append(summary)
        }
        for (group, replay) in groups.sorted(by: { $0.key < $1.key }) {
            if let problem = replay.gapProblem {
                throw WALError(
                    .missingSegment,
                    "group \(group): \(problem); records it still needs are missing (a segment was deleted by hand?); "
                        + "restore the missing segment from a backup or rebuild this node from its peers",
                    file: summaries.first?.path)
            }
        }
        var recovery = WALRecovery(
            groups: groups.filter { !$0.value.removed }.mapValues(\.persistentState), truncatedTail: truncation,
            segmentFiles: files.map { directory + "/" + $0.name }.filter { !discarded.contains($0) },
            recordCount: records)
        recovery.repaired = repaired
        return Result(
            recovery: recovery, lastSegment: last, nextSequence: next, segments: summaries,
            trackers: groups.mapValues(tracker), discardedSegments: discarded)
    }

    /// True if a whole, valid record starts anywhere after `offset`: then the damage at `offset` is not a torn
    /// tail but corruption in the middle of the log.
    static func containsValidRecord(_ bytes: [UInt8], after offset: Int) -> Bool {
        var candidate = offset + 1
        while candidate + WALFrame.headerSize <= bytes.count {
            if (try? WALFrame.decode(bytes, at: candidate)) != nil { return true }
            candidate += 1
        }
        return false
    }

    private static func describe(_ error: RecordDecodeError) -> String {
        switch error {
        case .torn(_, let needed, let available): return "needs \(needed) bytes, only \(available) remain"
        case .corrupt(_, let reason): return reason.description
        }
    }

    /// The writer's view of a replayed group.
    private static func tracker(_ replay: GroupReplay) -> GroupTracker {
        let state = replay.persistentState
        var tracker = GroupTracker(
            bounds: LogBounds(
                snapshotIndex: state.snapshot.index, lastIndex: state.entries.last?.index ?? state.snapshot.index,
                removed: replay.removed))
        if let sequence = replay.latestHardStateSequence { tracker.latestHardState = (state.hardState, sequence) }
        if let sequence = replay.latestSnapshotSequence { tracker.latestSnapshot = (state.snapshot, sequence) }
        return tracker
    }
}
