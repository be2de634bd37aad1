import RaftCore

/// The node's one write-ahead log, shared by all Raft groups it hosts.
///
/// Records of many groups go into one sequence of segment files; `append` writes a whole batch with one
/// `write` and makes it durable with one `fdatasync` (group commit), which is how the shell meets `Ready`'s
/// rule "persist entries and hard state before sending messages" for thousands of groups at once.
/// `open` replays the log into each group's `PersistentState` and cuts a torn tail off the last segment.
///
/// Not thread-safe: one owner (an actor, or the single persist stage of the shell) calls it. After a failed
/// write or sync the durable state is unknown, so the log refuses every later append (`WALError.Code.failed`)
/// and the node must restart and recover.
public final class WriteAheadLog {
    /// The directory holding the segments.
    public let directory: String
    public let options: WALOptions
    /// Where the segments are read and written.
    public let fileSystem: any FileSystem
    private var fd: Int32
    private var segmentPath: String
    private var segmentSize: Int
    /// The sequence number the next record gets.
    public private(set) var nextSequence: UInt64
    /// Each group's bounds and latest hard state and snapshot records.
    var groups: [GroupID: GroupTracker]
    /// Every segment on disk, oldest first; the last is the one appends go to.
    var segments: [SegmentSummary]
    var failure: WALError?
    /// The encoding buffer, reused from one append to the next so that a large batch is not re-grown (copied
    /// and page-faulted) from empty every time. Released after a batch larger than `retainedBufferLimit`.
    private var buffer: [UInt8] = []
    private static let retainedBufferLimit = 8 << 20

    /// Opens (creating if needed) the log in `directory` and replays it.
    /// - Returns: the log, positioned to append after the last valid record, and what it recovered.
    /// - Throws: `WALError` if a segment is missing, has a bad header, or is damaged before its tail.
    public static func open(
        directory: String, options: WALOptions = WALOptions(), fileSystem: any FileSystem = POSIXFileSystem()
    ) throws(WALError) -> (WriteAheadLog, WALRecovery) {
        try fileSystem.createDirectory(directory)
        let scan = try RecoveryScan.run(directory: directory, repair: options.repair, fileSystem: fileSystem)
        for path in scan.discardedSegments { try fileSystem.removeFile(path) }
        let path: String
        if let last = scan.lastSegment {
            path = last.path
        } else {
            path = directory + "/" + Segment.fileName(firstSequence: scan.nextSequence)
            try fileSystem.createAtomically(
                path, content: Segment.header, directory: directory, sync: options.fsync == .always)
        }
        let fd = try fileSystem.open(path, .append)
        var size = scan.lastSegment?.validLength ?? Segment.headerSize
        if let tail = scan.recovery.truncatedTail {
            do {
                try fileSystem.truncate(fd, to: tail.offset, path: path)
            } catch {
                fileSystem.close(fd)
                throw error
            }
            size = tail.offset
        }
        var segments = scan.segments
        if segments.isEmpty {
            segments = [SegmentSummary(path: path, firstSequence: scan.nextSequence, byteCount: size)]
        }
        let log = WriteAheadLog(
            directory: directory, options: options, fileSystem: fileSystem, fd: fd, segmentPath: path,
            segmentSize: size,
            nextSequence: scan.nextSequence, groups: scan.trackers, segments: segments)
        return (log, scan.recovery)
    }

    private init(
        directory: String, options: WALOptions, fileSystem: any FileSystem, fd: Int32, segmentPath: String,
        segmentSize: Int,
        nextSequence: UInt64, groups: [GroupID: GroupTracker], segments: [SegmentSummary]
    ) {
        self.directory = directory
        self.options = options
        self.fileSystem = fileSystem
        self.fd = fd
        self.segmentPath = segmentPath
        self.segmentSize = segmentSize
        self.nextSequence = nextSequence
        self.groups = groups
        self.segments = segments
    }

    deinit { if fd >= 0 { fileSystem.close(fd) } }

