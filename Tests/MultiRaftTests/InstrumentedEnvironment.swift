import Dispatch
import Foundation
import MultiRaft
import RaftStorage
import Synchronization

/// The system environment, except that `concurrently` runs every index on a thread of its own (so the work
/// really overlaps) and records the largest count it was given, and that the file system can hold every data
/// sync (`holdSyncs`) until released: a test can then act while a round waits for its fsync.
final class InstrumentedEnvironment: HostEnvironment {
    let system = SystemHostEnvironment()
    let largestCount = Mutex(0)
    let gatedFileSystem = GatedFileSystem()

    func monotonicNanoseconds() -> UInt64 { system.monotonicNanoseconds() }
    func wallNanoseconds() -> Int64 { system.wallNanoseconds() }
    func random() -> UInt64 { system.random() }
    func background(_ lane: BackgroundLane, _ work: @escaping @Sendable () -> Void) { system.background(lane, work) }
    func drainBackground() { system.drainBackground() }
    func sleep(milliseconds: Int) async { await system.sleep(milliseconds: milliseconds) }
    var fileSystem: any FileSystem { gatedFileSystem }

    func concurrently(_ count: Int, _ body: @Sendable (Int) -> Void) {
        largestCount.withLock { $0 = max($0, count) }
        withoutActuallyEscaping(body) { body in
            let group = DispatchGroup()
            for index in 0..<count {
                let work = Work(body)
                group.enter()
                Thread {
                    work.body?(index)
                    // The thread object outlives `leave()`: it must not hold `body` by then, which may not escape.
                    work.body = nil
                    group.leave()
                }.start()
            }
            group.wait()
        }
    }

    /// Hands `body` to a thread, which lets go of it before it says it is done.
    private final class Work: @unchecked Sendable {  // `body` is set here and cleared by the one thread it goes to
        var body: (@Sendable (Int) -> Void)?
        init(_ body: @escaping @Sendable (Int) -> Void) { self.body = body }
    }
}

/// The POSIX file system, whose data syncs wait while syncs are held (`hold()` … `release()`).
final class GatedFileSystem: ForwardingFileSystem, @unchecked Sendable {  // `held` and `waiting` are guarded by `condition`
    let base: any FileSystem = POSIXFileSystem()
    private let condition = NSCondition()
    private var held = false
    private var waiting = 0

    /// Data syncs from now on wait until `release()`.
    func hold() {
        condition.lock()
        held = true
        condition.unlock()
    }

    func release() {
        condition.lock()
        held = false
        condition.broadcast()
        condition.unlock()
    }

    /// Returns once some data sync waits in a hold.
    func waitForHeldSync() {
        condition.lock()
        while waiting == 0 { condition.wait() }
        condition.unlock()
    }

    func syncData(_ fd: Int32, path: String) throws(WALError) {
        condition.lock()
        waiting += 1
        condition.broadcast()
        while held { condition.wait() }
        waiting -= 1
        condition.unlock()
        try base.syncData(fd, path: path)
    }
}
