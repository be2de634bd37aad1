import RaftCore

extension WALRecord {
    /// Decodes a payload of the given type; `nil` if it is malformed (too short, trailing bytes, unknown kind).
    static func decodePayload(kind: Kind, _ payload: ArraySlice<UInt8>) -> WALRecord? {
        var reader = ByteReader(payload)
        guard let group = reader.readU64().map(GroupID.init) else { return nil }
        let record: WALRecord?
        switch kind {
        case .entries:
            guard let count = reader.readU32() else { return nil }
            var entries: [Entry] = []
            // Every entry takes at least 21 bytes: never reserve more than the payload can hold.
            entries.reserveCapacity(min(Int(count), reader.remaining / 21))
            for _ in 0..<count {
                guard let entry = decodeEntry(&reader) else { return nil }
                entries.append(entry)
            }
            record = .entries(group, entries)
        case .hardState:
            guard let term = reader.readU64(), let vote = reader.readU64(), let commit = reader.readU64() else {
                return nil
            }
            record = .hardState(
                group, HardState(term: Term(term), vote: vote == 0 ? nil : NodeID(vote), commit: LogIndex(commit)))
        case .snapshot, .compact:
            guard let index = reader.readU64(), let term = reader.readU64(),
                let membership = decodeMembership(&reader)
            else { return nil }
            let metadata = SnapshotMetadata(index: LogIndex(index), term: Term(term), membership: membership)
            record = kind == .snapshot ? .snapshot(group, metadata) : .compact(group, metadata)
        case .truncate:
            guard let lastKept = reader.readU64() else { return nil }
            record = .truncate(group, lastKept: LogIndex(lastKept))
        case .removeGroup:
            record = .removeGroup(group)
        }
        return reader.isAtEnd ? record : nil
    }

    private static func decodeEntry(_ reader: inout ByteReader) -> Entry? {
        guard let index = reader.readU64(), let term = reader.readU64(),
            let kind = reader.readU8().flatMap(PayloadKind.init(rawValue:))
        else { return nil }
        switch kind {
        case .data:
            guard let bytes = reader.readLengthPrefixed() else { return nil }
            return Entry(term: Term(term), index: LogIndex(index), data: bytes)
        case .confChange:
            guard let count = reader.readU32(), Int(count) <= reader.remaining / 9 else { return nil }
            var operations: [ConfChange.Operation] = []
            for _ in 0..<count {
                guard let op = reader.readU8().flatMap(OperationKind.init(rawValue:)),
                    let node = reader.readU64().map(NodeID.init)
                else { return nil }
                switch op {
                case .addVoter: operations.append(.addVoter(node))
                case .addLearner: operations.append(.addLearner(node))
                case .remove: operations.append(.remove(node))
                }
            }
            guard let context = reader.readLengthPrefixed() else { return nil }
            return Entry(
                term: Term(term), index: LogIndex(index), payload: .confChange(ConfChange(operations, context: context))
            )
        }
    }

    private static func decodeMembership(_ reader: inout ByteReader) -> Membership? {
        var sets: [Set<NodeID>] = []
        for _ in 0..<4 {
            guard let count = reader.readU32(), Int(count) <= reader.remaining / 8 else { return nil }
            var set = Set<NodeID>()
            for _ in 0..<count {
                guard let node = reader.readU64() else { return nil }
                set.insert(NodeID(node))
            }
            sets.append(set)
        }
        return Membership(voters: sets[0], outgoingVoters: sets[1], learners: sets[2], learnersNext: sets[3])
    }
}
