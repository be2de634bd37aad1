/// A failure of the write-ahead log: a stable `code`, a message saying what was wrong, where and how to fix
/// it, and the underlying cause (an `errno` or a `RecordDecodeError`) when there is one.
public struct WALError: Error, Sendable, CustomStringConvertible {
    /// Stable codes; safe to match on and to show to operators.
    public enum Code: String, Sendable {
        /// A system call failed (see `errno`).
        case io = "wal.io"
        /// A record before the tail of the log is damaged; the log cannot be replayed past it.
        case corruptRecord = "wal.corrupt_record"
        /// A segment file does not start with the `FLWAL` header of a supported version.
        case badSegmentHeader = "wal.bad_segment_header"
        /// Segment sequence numbers do not follow on: a segment is missing or was renamed.
        case missingSegment = "wal.missing_segment"
        /// A record breaks a group's log invariants (a gap, an unordered run, a compaction past the end).
        case invalidRecord = "wal.invalid_record"
        /// A record's payload exceeds `WALFrame.maxPayloadSize`.
        case recordTooLarge = "wal.record_too_large"
        /// An earlier write or sync failed; the log's durable state is unknown and it accepts no more writes.
        case failed = "wal.failed"
    }

    public var code: Code
    public var message: String
    /// The segment file concerned, if any.
    public var file: String?
    /// The byte offset in `file` concerned, if any.
    public var offset: Int?
    /// The `errno` of a failed system call.
    public var errno: Int32?
    /// The record-level cause of a corruption.
    public var decodeError: RecordDecodeError?

    public init(
        _ code: Code, _ message: String, file: String? = nil, offset: Int? = nil, errno: Int32? = nil,
        decodeError: RecordDecodeError? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.offset = offset
        self.errno = errno
        self.decodeError = decodeError
    }

    public var description: String {
        var text = "[\(code.rawValue)] \(message)"
        if let file { text += " (file \(file)" + (offset.map { ", offset \($0)" } ?? "") + ")" }
        if let errno { text += " (errno \(errno))" }
        return text
    }
}
