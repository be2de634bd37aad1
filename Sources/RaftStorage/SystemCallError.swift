/// An error that may come from a failed system call, and then names its `errno`: the host records it in the
/// node's storage failure, so that a full disk (`ENOSPC`) is told from other failures by its number, never by
/// its text. A state machine whose files fail conforms its own error to pass the errno on.
public protocol SystemCallError: Error {
    /// The `errno` of the failed system call; `nil` when the failure is not a system call's.
    var errno: Int32? { get }
}

extension WALError: SystemCallError {}

extension SnapshotError: SystemCallError {}
