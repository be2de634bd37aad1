import Foundation
import RaftCore
import Testing

@testable import RaftStorage

/// The snapshot store: chunked round trips, crash safety of the rename, damage detection, replacement, and the
/// choice among the files a crash left.
@Suite struct SnapshotStoreTests {
    static let metadata = SnapshotMetadata(
        index: LogIndex(40), term: Term(3), membership: Membership(voters: [1, 2, 3], learners: [4]))

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// Writes `data` as `group`'s snapshot in chunks of `chunk` bytes.
    @discardableResult
    static func write(
        _ store: SnapshotStore, group: GroupID, _ metadata: SnapshotMetadata, _ data: [UInt8], chunk: Int = 4096,
        expecting: SnapshotChecksum? = nil
    ) throws -> SnapshotChecksum {
        let writer = try store.beginWrite(group: group, metadata: metadata, expecting: expecting)
        for start in stride(from: 0, to: data.count, by: chunk) {
            try writer.write(Array(data[start..<min(start + chunk, data.count)]))
        }
        return try writer.finish()
    }

    /// All data of `group`'s latest snapshot, read in chunks of `chunk` bytes.
    static func readAll(_ store: SnapshotStore, group: GroupID, chunk: Int) throws -> (SnapshotMetadata, [UInt8])? {
        guard let (metadata, reader) = try store.latest(group: group, chunkSize: chunk) else { return nil }
        var data: [UInt8] = []
        while let next = try reader.next() {
            #expect(next.count <= chunk)
            data += next
        }
        return (metadata, data)
    }

    /// Opens the store in `dir` and settles `group` taking its newest file, as recovery does when the log reaches
    /// every file.
    static func reopen(_ dir: String, group: GroupID) throws(SnapshotError) -> SnapshotStore {
        let store = try SnapshotStore.open(directory: dir)
        _ = try store.choose(group: group) { _, _ in true }
        return store
    }

    static func files(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    @Test(arguments: [1, 1000, 65536, 1 << 20]) func chunkedRoundTripOfOneMebibyte(readChunk: Int) throws {
        try withTemporaryDirectory { dir in
            let data = Self.randomBytes(1 << 20, seed: 7)
            let store = try SnapshotStore.open(directory: dir)
            let written = try Self.write(store, group: GroupID(5), Self.metadata, data, chunk: 3000)
            #expect(written.dataLength == UInt64(data.count))
            let (metadata, read) = try #require(try Self.readAll(store, group: GroupID(5), chunk: readChunk))
            #expect(metadata == Self.metadata && read == data)
            // And after reopening and choosing, which verifies the file.
            let reopened = try SnapshotStore.open(directory: dir)
            #expect(reopened.groups == [GroupID(5)])
            #expect(try reopened.latest(group: GroupID(5)) == nil, "nothing is offered before the choice")
            #expect(try reopened.choose(group: GroupID(5)) { _, _ in true }.chosen == Self.metadata)
            let (_, reader) = try #require(try reopened.latest(group: GroupID(5)))
            try reader.verify()
            #expect(reader.checksum == written)
            #expect(try Self.files(dir) == ["snap-0000000000000005-0000000000000028-0000000000000003.snap"])
        }
    }

    @Test func emptyDataRoundTrips() throws {
        try withTemporaryDirectory { dir in
            let store = try SnapshotStore.open(directory: dir)
            try Self.write(store, group: GroupID(1), Self.metadata, [])
            let (_, data) = try #require(
                try Self.readAll(Self.reopen(dir, group: GroupID(1)), group: GroupID(1), chunk: 8))
            #expect(data.isEmpty)
        }
    }

    @Test func crashBeforeRenameLeavesThePreviousSnapshotLatest() throws {
        try withTemporaryDirectory { dir in
            let old = Self.randomBytes(5000, seed: 1)
            do {
                let store = try SnapshotStore.open(directory: dir)
                try Self.write(store, group: GroupID(2), Self.metadata, old)
                var newer = Self.metadata
                newer.index = LogIndex(90)
                let writer = try store.beginWrite(group: GroupID(2), metadata: newer)
                try writer.write(Self.randomBytes(3000, seed: 2))
                // "Crash": the process dies here, leaving the temporary file (simulated by copying it aside).
                let tmp = writer.temporaryPath
                try FileManager.default.copyItem(atPath: tmp, toPath: tmp + ".copy")
                writer.abort()
                #expect(!FileManager.default.fileExists(atPath: tmp))
                try FileManager.default.moveItem(atPath: tmp + ".copy", toPath: tmp)
            }
            #expect(try Self.files(dir).count == 2)
            let store = try Self.reopen(dir, group: GroupID(2))
            #expect(try Self.files(dir) == ["snap-0000000000000002-0000000000000028-0000000000000003.snap"])
            let (metadata, data) = try #require(try Self.readAll(store, group: GroupID(2), chunk: 777))
            #expect(metadata == Self.metadata && data == old)
        }
    }

