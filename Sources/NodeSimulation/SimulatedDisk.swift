import RaftCore
import RaftStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What is wrong with a simulated disk, if anything.
enum DiskFault: Sendable, Equatable {
    case none
    /// Every write fails with ENOSPC (syncs of what was written work).
    case full
    /// Every write and sync fails with EIO.
    case failing
    /// Writes reach the page cache, but every sync fails with EIO: the disk's writeback failed. Linux then marks
    /// the pages clean, so what was written stays readable to every process without being durable.
    case failingSyncs
    /// Every sync takes this long: the thread that called it (the node's loop) stands still meanwhile.
    case stalling(milliseconds: Int)
}

/// One node's disk in the node-level simulation, held in memory, with the durability rules of a POSIX file
/// system as the storage layer relies on them:
/// - a file's bytes are durable once `syncData` (or `truncate`) returned; bytes written since may be lost at a
///   power loss, in part (a torn write keeps a prefix of them, perhaps with garbage at its end);
/// - a directory's entries (files created, renamed, removed) are durable once `syncDirectory` returned; at a
///   power loss each directory goes back to its entries as of its last sync, the files they name keeping
///   their durable bytes;
/// - directories themselves, once created, are durable (the storage layer creates them once, at first start).
///
/// A process crash (`kill -9`) loses nothing the process wrote: the operating system still holds it. A power
/// loss (`cutPower(afterOperations:)`) loses what the rules allow; it strikes in the middle of the node's work,
/// after a chosen number of mutating calls, and from then on calls change nothing (the node is dead; the
/// simulator tears its services down at the end of the round). Faults (`fault`) make writes fail with ENOSPC
/// or EIO, or syncs stall.
///
/// Used on the simulator's thread only; the lock makes it `Sendable` for the host's background lanes.
final class SimulatedDisk: FileSystem {
    private final class Inode {
        var data: [UInt8] = []
        var durable: [UInt8] = []
    }
    private struct Directory {
        var entries: [String: Inode] = [:]
        var durableEntries: [String: Inode] = [:]
    }
    private struct OpenFile {
        var inode: Inode
        var position: Int
        var appends: Bool
    }
    private struct State {
        var directories: [String: Directory] = [:]
        var open: [Int32: OpenFile] = [:]
        var nextDescriptor: Int32 = 3
        var fault = DiskFault.none
        var generator: SplitMix64
        /// Mutating calls left before the power goes; `nil`: no power loss pending.
        var powerCutCountdown: Int?
        var powerIsCut = false
        /// The virtual time until which a stalled sync holds the calling thread.
        var stalledUntil: UInt64 = 0
    }
    private let state: Mutex<State>
    private let clock: @Sendable () -> UInt64

    /// - Parameter clock: virtual time now, in nanoseconds (when a stalled sync ends).
    init(seed: UInt64, clock: @escaping @Sendable () -> UInt64) {
        state = Mutex(State(generator: SplitMix64(seed: seed)))
        self.clock = clock
    }

    // MARK: - What the simulator controls

    var fault: DiskFault {
        get { state.withLock { $0.fault } }
        set { state.withLock { $0.fault = newValue } }
    }

    /// The power goes after `operations` more mutating calls (writes, syncs, renames, removals).
    func cutPower(afterOperations operations: Int) {
        state.withLock { $0.powerCutCountdown = max(0, operations) }
    }

    /// True once a pending power cut has struck: the node must be torn down, and its disk `lose`s.
    var powerIsCut: Bool { state.withLock { $0.powerIsCut } }

    /// The virtual time until which the node's loop is held by a stalled sync (in the past when none is).
    var stalledUntil: UInt64 { state.withLock { $0.stalledUntil } }

    /// What a power loss leaves: every directory back to its durable entries, every file to its durable bytes
    /// plus, with `tear`, a random prefix of what was written since (its last bytes garbage, half the time).
    /// Open descriptors are gone. The power is back afterwards.
    func losePower(tear: Bool) {
        state.withLock { state in
            var seen = Set<ObjectIdentifier>()
            for path in state.directories.keys.sorted() {
                state.directories[path]!.entries = state.directories[path]!.durableEntries
                for name in state.directories[path]!.entries.keys.sorted() {
                    let inode = state.directories[path]!.entries[name]!
                    guard seen.insert(ObjectIdentifier(inode)).inserted else { continue }
                    var kept = inode.durable
                    if tear, inode.data.count > kept.count, inode.data.starts(with: kept) {
                        let extra = inode.data.count - kept.count
                        let count = Int(state.generator.next() % UInt64(extra + 1))
                        kept += inode.data[kept.count..<(kept.count + count)]
                        if count > 0, state.generator.next() % 2 == 0 {
                            let garbage = min(count, 1 + Int(state.generator.next() % 8))
                            for k in (kept.count - garbage)..<kept.count {
                                kept[k] = UInt8(truncatingIfNeeded: state.generator.next())
                            }
                        }
                    }
                    inode.data = kept
                    inode.durable = kept
                }
            }
            state.open = [:]
            state.powerCutCountdown = nil
            state.powerIsCut = false
        }
    }

