import RaftStorage
import Synchronization

/// The real file system until a given number of mutating calls (writes, syncs, renames, removals, truncations)
/// have been made; from then on every call fails, as if the process had been killed there: what was written
/// stays, nothing more happens. It also records every file opened to be written (a test that must see a file
/// never written reads them).
final class CrashingFileSystem: FileSystem {
    private let real = POSIXFileSystem()
    private let budget: Mutex<Int>
    private let created = Mutex<[String]>([])

    init(mutationsBeforeCrash: Int) { budget = Mutex(mutationsBeforeCrash) }

    var hasCrashed: Bool { budget.withLock { $0 < 0 } }

    /// The paths opened to be created or emptied so far, in order.
    var createdFiles: [String] { created.withLock { $0 } }

    private func mutation(_ path: String) throws(WALError) {
        let left = budget.withLock { budget -> Int in
            budget -= 1
            return budget
        }
        if left < 0 { throw WALError(.io, "the process was killed before this call", file: path) }
    }

    private func alive(_ path: String) throws(WALError) {
        if hasCrashed { throw WALError(.io, "the process was killed", file: path) }
    }

    func createDirectory(_ path: String) throws(WALError) {
        try alive(path)
        try real.createDirectory(path)
    }
    func contentsOfDirectory(_ path: String) throws(WALError) -> [String] {
        try alive(path)
        return try real.contentsOfDirectory(path)
    }
    func open(_ path: String, _ mode: FileOpenMode) throws(WALError) -> Int32 {
        try alive(path)
        if mode == .createExclusive || mode == .createTruncating { created.withLock { $0.append(path) } }
        return try real.open(path, mode)
    }
    func close(_ fd: Int32) { real.close(fd) }
    func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(WALError) {
        try mutation(path)
        try real.write(fd, bytes, path: path)
    }
    func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(WALError) {
        try mutation(path)
        try real.write(fd, bytes, at: offset, path: path)
    }
    func read(_ fd: Int32, at offset: Int, count: Int, path: String) throws(WALError) -> [UInt8] {
        try alive(path)
        return try real.read(fd, at: offset, count: count, path: path)
    }
    func size(_ fd: Int32, path: String) throws(WALError) -> Int {
        try alive(path)
        return try real.size(fd, path: path)
    }
    func syncData(_ fd: Int32, path: String) throws(WALError) {
        try mutation(path)
        try real.syncData(fd, path: path)
    }
    func truncate(_ fd: Int32, to length: Int, path: String) throws(WALError) {
        try mutation(path)
        try real.truncate(fd, to: length, path: path)
    }
    func syncDirectory(_ path: String) throws(WALError) {
        try mutation(path)
        try real.syncDirectory(path)
    }
    func removeFile(_ path: String) throws(WALError) {
        try mutation(path)
        try real.removeFile(path)
    }
    func removeDirectory(_ path: String) throws(WALError) {
        try mutation(path)
        try real.removeDirectory(path)
    }
    func rename(_ from: String, to: String) throws(WALError) {
        try mutation(from)
        try real.rename(from, to: to)
    }
}
