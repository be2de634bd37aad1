import RaftCore
import RaftStorage
import Testing

@testable import NodeSimulation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The simulated disk keeps the durability rules the storage layer relies on, and breaks the way real disks do.
@Suite("Simulated disk")
struct SimulatedDiskTests {
    private func disk() throws -> SimulatedDisk {
        let disk = SimulatedDisk(seed: 7, clock: { 1_000 })
        try disk.createDirectory("/n/wal")
        return disk
    }

    @Test("a power loss keeps synced bytes and loses the rest")
    func powerLossKeepsSyncedBytes() throws {
        let disk = try disk()
        let fd = try disk.open("/n/wal/a", .createExclusive)
        try disk.write(fd, [1, 2, 3], path: "a")
        try disk.syncData(fd, path: "a")
        try disk.syncDirectory("/n/wal")
        try disk.write(fd, [4, 5], path: "a")
        disk.losePower(tear: false)
        #expect(try disk.readAll("/n/wal/a") == [1, 2, 3])
    }

    @Test("a torn write keeps a prefix of the unsynced bytes, perhaps garbled at its end")
    func tornWriteKeepsAPrefix() throws {
        var lengths = Set<Int>()
        for seed in 0..<40 as Range<UInt64> {
            let disk = SimulatedDisk(seed: seed, clock: { 0 })
            try disk.createDirectory("/n")
            let fd = try disk.open("/n/a", .createTruncating)
            try disk.write(fd, [9, 9], path: "a")
            try disk.syncData(fd, path: "a")
            try disk.syncDirectory("/n")
            try disk.write(fd, Array(repeating: 7, count: 100), path: "a")
            disk.losePower(tear: true)
            let kept = try disk.readAll("/n/a")
            #expect(kept.count >= 2 && kept.count <= 102 && kept.prefix(2) == [9, 9])
            lengths.insert(kept.count)
        }
        #expect(lengths.count > 5, "tears fall at many lengths")
    }

    @Test("files created or renamed without a directory sync may vanish at a power loss")
    func unsyncedDirectoryEntriesRevert() throws {
        let disk = try disk()
        let fd = try disk.open("/n/wal/old", .createExclusive)
        try disk.write(fd, [1], path: "old")
        try disk.syncData(fd, path: "old")
        disk.close(fd)
        try disk.syncDirectory("/n/wal")
        try disk.rename("/n/wal/old", to: "/n/wal/new")
        let other = try disk.open("/n/wal/unsynced", .createExclusive)
        try disk.syncData(other, path: "unsynced")
        disk.losePower(tear: false)
        #expect(try disk.contentsOfDirectory("/n/wal") == ["old"])
        #expect(try disk.readAll("/n/wal/old") == [1])
    }

    @Test("a process crash loses nothing written")
    func processCrashKeepsEverything() throws {
        let disk = try disk()
        let fd = try disk.open("/n/wal/a", .createExclusive)
        try disk.write(fd, [1, 2], path: "a")
        disk.closeEverything()
        #expect(try disk.readAll("/n/wal/a") == [1, 2])
    }

    @Test("a full disk refuses writes with ENOSPC, a failing one writes and syncs with EIO, and the probe says so")
    func faultsFailWithTheirErrno() throws {
        let disk = try disk()
        let fd = try disk.open("/n/wal/a", .createExclusive)
        disk.fault = .full
        #expect { try disk.write(fd, [1], path: "a") } throws: { ($0 as? WALError)?.errno == ENOSPC }
        #expect(!disk.probe("/n/wal"))
        disk.fault = .failing
        #expect { try disk.syncData(fd, path: "a") } throws: { ($0 as? WALError)?.errno == EIO }
        disk.fault = .none
        #expect(disk.probe("/n/wal"))
        #expect(try disk.contentsOfDirectory("/n/wal") == ["a"], "the probe removes its file")
    }

    @Test("a stalling disk holds the caller of a sync, and a cut power makes later calls do nothing")
    func stallsAndPowerCuts() throws {
        let disk = try disk()
        let fd = try disk.open("/n/wal/a", .createExclusive)
        disk.fault = .stalling(milliseconds: 20)
        try disk.syncData(fd, path: "a")
        #expect(disk.stalledUntil == 1_000 + 20_000_000)
        disk.fault = .none
        disk.cutPower(afterOperations: 1)
        try disk.write(fd, [1], path: "a")
        #expect(!disk.powerIsCut)
        try disk.write(fd, [2], path: "a")
        #expect(disk.powerIsCut)
        #expect(try disk.readAll("/n/wal/a") == [1], "the write after the cut did nothing")
        disk.losePower(tear: false)
        #expect(try disk.contentsOfDirectory("/n/wal").isEmpty, "neither the file nor its directory entry was synced")
    }

    @Test("after a failed sync the WAL cuts what only the page cache held, so a restart does not read it as durable")
    func failedSyncLeavesNothingUndurable() throws {
        let disk = try disk()
        let group = GroupID(7)
        let durable = WALRecord.hardState(group, HardState(term: Term(1), vote: nil, commit: .zero))
        let lost = WALRecord.hardState(group, HardState(term: Term(2), vote: NodeID(3), commit: .zero))
        do {
            let (wal, _) = try WriteAheadLog.open(directory: "/n/wal", fileSystem: disk)
            try wal.append([durable])
            disk.fault = .failingSyncs
            #expect(throws: WALError.self) { try wal.append([lost]) }
            #expect(throws: WALError.self, "the disk still fails") { try wal.discardUnsyncedTail() }
            disk.fault = .none
            try wal.discardUnsyncedTail()
        }
        disk.closeEverything()  // the process restarts (exec): the page cache survives
        let (_, recovery) = try WriteAheadLog.open(directory: "/n/wal", fileSystem: disk)
        #expect(recovery.groups[group]?.hardState.term == Term(1), "the term-2 vote never became durable")
    }
}
