/// Why a node could not persist: the `errno` of the failed system call when there is one (a full disk is
/// `ENOSPC`), and the message of the error that stopped it, which says what failed and where (the WAL segment or
/// the snapshot file, the group).
///
/// It travels between nodes in a forward reply (docs/wire-format.md, result code 5): the errno in the field a
/// node of the previous build leaves 0 and ignores, so that its failures arrive with `errno == nil`.
public struct StorageFailure: Sendable, Equatable, CustomStringConvertible {
    /// The `errno` of the system call that failed; `nil` when the failure is not a system call's (a missing
    /// snapshot file, a length that does not match) or came from a node that does not send it.
    public var errno: Int32?
    /// What failed, where, and the cause's own text.
    public var message: String

    public init(errno: Int32? = nil, _ message: String) {
        self.errno = errno
        self.message = message
    }

    public var description: String { message }
}

// MARK: - Wire form

extension StorageFailure {
    /// The errno as the forward reply's u64 field: 0 for none (errno 0 is not a failure).
    var wireErrno: UInt64 { errno.map { UInt64(UInt32(bitPattern: $0)) } ?? 0 }

    init(wireErrno: UInt64, message: String) {
        self.init(errno: wireErrno == 0 ? nil : Int32(bitPattern: UInt32(truncatingIfNeeded: wireErrno)), message)
    }
}