    /// What a process crash leaves: everything written stays, open descriptors are gone.
    func closeEverything() { state.withLock { $0.open = [:] } }

    /// Appends `count` random bytes to the file at `path` as a write cut short by a crash would leave them
    /// (durable: the operating system wrote them back).
    func appendGarbage(to path: String, count: Int) {
        state.withLock { state in
            let (parent, name) = Self.split(path)
            guard let inode = state.directories[parent]?.entries[name] else { return }
            for _ in 0..<count { inode.data.append(UInt8(truncatingIfNeeded: state.generator.next())) }
            inode.durable = inode.data
        }
    }

    // MARK: - FileSystem

    func createDirectory(_ path: String) throws(WALError) {
        state.withLock { state in
            var prefix = ""
            for component in path.split(separator: "/") {
                prefix += "/" + component
                if state.directories[prefix] == nil { state.directories[prefix] = Directory() }
            }
        }
    }

    func contentsOfDirectory(_ path: String) throws(WALError) -> [String] {
        try state.withLock { state throws(WALError) in
            guard let directory = state.directories[path] else {
                throw Self.error("cannot list the directory", path, ENOENT)
            }
            let children = state.directories.keys.filter { Self.split($0).parent == path }.map { Self.split($0).name }
            return directory.entries.keys.sorted() + children.sorted()
        }
    }

    func open(_ path: String, _ mode: FileOpenMode) throws(WALError) -> Int32 {
        try state.withLock { state throws(WALError) in
            let (parent, name) = Self.split(path)
            guard state.directories[parent] != nil else { throw Self.error("cannot open file", path, ENOENT) }
            let existing = state.directories[parent]!.entries[name]
            let inode: Inode
            switch mode {
            case .append, .read:
                guard let existing else { throw Self.error("cannot open file", path, ENOENT) }
                inode = existing
            case .createExclusive, .createTruncating:
                if mode == .createExclusive, existing != nil { throw Self.error("cannot create file", path, EEXIST) }
                guard Self.mutation(&state) else { return Self.deadDescriptor }
                if let existing {
                    existing.data = []
                    inode = existing
                } else {
                    inode = Inode()
                    state.directories[parent]!.entries[name] = inode
                }
            }
            let descriptor = state.nextDescriptor
            state.nextDescriptor += 1
            state.open[descriptor] = OpenFile(inode: inode, position: 0, appends: mode == .append)
            return descriptor
        }
    }

    func close(_ fd: Int32) { state.withLock { _ = $0.open.removeValue(forKey: fd) } }

    func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(WALError) {
        try state.withLock { state throws(WALError) in
            guard try Self.writable(&state, path, bytes.count), var file = state.open[fd] else { return }
            let offset = file.appends ? file.inode.data.count : file.position
            Self.put(bytes, at: offset, into: file.inode)
            file.position = offset + bytes.count
            state.open[fd] = file
        }
    }

    func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(WALError) {
        try state.withLock { state throws(WALError) in
            guard try Self.writable(&state, path, bytes.count), let file = state.open[fd] else { return }
            Self.put(bytes, at: offset, into: file.inode)
        }
    }

    func read(_ fd: Int32, at offset: Int, count: Int, path: String) throws(WALError) -> [UInt8] {
        try state.withLock { state throws(WALError) in
            guard let file = state.open[fd] else { throw Self.error("cannot read file", path, EBADF) }
            let data = file.inode.data
            guard offset < data.count else { return [] }
            return Array(data[offset..<min(data.count, offset + count)])
        }
    }

    func size(_ fd: Int32, path: String) throws(WALError) -> Int {
        try state.withLock { state throws(WALError) in
            guard let file = state.open[fd] else { throw Self.error("cannot stat file", path, EBADF) }
            return file.inode.data.count
        }
    }

