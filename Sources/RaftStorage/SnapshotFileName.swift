import RaftCore

/// Names of snapshot files: `snap-<group>-<index>-<term>.snap`, each number 16 lowercase hex digits (as WAL
/// segment names), and `.tmp` instead of `.snap` while the file is being written.
enum SnapshotFileName {
    static let finalSuffix = ".snap"
    static let temporarySuffix = ".tmp"

    /// A `.snap` file's name with the index and term it names.
    struct Parsed: Sendable, Equatable {
        var name: String
        var index: LogIndex
        var term: Term
    }

    /// The name without suffix.
    static func stem(group: GroupID, index: LogIndex, term: Term) -> String {
        "snap-" + [group.rawValue, index.rawValue, term.rawValue].map(hex16).joined(separator: "-")
    }

    /// Group, index and term of a `.snap` (or, with `suffix: temporarySuffix`, a `.tmp`) name; `nil` for others.
    static func parse(_ name: String, suffix: String = finalSuffix) -> (group: GroupID, index: LogIndex, term: Term)? {
        guard name.hasPrefix("snap-"), name.hasSuffix(suffix), name.utf8.count == 5 + 3 * 16 + 2 + suffix.utf8.count
        else { return nil }
        let parts = name.dropFirst(5).dropLast(suffix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3,
            parts.allSatisfy({ $0.count == 16 && $0.allSatisfy { $0.isHexDigit && !$0.isUppercase } })
        else { return nil }
        let numbers = parts.compactMap { UInt64($0, radix: 16) }
        guard numbers.count == 3 else { return nil }
        return (GroupID(numbers[0]), LogIndex(numbers[1]), Term(numbers[2]))
    }

    private static func hex16(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
