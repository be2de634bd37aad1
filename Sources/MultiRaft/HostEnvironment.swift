import Dispatch
import Foundation
import RaftStorage

/// Where a multi-Raft host (and the services above it) get time, randomness, background threads and the disk
/// from. The host's decisions depend on nothing else outside its events, so an environment that supplies virtual
/// time, a seeded generator, background work run at chosen moments and a simulated disk makes a whole node
/// deterministic (the node-level simulation, docs/testing.md).
///
/// Guarantees asked of implementations: `monotonicNanoseconds` never goes back; work given to one lane runs in
/// the order given and one piece at a time, except on `.reads`, whose pieces may run concurrently.
public protocol HostEnvironment: Sendable {
    /// Time for deadlines and ticks: nanoseconds since an arbitrary start, never decreasing.
    func monotonicNanoseconds() -> UInt64
    /// Wall-clock time, nanoseconds since 1970 (the default timestamp of a point written without one).
    func wallNanoseconds() -> Int64
    /// A fresh random number (request id bases, election-timeout seeds).
    func random() -> UInt64
    /// Runs `work` off the loop thread, on `lane`.
    func background(_ lane: BackgroundLane, _ work: @escaping @Sendable () -> Void)
    /// Returns once every piece of background work handed over so far has run (used at shutdown).
    func drainBackground()
    /// Runs `body` for every index in `0..<count`, on several threads at once where the environment has them,
    /// and returns when all have run (vnodes opened at start, each touching only its own files; committed entries
    /// of several groups applied at once, each to its own machine).
    func concurrently(_ count: Int, _ body: @Sendable (Int) -> Void)
    /// Suspends the calling task for about `milliseconds` (retry back-off in the services above the host).
    func sleep(milliseconds: Int) async
    /// The file system the WAL and the snapshot store live on.
    var fileSystem: any FileSystem { get }
}

extension HostEnvironment {
    /// One after the other, on the caller's thread: what a deterministic environment does.
    public func concurrently(_ count: Int, _ body: @Sendable (Int) -> Void) {
        for index in 0..<count { body(index) }
    }
}

/// The background lanes of a host: each is serial but `.reads`.
public enum BackgroundLane: Sendable, CaseIterable {
    /// Local snapshots serialized and synced.
    case snapshotWrites
    /// Received snapshots synced.
    case snapshotSeals
    /// Snapshots restored into fresh state machines.
    case snapshotRestores
    /// Large read answers built off the loop thread.
    case reads
    /// Persistent state machines' memory written to files (vnode memtable flushes).
    case flushes
    /// Persistent state machines' files merged (vnode compactions): apart from flushes, so that a long merge
    /// never holds back the flush that bounds memory.
    case compactions
}

/// The real environment: the system's monotonic clock and wall clock, the system random generator, Dispatch
/// queues, `Task.sleep`, the POSIX file system.
public final class SystemHostEnvironment: HostEnvironment {
    private let snapshotWrites = DispatchQueue(label: "flotilla.snapshot-writes")
    private let snapshotSeals = DispatchQueue(label: "flotilla.snapshot-seals")
    private let snapshotRestores = DispatchQueue(label: "flotilla.snapshot-restores")
    private let reads = DispatchQueue(label: "flotilla.reads", attributes: .concurrent)
    private let flushes = DispatchQueue(label: "flotilla.flushes")
    private let compactions = DispatchQueue(label: "flotilla.compactions")

    public init() {}

    public func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    public func wallNanoseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1e9)
    }

    public func random() -> UInt64 { UInt64.random(in: .min ... .max) }

    public func background(_ lane: BackgroundLane, _ work: @escaping @Sendable () -> Void) {
        queue(lane).async(execute: work)
    }

    public func drainBackground() {
        for lane in [BackgroundLane.snapshotWrites, .snapshotSeals, .snapshotRestores, .flushes, .compactions] {
            queue(lane).sync {}
        }
    }

    public func sleep(milliseconds: Int) async { try? await Task.sleep(for: .milliseconds(milliseconds)) }

    /// On the caller's thread and Dispatch's worker threads, as many at once as there are cores.
    public func concurrently(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if count == 1 { return body(0) }
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }

    public var fileSystem: any FileSystem { POSIXFileSystem() }

    private func queue(_ lane: BackgroundLane) -> DispatchQueue {
        switch lane {
        case .snapshotWrites: snapshotWrites
        case .snapshotSeals: snapshotSeals
        case .snapshotRestores: snapshotRestores
        case .reads: reads
        case .flushes: flushes
        case .compactions: compactions
        }
    }
}

/// Who runs a host's loop.
public enum HostLoop: Sendable, Equatable {
    /// A thread of the host's own, woken by events and ticks (servers and most tests).
    case ownThread
    /// The caller, through `MultiRaftHost.runRound()` (the node-level simulation, which owns time).
    case driven
}
