import RaftCore

extension WALRecord {
    /// The payload bytes (without frame header or type byte), little-endian as in `docs/wal-format.md`.
    public func encodePayload(into out: inout [UInt8]) {
        out.appendLE(group.rawValue)
        switch self {
        case .entries(_, let entries):
            out.appendLE(UInt32(entries.count))
            for entry in entries { Self.encode(entry, into: &out) }
        case .hardState(_, let state):
            out.appendLE(state.term.rawValue)
            out.appendLE(state.vote?.rawValue ?? 0)
            out.appendLE(state.commit.rawValue)
        case .snapshot(_, let metadata), .compact(_, let metadata):
            out.appendLE(metadata.index.rawValue)
            out.appendLE(metadata.term.rawValue)
            Self.encode(metadata.membership, into: &out)
        case .truncate(_, let lastKept):
            out.appendLE(lastKept.rawValue)
        case .removeGroup:
            break
        }
    }

    /// Payload kinds of an entry. These values never change.
    enum PayloadKind: UInt8 {
        case data = 0
        case confChange = 1
    }

    /// Operation kinds of a membership change. These values never change.
    enum OperationKind: UInt8 {
        case addVoter = 0
        case addLearner = 1
        case remove = 2
    }

    static func encode(_ entry: Entry, into out: inout [UInt8]) {
        out.appendLE(entry.index.rawValue)
        out.appendLE(entry.term.rawValue)
        switch entry.payload {
        case .data(let bytes):
            out.appendLE(PayloadKind.data.rawValue)
            out.appendLengthPrefixed(bytes)
        case .confChange(let change):
            out.appendLE(PayloadKind.confChange.rawValue)
            out.appendLE(UInt32(change.operations.count))
            for operation in change.operations {
                switch operation {
                case .addVoter: out.appendLE(OperationKind.addVoter.rawValue)
                case .addLearner: out.appendLE(OperationKind.addLearner.rawValue)
                case .remove: out.appendLE(OperationKind.remove.rawValue)
                }
                out.appendLE(operation.node.rawValue)
            }
            out.appendLengthPrefixed(change.context)
        }
    }

    /// Four node sets (voters, outgoing voters, learners, learners next), each a u32 count and sorted ids.
    static func encode(_ membership: Membership, into out: inout [UInt8]) {
        for set in [membership.voters, membership.outgoingVoters, membership.learners, membership.learnersNext] {
            out.appendLE(UInt32(set.count))
            for node in set.sorted() { out.appendLE(node.rawValue) }
        }
    }
}
