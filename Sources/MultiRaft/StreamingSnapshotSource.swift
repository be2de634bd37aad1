/// A snapshot read in order, in pieces, straight from where its state lives (a persistent machine's files):
/// the host sends it without writing it anywhere first. Frozen and safe on any thread like any `SnapshotSource`;
/// every `reader()` starts again at the first byte and reads the same bytes, so that one source serves the
/// checksum pass and any number of transfers.
public protocol StreamingSnapshotSource: SnapshotSource {
    /// The stream's length in bytes, known before any of it is read.
    var length: UInt64 { get }
    /// A reader from the stream's first byte.
    func reader() -> any SnapshotStreamReader
}

/// Reads a `StreamingSnapshotSource` from its start. One owner uses it, on one thread at a time.
public protocol SnapshotStreamReader: AnyObject {
    /// The next at most `limit` bytes (at least one while any are left), or none after the stream's end.
    func next(limit: Int) throws -> [UInt8]
}
