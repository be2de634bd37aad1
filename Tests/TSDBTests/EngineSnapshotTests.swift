import Foundation
import LineProtocol
import RaftStorage
import Testing

@testable import TSDB

/// A snapshot is the engine's files: streamed in any chunking, installed into an empty directory, it answers as
/// the engine it came from; a damaged stream is refused.
@Suite("Vnode engine snapshots")
struct EngineSnapshotTests {
    /// An engine with several files (some compacted) and the model of its writes.
    static func source(seed: UInt64, in directory: String) throws -> (VnodeEngine, VnodeStore) {
        var random = CodecTests.Generator(state: seed)
        let engine = try VnodeEngine.open(
            directory: directory, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        let model = VnodeStore()
        for index in 1...120 as ClosedRange<UInt64> {
            let points = VnodeEngineTests.batch(&random)
            engine.apply(points, at: index)
            for point in points { model.upsert(point) }
            if index % 17 == 0 { try engine.flushNow() }
            if index % 50 == 0 { try engine.compactNow() }
        }
        return (engine, model)
    }

    static func install(_ bytes: [UInt8], in directory: String) throws -> VnodeEngine {
        var receiver = EngineSnapshotReceiver(
            directory: directory, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        try receiver.take(bytes)
        return try receiver.finish()
    }

    static func stream(_ engine: VnodeEngine) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try engine.snapshotSource().write { bytes += $0 }
        return bytes
    }

    @Test(
        "streamed in random chunks and installed, the snapshot answers as its source", arguments: 0..<6 as Range<UInt64>
    )
    func roundTrip(seed: UInt64) throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (engine, model) = try Self.source(seed: seed, in: root + "/a")
        let before = try Self.stream(engine)
        #expect(
            try Self.install(before, in: root + "/early").coveredIndex == engine.coveredIndex,
            "a snapshot taken with writes in the memtable is the files at the covered index")
        try engine.flushNow()
        let bytes = try Self.stream(engine)
        var receiver = EngineSnapshotReceiver(
            directory: root + "/b", fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        var random = CodecTests.Generator(state: seed)
        var offset = 0
        while offset < bytes.count {
            let count = min(bytes.count - offset, Int(1 + random.next() % 5_000))
            try receiver.take(Array(bytes[offset..<(offset + count)]))
            offset += count
        }
        let installed = try receiver.finish()
        #expect(installed.coveredIndex == engine.coveredIndex)
        #expect(installed.files.count == engine.files.count)
        try VnodeEngineTests.expectSameAnswers(installed, model, &random, "installed snapshot, seed \(seed)")
        // It goes on as any engine: later writes above the covered index apply.
        let later = VnodeEngineTests.batch(&random)
        installed.apply(later, at: installed.coveredIndex + 1)
        for point in later { model.upsert(point) }
        try VnodeEngineTests.expectSameAnswers(installed, model, &random, "after the snapshot, seed \(seed)")
    }

    @Test("a flipped byte or a cut stream is refused, saying where")
    func damagedStreamIsRefused() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (engine, _) = try Self.source(seed: 1, in: root + "/a")
        try engine.flushNow()
        let bytes = try Self.stream(engine)
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x08
        var receiver = EngineSnapshotReceiver(directory: root + "/b", fileSystem: POSIXFileSystem())
        #expect {
            try receiver.take(flipped)
            _ = try receiver.finish()
        } throws: { error in
            (error as? ColumnFileError)?.code == .corrupt && "\(error)".contains("checksum")
        }
        var cut = EngineSnapshotReceiver(directory: root + "/c", fileSystem: POSIXFileSystem())
        try cut.take(Array(bytes.dropLast(100)))
        #expect { _ = try cut.finish() } throws: { error in "\(error)".contains("ended early") }
    }
}

/// What the engine keeps beside the points, and what it drops by age.
@Suite("Vnode engine state and expiry")
struct EngineStateTests {
    @Test("the state given to a flush comes back with its covered index after a restart and through a snapshot")
    func stateTravelsWithTheCoveredIndex() throws {
        let root = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        var random = CodecTests.Generator(state: 8)
        let engine = try VnodeEngine.open(directory: root + "/a", fileSystem: POSIXFileSystem())
        engine.apply(VnodeEngineTests.batch(&random), at: 1)
        try engine.flushNow(state: [1, 2, 3])
        engine.apply(VnodeEngineTests.batch(&random), at: 2)
        try engine.flushNow(state: [4, 5])
        try engine.compactNow()
        let reopened = try VnodeEngine.open(directory: root + "/a", fileSystem: POSIXFileSystem())
        #expect(reopened.coveredIndex == 2 && reopened.coveredState == [4, 5])
        var receiver = EngineSnapshotReceiver(directory: root + "/b", fileSystem: POSIXFileSystem())
        try reopened.snapshotSource().write { try receiver.take($0) }
        let installed = try receiver.finish()
        #expect(installed.coveredIndex == 2 && installed.coveredState == [4, 5])
    }

    @Test("whole files older than the cutoff are dropped; newer ones and the memtable stay")
    func expiryDropsWholeFiles() throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let engine = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem())
        func write(_ hour: Int64, at index: UInt64) {
            let point = Point(
                measurement: "cpu", tags: [SeriesTag("host", "a")], fields: [Field("usage", .float(Double(hour)))],
                timestamp: hour * 3_600_000_000_000)
            engine.apply([point], at: index)
        }
        write(1, at: 1)
        try engine.flushNow()
        write(2, at: 2)
        try engine.flushNow()
        write(3, at: 3)
        #expect(try engine.dropFiles(endingBefore: 2 * 3_600_000_000_000) == 1)
        #expect(try engine.scan("cpu").map(\.timestamp) == [2, 3].map { $0 * 3_600_000_000_000 })
        let reopened = try VnodeEngine.open(directory: directory, fileSystem: POSIXFileSystem())
        #expect(reopened.files.count == 1, "the dropped file is gone from the manifest and the directory")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).count == 2)
    }
}