    func syncData(_ fd: Int32, path: String) throws(WALError) {
        let now = clock()
        try state.withLock { state throws(WALError) in
            guard try Self.syncable(&state, "cannot sync file", path, now: now), let file = state.open[fd] else {
                return
            }
            file.inode.durable = file.inode.data
        }
    }

    func truncate(_ fd: Int32, to length: Int, path: String) throws(WALError) {
        let now = clock()
        try state.withLock { state throws(WALError) in
            guard try Self.syncable(&state, "cannot truncate file", path, now: now), let file = state.open[fd] else {
                return
            }
            if file.inode.data.count > length { file.inode.data.removeSubrange(length...) }
            file.inode.durable = file.inode.data
        }
    }

    func syncDirectory(_ path: String) throws(WALError) {
        let now = clock()
        try state.withLock { state throws(WALError) in
            guard try Self.syncable(&state, "cannot sync directory", path, now: now) else { return }
            guard state.directories[path] != nil else { throw Self.error("cannot open directory", path, ENOENT) }
            state.directories[path]!.durableEntries = state.directories[path]!.entries
        }
    }

    func removeFile(_ path: String) throws(WALError) {
        try state.withLock { state throws(WALError) in
            guard Self.mutation(&state) else { return }
            let (parent, name) = Self.split(path)
            state.directories[parent]?.entries[name] = nil
        }
    }

    func removeDirectory(_ path: String) throws(WALError) {
        try state.withLock { state throws(WALError) in
            guard Self.mutation(&state), let directory = state.directories[path] else { return }
            let hasChildren = state.directories.keys.contains { Self.split($0).parent == path }
            guard directory.entries.isEmpty, !hasChildren else {
                throw Self.error("cannot remove directory", path, ENOTEMPTY)
            }
            state.directories[path] = nil
        }
    }

    func rename(_ from: String, to: String) throws(WALError) {
        try state.withLock { state throws(WALError) in
            guard Self.mutation(&state) else { return }
            let (fromParent, fromName) = Self.split(from)
            let (toParent, toName) = Self.split(to)
            guard let inode = state.directories[fromParent]?.entries[fromName], state.directories[toParent] != nil
            else { throw Self.error("cannot rename \(from)", to, ENOENT) }
            state.directories[fromParent]!.entries[fromName] = nil
            state.directories[toParent]!.entries[toName] = inode
        }
    }

    // MARK: - Rules

    /// A descriptor for a file a dead node "created": every later call on it does nothing.
    private static let deadDescriptor: Int32 = -1

    /// Counts a mutating call against a pending power cut. False once the power is out: the call does nothing.
    private static func mutation(_ state: inout State) -> Bool {
        if state.powerIsCut { return false }
        if let left = state.powerCutCountdown {
            if left == 0 {
                state.powerIsCut = true
                return false
            }
            state.powerCutCountdown = left - 1
        }
        return true
    }

    /// A write of `count` bytes: refused while the disk is full or failing.
    private static func writable(_ state: inout State, _ path: String, _ count: Int) throws(WALError) -> Bool {
        guard mutation(&state) else { return false }
        switch state.fault {
        case .full where count > 0: throw error("cannot write file", path, ENOSPC)
        case .failing: throw error("cannot write file", path, EIO)
        default: return true
        }
    }

    /// A sync (or truncation): refused while the disk or its syncs fail; while it stalls, the caller is held
    /// until `now` + the stall.
    private static func syncable(
        _ state: inout State, _ what: String, _ path: String, now: UInt64
    ) throws(WALError) -> Bool {
        guard mutation(&state) else { return false }
        switch state.fault {
        case .failing, .failingSyncs:
            throw error(what, path, EIO)
        case .stalling(let milliseconds):
            state.stalledUntil = max(state.stalledUntil, now) + UInt64(milliseconds) * 1_000_000
        default:
            break
        }
        return true
    }

    private static func put(_ bytes: [UInt8], at offset: Int, into inode: Inode) {
        if inode.data.count < offset { inode.data += [UInt8](repeating: 0, count: offset - inode.data.count) }
        let overlap = min(bytes.count, inode.data.count - offset)
        if overlap > 0 { inode.data.replaceSubrange(offset..<(offset + overlap), with: bytes.prefix(overlap)) }
        if overlap < bytes.count { inode.data += bytes[overlap...] }
    }

    private static func split(_ path: String) -> (parent: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    private static func error(_ what: String, _ path: String, _ code: Int32) -> WALError {
        WALError(.io, "\(what): \(String(cString: strerror(code))) (simulated disk)", file: path, errno: code)
    }
}
