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
final class GatedFileSystem: FileSystem, @unchecked Sendable {  // `held` and `waiting` are guarded by `condition`
    let real = POSIXFileSystem()
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

    func createDirectory(_ path: String) throws(WALError) { try real.createDirectory(path) }
    func contentsOfDirectory(_ path: String) throws(WALError) -> [String] { try real.contentsOfDirectory(path) }
    func open(_ path: String, _ mode: FileOpenMode) throws(WALError) -> Int32 { try real.open(path, mode) }
    func close(_ fd: Int32) { real.close(fd) }
    func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(WALError) {
        try real.write(fd, bytes, path: path)
    }
    func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(WALError) {
        try real.write(fd, bytes, at: offset, path: path)
    }
    func read(_ fd: Int32, at offset: Int, count: Int, path: String) throws(WALError) -> [UInt8] {
        try real.read(fd, at: offset, count: count, path: path)
    }
    func size(_ fd: Int32, path: String) throws(WALError) -> Int { try real.size(fd, path: path) }
    func syncData(_ fd: Int32, path: String) throws(WALError) {
        condition.lock()
        waiting += 1
        condition.broadcast()
        while held { condition.wait() }
        waiting -= 1
        condition.unlock()
        try real.syncData(fd, path: path)
    }
    func truncate(_ fd: Int32, to length: Int, path: String) throws(WALError) {
        try real.truncate(fd, to: length, path: path)
    }
    func syncDirectory(_ path: String) throws(WALError) { try real.syncDirectory(path) }
    func removeFile(_ path: String) throws(WALError) { try real.removeFile(path) }
    func rename(_ from: String, to: String) throws(WALError) { try real.rename(from, to: to) }
    func removeDirectory(_ path: String) throws(WALError) { try real.removeDirectory(path) }
}
