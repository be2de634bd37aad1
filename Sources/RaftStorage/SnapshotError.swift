/// A failure of the `SnapshotStore`: a stable `code`, a message saying what was wrong, where and how to fix it,
/// and the file and `errno` concerned when there are some.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    /// Stable codes; safe to match on and to show to operators.
    public enum Code: String, Sendable {
        /// A system call failed (see `errno`).
        case io = "snapshot.io"
        /// A `.snap` file is damaged: bad magic or version, impossible lengths, a header that disagrees with the
        /// file name, or a checksum mismatch.
        case corrupt = "snapshot.corrupt"
        /// A received snapshot's bytes do not match the length or checksum its sender declared.
        case verificationFailed = "snapshot.verification_failed"
        /// The snapshot to write is older than the group's latest one.
        case stale = "snapshot.stale"
        /// Another writer is already writing the same snapshot.
        case busy = "snapshot.busy"
        /// The writer was used after `finish`, `abort` or a failure.
        case closed = "snapshot.closed"
    }

    public var code: Code
    public var message: String
    /// The file concerned, if any.
    public var file: String?
    /// The `errno` of a failed system call.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, file: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.errno = errno
    }

    /// An I/O failure reported by the shared file helpers.
    init(io error: WALError) {
        self.init(.io, error.message, file: error.file, errno: error.errno)
    }

    public var description: String {
        var text = "[\(code.rawValue)] \(message)"
        if let file { text += " (file \(file))" }
        if let errno { text += " (errno \(errno))" }
        return text
    }
}

extension SnapshotError {
    /// Runs a file operation, turning its `WALError` into an `.io` snapshot error.
    static func io<T>(_ body: () throws(WALError) -> T) throws(SnapshotError) -> T {
        do {
            return try body()
        } catch {
            throw SnapshotError(io: error)
        }
    }
}