    @Test func newerSnapshotKeepsOlderOnesUntilReleasedAndStaleIsRefused() throws {
        try withTemporaryDirectory { dir in
            let store = try SnapshotStore.open(directory: dir)
            var metadata: [SnapshotMetadata] = []
            for (k, index) in [10, 20, 30].enumerated() {
                var next = Self.metadata
                next.index = LogIndex(UInt64(index))
                metadata.append(next)
                try Self.write(store, group: GroupID(9), next, Self.randomBytes(100, seed: UInt64(k)))
                try Self.write(store, group: GroupID(8), next, [UInt8(k)])
            }
            #expect(try Self.files(dir).count == 6, "the WAL records of the new files are not durable yet")
            #expect(store.latestMetadata(group: GroupID(9))?.index == LogIndex(30))
            let (_, data) = try #require(try Self.readAll(store, group: GroupID(9), chunk: 64))
            #expect(data == Self.randomBytes(100, seed: 2))
            var stale = Self.metadata
            stale.index = LogIndex(25)
            #expect { try store.beginWrite(group: GroupID(9), metadata: stale) } throws: {
                ($0 as? SnapshotError)?.code == .stale
            }
            // The record of 20 is durable (30's is not yet): 10 goes, 20 and 30 stay; other groups are untouched.
            #expect(try store.release(group: GroupID(9), through: metadata[1]).count == 1)
            #expect(try Self.files(dir).count == 5)
            try store.release(group: GroupID(9), through: metadata[2])
            try store.release(group: GroupID(8), through: metadata[2])
            #expect(try Self.files(dir).count == 2)
            // A crash may leave an older file beside the latest: opening keeps both, the choice deletes it unread.
            try writeFile(dir + "/snap-0000000000000009-0000000000000001-0000000000000001.snap", [1, 2, 3])
            let reopened = try SnapshotStore.open(directory: dir)
            #expect(try Self.files(dir).count == 3)
            #expect(reopened.candidates(group: GroupID(9)).map(\.index) == [LogIndex(30), LogIndex(1)])
            let choice = try reopened.choose(group: GroupID(9)) { _, _ in true }
            #expect(choice.chosen?.index == LogIndex(30) && choice.unusable.isEmpty && choice.superseded.count == 1)
            #expect(try Self.files(dir).count == 2)
        }
    }

    /// Writes snapshots of group 4 at `indexes`, each with its index as its only data byte; returns the names.
    static func writeSeries(_ dir: String, _ indexes: [UInt64]) throws -> [String] {
        let store = try SnapshotStore.open(directory: dir)
        for index in indexes {
            var metadata = Self.metadata
            metadata.index = LogIndex(index)
            try Self.write(store, group: GroupID(4), metadata, [UInt8(index)])
        }
        return try Self.files(dir)
    }

    @Test func choiceTakesTheNewestUsableFileThenDeletesTheOthers() throws {
        try withTemporaryDirectory { dir in
            let names = try Self.writeSeries(dir, [10, 20, 30])
            let store = try SnapshotStore.open(directory: dir)
            #expect(try Self.files(dir) == names, "opening deletes nothing")
            var asked: [LogIndex] = []
            let choice = try store.choose(group: GroupID(4)) { index, term in
                asked.append(index)
                return index <= LogIndex(20) && term == Self.metadata.term
            }
            #expect(asked == [LogIndex(30), LogIndex(20)], "newest first, until one is usable")
            #expect(choice.chosen?.index == LogIndex(20))
            #expect(choice.unusable == [names[2]] && choice.superseded == [names[0]])
            #expect(try Self.files(dir) == [names[1]])
            #expect(try Self.readAll(store, group: GroupID(4), chunk: 8)?.1 == [20])
            #expect(store.candidates(group: GroupID(4)).isEmpty)
        }
    }

    @Test func damagedFileTheLogDoesNotReachIsDeletedUnread() throws {
        try withTemporaryDirectory { dir in
            let names = try Self.writeSeries(dir, [10, 30])
            try writeFile(dir + "/" + names[1], [0xFF])
            let store = try SnapshotStore.open(directory: dir)
            let choice = try store.choose(group: GroupID(4)) { index, _ in index <= LogIndex(10) }
            #expect(choice.chosen?.index == LogIndex(10) && choice.unusable == [names[1]])
            #expect(try Self.files(dir) == [names[0]])
        }
    }

    @Test func damagedFileTheLogNeedsIsAnErrorAndNothingIsDeleted() throws {
        try withTemporaryDirectory { dir in
            let names = try Self.writeSeries(dir, [10, 20, 30])
            var bytes = try readFile(dir + "/" + names[1])
            bytes[bytes.count - 1] ^= 1
            try writeFile(dir + "/" + names[1], bytes)
            let store = try SnapshotStore.open(directory: dir)
            do throws(SnapshotError) {
                _ = try store.choose(group: GroupID(4)) { index, _ in index <= LogIndex(20) }
                Issue.record("chose a damaged file")
            } catch {
                #expect(error.code == .corrupt && error.file == dir + "/" + names[1])
            }
            #expect(try Self.files(dir) == names)
            #expect(store.latestMetadata(group: GroupID(4)) == nil)
        }
    }

    @Test func noUsableFileLeavesTheGroupWithoutSnapshot() throws {
        try withTemporaryDirectory { dir in
            let names = try Self.writeSeries(dir, [10, 20])
            let store = try SnapshotStore.open(directory: dir)
            let choice = try store.choose(group: GroupID(4)) { _, _ in false }
            #expect(choice == SnapshotChoice(chosen: nil, unusable: names.reversed(), superseded: []))
            #expect(try Self.files(dir).isEmpty && store.groups.isEmpty)
            #expect(try store.latest(group: GroupID(4)) == nil)
        }
    }

    @Test(arguments: [0, 9, 50, 2500, 5000 + 60]) func flippedBitIsAnErrorNamingTheFile(byte: Int) throws {
        try withTemporaryDirectory { dir in
            let store = try SnapshotStore.open(directory: dir)
            try Self.write(store, group: GroupID(3), Self.metadata, Self.randomBytes(5000, seed: 3))
            let path = dir + "/" + (try Self.files(dir))[0]
            var bytes = try readFile(path)
            bytes[min(byte, bytes.count - 1)] ^= 0x20
            try writeFile(path, bytes)
            do throws(SnapshotError) {
                _ = try Self.reopen(dir, group: GroupID(3))
                Issue.record("chose a damaged snapshot")
            } catch {
                #expect(error.code == .corrupt)
                #expect(error.file == path)
                #expect(error.description.contains(path))
            }
            // The store opened before the damage notices too: when opening a reader (damaged header or length),
            // or in verify() and in place of the last chunk (damaged data or trailer).
            do throws(SnapshotError) {
                if let (_, reader) = try store.latest(group: GroupID(3), chunkSize: 1000) {
                    #expect(throws: SnapshotError.self) { try reader.verify() }
                    #expect(throws: SnapshotError.self) { while try reader.next() != nil {} }
                }
            } catch {
                #expect(error.code == .corrupt && error.file == path)
            }
            #expect(try readFile(path) == bytes, "a damaged file is reported, not deleted")
        }
    }

    @Test func receivedSnapshotIsCheckedAgainstTheSendersChecksum() throws {
        try withTemporaryDirectory { dir in
            let leader = try SnapshotStore.open(directory: dir + "/leader")
            let data = Self.randomBytes(20000, seed: 4)
            try Self.write(leader, group: GroupID(6), Self.metadata, data)
            let (metadata, reader) = try #require(try leader.latest(group: GroupID(6), chunkSize: 4096))
            var received: [[UInt8]] = []
            while let chunk = try reader.next() { received.append(chunk) }

            let follower = try SnapshotStore.open(directory: dir + "/follower")
            let good = try follower.beginWrite(group: GroupID(6), metadata: metadata, expecting: reader.checksum)
            for chunk in received { try good.write(chunk) }
            #expect(try good.finish() == reader.checksum)

            var damaged = received
            damaged[2][100] ^= 1
            for (chunks, target) in [(damaged, metadata), (Array(received.dropLast()), metadata)] {
                var next = target
                next.index = LogIndex(99)
                let writer = try follower.beginWrite(group: GroupID(6), metadata: next, expecting: reader.checksum)
                for chunk in chunks { try writer.write(chunk) }
                #expect { try writer.finish() } throws: { ($0 as? SnapshotError)?.code == .verificationFailed }
                #expect(throws: SnapshotError.self) { try writer.write([1]) }
            }
            let tooLong = try follower.beginWrite(group: GroupID(6), metadata: metadata, expecting: reader.checksum)
            for chunk in received { try tooLong.write(chunk) }
            #expect { try tooLong.write([0]) } throws: { ($0 as? SnapshotError)?.code == .verificationFailed }
            #expect(try Self.files(dir + "/follower") == [(try Self.files(dir + "/leader"))[0]], "nothing left behind")
            #expect(try Self.readAll(follower, group: GroupID(6), chunk: 999)?.1 == data)
        }
    }

    @Test func concurrentWriterOfTheSameSnapshotIsBusy() throws {
        try withTemporaryDirectory { dir in
            let store = try SnapshotStore.open(directory: dir)
            let first = try store.beginWrite(group: GroupID(1), metadata: Self.metadata)
            #expect { try store.beginWrite(group: GroupID(1), metadata: Self.metadata) } throws: {
                ($0 as? SnapshotError)?.code == .busy
            }
            first.abort()
            _ = try store.beginWrite(group: GroupID(1), metadata: Self.metadata)
        }
    }
}
