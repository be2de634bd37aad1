import Foundation

/// The segment files of a WAL directory, sorted by name (that is, by first sequence number).
func segmentFiles(_ directory: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }.sorted().map { directory + "/" + $0 }
}

/// Removes a directory and everything in it, ignoring errors (for scratch directories).
func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Makes a new, uniquely named scratch directory inside `parent`.
func makeScratchDirectory(in parent: String) -> String {
    let path = parent + "/.wal-bench-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        fail("cannot create the scratch directory \(path): \(error)")
    }
    return path
}
