import Foundation
import RaftCore
import Synchronization
import Testing

@testable import RaftStorage

/// A file system that counts directory listings and otherwise does what the real one does.
private final class ListingCounter: ForwardingFileSystem {
    let base: any FileSystem = POSIXFileSystem()
    let listings = Mutex(0)

    func contentsOfDirectory(_ path: String) throws(WALError) -> [String] {
        listings.withLock { $0 += 1 }
        return try base.contentsOfDirectory(path)
    }
}

/// Releasing, trimming and removing snapshots work from the store's own index of its files: the directory holds
/// a file or more for every group of the node, so listing it per group made compacting N groups cost N² work.
@Suite struct SnapshotStoreListingTests {
    static func metadata(_ index: UInt64) -> SnapshotMetadata {
        SnapshotMetadata(index: LogIndex(index), term: Term(1), membership: Membership(voters: [1]))
    }

    @Test func deletionsFindFilesWithoutListingTheDirectory() throws {
        try withTemporaryDirectory { dir in
            // A crash left two files of group 1 and one of group 2.
            let first = try SnapshotStore.open(directory: dir, fsync: .off)
            for (group, index) in [(1, 5), (1, 7), (2, 3)] {
                try SnapshotStoreTests.write(first, group: GroupID(UInt64(group)), Self.metadata(UInt64(index)), [1])
            }
            let counter = ListingCounter()
            let store = try SnapshotStore.open(directory: dir, fsync: .off, fileSystem: counter)
            #expect(counter.listings.withLock { $0 } == 1)
            // Group 1 keeps its newest file found at open, and writes two more; releasing through 9 deletes the
            // found file at 7 and the written one at 8 (files it did not list), keeping 9 and 10.
            _ = try store.choose(group: GroupID(1)) { index, _ in index == LogIndex(7) }
            for index in [8, 9, 10] {
                try SnapshotStoreTests.write(store, group: GroupID(1), Self.metadata(UInt64(index)), [2])
            }
            let released = try store.release(group: GroupID(1), through: Self.metadata(9))
            #expect(released.count == 2)
            #expect(released.allSatisfy { $0.contains("-0000000000000007-") || $0.contains("-0000000000000008-") })
            try store.remove(group: GroupID(1), through: LogIndex(9))
            try store.removeAll(group: GroupID(2))
            #expect(counter.listings.withLock { $0 } == 1, "no deletion listed the directory")
            let left = try SnapshotStoreTests.files(dir)
            #expect(left == ["snap-0000000000000001-000000000000000a-0000000000000001.snap"])
        }
    }
}