    /// The segment file appends currently go to.
    public var currentSegment: String { segmentPath }

    /// Appends `records` (from any number of groups, in order) with one write, then, under `.always`, one
    /// `fdatasync`. When it returns they are durable; if it throws, none of them may be assumed durable.
    /// - Throws: `.invalidRecord` or `.recordTooLarge` (nothing written) for bad input; `.io` or `.failed` if
    ///   the disk failed, after which the log accepts no more appends.
    public func append(_ records: [WALRecord]) throws(WALError) {
        if let failure {
            throw WALError(.failed, "an earlier write failed (\(failure)); restart the node", errno: failure.errno)
        }
        guard !records.isEmpty else { return }
        // Only the groups the batch touches are copied and checked, so a batch costs nothing per idle group.
        var touched: [GroupID: GroupTracker] = [:]
        buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedBufferLimit)
        for (k, record) in records.enumerated() {
            var tracker = touched[record.group] ?? groups[record.group] ?? GroupTracker()
            if let problem = tracker.apply(record, sequence: nextSequence + UInt64(k)) {
                throw WALError(.invalidRecord, "group \(record.group): \(problem); nothing was written")
            }
            touched[record.group] = tracker
            let start = buffer.count
            WALFrame.append(record, to: &buffer)
            let payload = buffer.count - start - WALFrame.headerSize
            guard payload <= WALFrame.maxPayloadSize else {
                throw WALError(
                    .recordTooLarge,
                    "a \(record.kind) record of group \(record.group) has \(payload) payload bytes, more than "
                        + "\(WALFrame.maxPayloadSize); split it into smaller batches")
            }
        }
        if segmentSize >= options.segmentSizeLimit { try rotate() }
        do {
            try fileSystem.write(fd, buffer, path: segmentPath)
            if options.fsync == .always { try fileSystem.syncData(fd, path: segmentPath) }
        } catch {
            failure = error
            throw error
        }
        segmentSize += buffer.count
        nextSequence += UInt64(records.count)
        groups.merge(touched) { $1 }
        segments[segments.count - 1].byteCount = segmentSize
        for record in records { segments[segments.count - 1].note(record) }
    }

    /// Forces everything appended so far to stable storage (useful under `FsyncPolicy.off`).
    public func sync() throws(WALError) {
        if let failure {
            throw WALError(.failed, "an earlier write failed (\(failure)); restart the node", errno: failure.errno)
        }
        do {
            try fileSystem.syncData(fd, path: segmentPath)
        } catch {
            failure = error
            throw error
        }
    }

    /// After a failed append, cuts the current segment back to the length it had when its last append
    /// succeeded, and syncs it. A failed `fdatasync` may leave the batch's bytes in the page cache without
    /// their being durable (Linux marks the pages clean); a process that restarts without a power loss would
    /// read them back as if they were, vote and acknowledge on entries a later power loss takes away. The
    /// node calls this once its disk works again, before it restarts. Does nothing if no append failed.
    /// - Throws: `WALError` if the disk still fails; the restart must wait.
    public func discardUnsyncedTail() throws(WALError) {
        guard failure != nil else { return }
        try fileSystem.truncate(fd, to: segmentSize, path: segmentPath)
        try fileSystem.syncData(fd, path: segmentPath)
    }

    /// Closes the current segment and starts the next, named after the next record's sequence number.
    private func rotate() throws(WALError) {
        let path = directory + "/" + Segment.fileName(firstSequence: nextSequence)
        do {
            try fileSystem.createAtomically(
                path, content: Segment.header, directory: directory, sync: options.fsync == .always)
            let newFD = try fileSystem.open(path, .append)
            fileSystem.close(fd)
            fd = newFD
        } catch {
            failure = error
            throw error
        }
        segmentPath = path
        segmentSize = Segment.headerSize
        segments.append(SegmentSummary(path: path, firstSequence: nextSequence, byteCount: segmentSize))
    }
}
