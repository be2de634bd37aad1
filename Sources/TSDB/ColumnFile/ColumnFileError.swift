import RaftStorage

/// Why a column file could not be written or read. A damaged file names itself and the offset of the damage, so
/// that its owner can tell which file to stop serving and replace.
public struct ColumnFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A checksum failed, or bytes do not decode: the file is damaged.
        case corrupt = "tsdb.file_corrupt"
        /// The file was written by a format version this build cannot read.
        case unsupportedVersion = "tsdb.file_version"
        /// The file system failed (the underlying error's text is in the message).
        case io = "tsdb.file_io"
    }

    public var code: Code
    public var message: String
    /// The `errno` of the failed system call, for `.io` (a full disk is told from a failing one by it).
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// An `.io` failure caused by `cause` (its errno kept, its text after `message`).
    static func io(_ message: String, cause: any Error) -> ColumnFileError {
        ColumnFileError(.io, "\(message): \(cause)", errno: (cause as? any SystemCallError)?.errno)
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func corrupt(_ path: String, at offset: UInt64, _ what: String) -> ColumnFileError {
        ColumnFileError(.corrupt, "\(path) at offset \(offset): \(what)")
    }
}

extension ColumnFileError: SystemCallError {}
