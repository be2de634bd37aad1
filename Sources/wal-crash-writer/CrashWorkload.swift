import RaftCore
import RaftStorage

/// The deterministic workload of the crash writer, shared with the crash tests (which import this module).
///
/// The data of an entry is a pure function of (group, index, term), so a checker can tell any recovered
/// entry from an invented or damaged one without knowing which batch wrote it. Which groups a batch touches,
/// how many entries each gets and when a group moves to a new term follow from (seed, batch counter) and
/// the groups' current ends; the log of every group stays contiguous from index 1 and only grows.
struct CrashWorkload {
    /// The groups written to.
    static let groups: [GroupID] = (1...6).map { GroupID(UInt64($0)) }

    /// One group's end of log as the writer sees it.
    struct GroupEnd: Equatable {
        var lastIndex: LogIndex = .zero
        var term: Term = .zero
    }

    /// What one append makes durable: the last entry of an `entries` record.
    struct Durable: Equatable {
        var group: GroupID
        var lastIndex: LogIndex
        var term: Term
    }

    let seed: UInt64
    private(set) var ends: [GroupID: GroupEnd] = [:]

    /// Continues after the recovered state of each group.
    init(seed: UInt64, recovered: [GroupID: PersistentState]) {
        self.seed = seed
        for (group, state) in recovered {
            let last = state.entries.last
            ends[group] = GroupEnd(
                lastIndex: last?.index ?? state.snapshot.index,
                term: max(state.hardState.term, last?.term ?? .zero))
        }
    }

    /// The bytes of the entry at `index` in `term` of `group`: usually 0 to 255 bytes, one entry in 64 between
    /// 4 and 36 KiB, and one in 1,024 between 256 and 768 KiB (so that some appends are large enough for a kill to
    /// land in the middle of their `write`). Large entries repeat a random 4 KiB block with the offset mixed in,
    /// which is quick to build in a debug build and still tells every 8-byte word apart.
    static func data(group: GroupID, index: LogIndex, term: Term) -> [UInt8] {
        var random = SplitMix64(
            seed: group.rawValue &* 0x9E37_79B9_7F4A_7C15 ^ index.rawValue &* 0xC2B2_AE3D_27D4_EB4F
                ^ term.rawValue &* 0x1656_67B1_9E37_79F9)
        let shape = random.next()
        let count: Int
        switch shape % 1_024 {
        case 0: count = (256 << 10) + Int((shape >> 10) % (512 << 10))
        case let k where k % 64 == 1: count = 4_096 + Int((shape >> 10) % 32_768)
        default: count = Int((shape >> 10) % 256)
        }
        var block = [UInt64](repeating: 0, count: min(512, (count + 7) / 8))
        for k in block.indices { block[k] = random.next() }
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { out in
            block.withUnsafeBytes { pattern in
                var offset = 0
                while offset < count {
                    let n = min(pattern.count, count - offset)
                    out.baseAddress!.advanced(by: offset).copyMemory(from: pattern.baseAddress!, byteCount: n)
                    // Each repetition of the block differs in its first word: the block number is mixed in.
                    if n >= 8 {
                        let word = block[0] ^ UInt64(offset / pattern.count)
                        out.storeBytes(of: word, toByteOffset: offset, as: UInt64.self)
                    }
                    offset += n
                }
            }
        }
        return bytes
    }

    /// The records of batch number `counter`, and what each `entries` record makes durable. Call `commit`
    /// once the batch is durable.
    func batch(_ counter: UInt64) -> (records: [WALRecord], durable: [Durable], ends: [GroupID: GroupEnd]) {
        var random = SplitMix64(seed: seed ^ (counter &+ 1) &* 0xD6E8_FEB8_6659_FD93)
        var ends = self.ends
        var records: [WALRecord] = []
        var durable: [Durable] = []
        let touched = 1 + Int(random.next() % 3)
        for _ in 0..<touched {
            // A group may appear twice in one batch: its second run follows on from the first.
            let group = Self.groups[Int(random.next() % UInt64(Self.groups.count))]
            var end = ends[group] ?? GroupEnd()
            if end.term == .zero || random.next() % 20 == 0 {
                end.term = end.term.next
                records.append(
                    .hardState(
                        group,
                        HardState(term: end.term, vote: NodeID(1 + random.next() % 3), commit: end.lastIndex)))
            }
            let count = random.next() % 25 == 0 ? 32 + random.next() % 96 : 1 + random.next() % 8
            let entries = (1...count).map { k in
                let index = end.lastIndex + k
                return Entry(term: end.term, index: index, data: Self.data(group: group, index: index, term: end.term))
            }
            end.lastIndex = entries.last!.index
            records.append(.entries(group, entries))
            durable.append(Durable(group: group, lastIndex: end.lastIndex, term: end.term))
            ends[group] = end
        }
        return (records, durable, ends)
    }

    /// Records that a batch is durable.
    mutating func commit(_ ends: [GroupID: GroupEnd]) {
        self.ends = ends
    }

    /// The line the writer prints for a durable run.
    static func line(_ durable: Durable) -> String {
        "durable \(durable.group.rawValue) \(durable.lastIndex.rawValue) \(durable.term.rawValue)"
    }

    /// Parses a line printed by `line(_:)`.
    static func parse(_ line: Substring) -> Durable? {
        let fields = line.split(separator: " ")
        guard fields.count == 4, fields[0] == "durable", let group = UInt64(fields[1]), let index = UInt64(fields[2]),
            let term = UInt64(fields[3])
        else { return nil }
        return Durable(group: GroupID(group), lastIndex: LogIndex(index), term: Term(term))
    }
}
