import RaftCore

/// What a Raft group replicates: applies committed commands in log order and can be saved into and restored
/// from a snapshot. Owned by the host's loop thread: never touched concurrently.
///
/// Contract: `apply` is deterministic (same commands in the same order give the same state on every replica);
/// `snapshot()` and `snapshotSource()` capture exactly the state after the last applied command; `restore`
/// replaces the whole state.
///
/// Large machines (a vnode holding gigabytes) set `snapshotsInBackground`: the host then serializes their
/// `snapshotSource()` and runs `restore(chunks:)` on a fresh machine on a background thread, so that the loop
/// thread (and every other group's heartbeats) never waits for them. Small ones (meta) do both on the loop thread.
public protocol StateMachine: AnyObject {
    /// Applies one committed command. Returns a result for the proposer (empty if none).
    func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8]
    /// The whole state, as bytes that `restore` understands.
    func snapshot() -> [UInt8]
    /// Replaces the state with a snapshot's.
    func restore(_ data: [UInt8]) throws
    /// A checksum of the applied data: equal on replicas that applied the same commands.
    var checksum: UInt64 { get }
    /// `checksum` when giving it costs nothing (status pages read it on the loop thread), nil when it would mean
    /// reading the data: a machine that must read every row for it gives it only as computed at the applied
    /// index already. A checksum read (`VnodeQuery.checksum`, off the loop) gives it always.
    var checksumIfCheap: UInt64? { get }
    /// A frozen copy of the state that produces the snapshot's bytes on any thread, while this machine goes on
    /// applying commands. Taking it must be cheap (copy-on-write), not a serialization.
    func snapshotSource() -> any SnapshotSource
    /// Replaces the state with a snapshot's, pulling its bytes chunk by chunk (`nil` at the end).
    func restore(chunks next: () throws -> [UInt8]?) throws
    /// Whether the host writes and restores this machine's snapshots on a background thread (see above). A
    /// machine that says so is handed to that thread whole while it restores: it must hold no reference that
    /// another thread uses.
    var snapshotsInBackground: Bool { get }
    /// Whether the host may apply this machine's committed entries on another thread than its loop thread, at
    /// the same time as other groups' (while the loop thread waits for all of them): true for a machine whose
    /// `apply` touches nothing but its own state and calls back into nothing (a vnode), false for one whose
    /// `apply` reaches the host or shared state (meta, which creates groups as it applies).
    var appliesConcurrently: Bool { get }
}

extension StateMachine {
    /// Most machines keep their checksum as they apply: it is always cheap.
    public var checksumIfCheap: UInt64? { checksum }
}

/// A frozen state machine state that writes its snapshot's bytes, in pieces, to `emit`. Safe to use on any
/// thread; used once.
public protocol SnapshotSource: Sendable {
    func write(_ emit: ([UInt8]) throws -> Void) throws
}

/// The snapshot of a small machine: its bytes, taken at once.
public struct BytesSnapshotSource: SnapshotSource {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func write(_ emit: ([UInt8]) throws -> Void) throws { try emit(bytes) }
}

extension StateMachine {
    public func snapshotSource() -> any SnapshotSource { BytesSnapshotSource(snapshot()) }

    public func restore(chunks next: () throws -> [UInt8]?) throws {
        var data: [UInt8] = []
        while let chunk = try next() { data += chunk }
        try restore(data)
    }

    public var snapshotsInBackground: Bool { false }

    public var appliesConcurrently: Bool { false }

    /// `restore(chunks:)` with all of `data` as its one chunk: the whole-bytes restore of a machine whose
    /// restore is the chunked one.
    public func restoreAsOneChunk(_ data: [UInt8]) throws {
        var done = false
        try restore(chunks: {
            defer { done = true }
            return done ? nil : data
        })
    }
}

/// Makes the state machine of a group: the host calls it when it creates or recovers a group, and for a
/// snapshot restored in the background (the fresh machine replaces the group's once it is complete).
public typealias StateMachineFactory = @Sendable (GroupID) -> any StateMachine

/// How a read handler answers: at once (small answers, computed on the loop thread), or with work to run on a
/// background thread over a frozen, copy-on-write view of the machine taken on the loop thread — so that a large
/// answer (a scan of a big vnode) never stalls the loop thread, its heartbeats and its pings.
/// Background work that throws fails the read with `HostError.damaged` (a damaged file, named in the error):
/// the caller may read another replica.
public enum ReadWork: Sendable {
    case done([UInt8])
    case background(@Sendable () throws -> [UInt8])
}
