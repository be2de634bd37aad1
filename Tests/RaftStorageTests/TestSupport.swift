import Foundation
import RaftCore

@testable import RaftStorage

/// Runs `body` with a fresh directory under the system's temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("wal-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// Lowercase hex of `bytes`, two digits a byte.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// Bytes from a hex string (spaces ignored).
func bytes(hex text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...($0 + 1)]), radix: 16)! }
}

func readFile(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

func writeFile(_ path: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

/// The segment file names in `directory`, sorted.
func segmentNames(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
}

func data(_ index: UInt64, term: UInt64, _ bytes: [UInt8] = []) -> Entry {
    Entry(term: Term(term), index: LogIndex(index), data: bytes)
}

/// A few records of several kinds and groups, for framing and recovery tests.
func sampleRecords(group: UInt64, first: UInt64, count: Int) -> [WALRecord] {
    (0..<UInt64(count)).map { k in
        k % 3 == 2
            ? .hardState(GroupID(group), HardState(term: Term(1), vote: NodeID(1), commit: LogIndex(first + k - 1)))
            : .entries(GroupID(group), [data(first + k, term: 1, [UInt8(truncatingIfNeeded: k), 0x5A])])
    }
}
