import RaftCore

/// The binary encoding of `RaftCore.Message` inside a frame: little-endian, tagged bodies, sorted sets.
enum MessageCodec {
    static func encode(_ message: Message, into w: inout WireWriter) {
        w.u64(message.from.rawValue)
        w.u64(message.to.rawValue)
        w.u64(message.term.rawValue)
        switch message.body {
        case .append(let a):
            w.u8(0)
            w.u64(a.prevIndex.rawValue)
            w.u64(a.prevTerm.rawValue)
            w.u64(a.commit.rawValue)
            w.u32(UInt32(a.entries.count))
            for entry in a.entries {
                w.u64(entry.index.rawValue)
                w.u64(entry.term.rawValue)
                encode(entry.payload, into: &w)
            }
        case .appendResponse(let r):
            w.u8(1)
            w.u64(r.index.rawValue)
            w.bool(r.reject)
            w.u64(r.hintIndex.rawValue)
            w.u64(r.hintTerm.rawValue)
        case .vote(let v):
            w.u8(2)
            w.bool(v.preVote)
            w.u64(v.lastIndex.rawValue)
            w.u64(v.lastTerm.rawValue)
            w.bool(v.transfer)
        case .voteResponse(let v):
            w.u8(3)
            w.bool(v.preVote)
            w.bool(v.granted)
        case .heartbeat(let h):
            w.u8(4)
            w.u64(h.commit.rawValue)
            w.u64(h.context.round)
            w.u64(h.context.sentAt)
        case .heartbeatResponse(let c):
            w.u8(5)
            w.u64(c.round)
            w.u64(c.sentAt)
        case .snapshot(let s):
            w.u8(6)
            w.u64(s.index.rawValue)
            w.u64(s.term.rawValue)
            for set in [
                s.membership.voters, s.membership.outgoingVoters, s.membership.learners, s.membership.learnersNext,
            ] {
                w.u32(UInt32(set.count))
                for node in set.sorted() { w.u64(node.rawValue) }
            }
        case .timeoutNow:
            w.u8(7)
        case .forwardedProposals(let payloads):
            w.u8(8)
            w.u32(UInt32(payloads.count))
            for payload in payloads { encode(payload, into: &w) }
        case .readIndex(let context):
            w.u8(9)
            w.u64(context)
        case .readIndexResponse(let state):
            w.u8(10)
            w.u64(state.context)
            w.u64(state.index.rawValue)
        }
    }

    static func encode(_ payload: Entry.Payload, into w: inout WireWriter) {
        switch payload {
        case .data(let bytes):
            w.u8(0)
            w.blob(bytes)
        case .confChange(let change):
            w.u8(1)
            w.u32(UInt32(change.operations.count))
            for operation in change.operations {
                switch operation {
                case .addVoter(let n):
                    w.u8(0)
                    w.u64(n.rawValue)
                case .addLearner(let n):
                    w.u8(1)
                    w.u64(n.rawValue)
                case .remove(let n):
                    w.u8(2)
                    w.u64(n.rawValue)
                }
            }
            w.blob(change.context)
        }
    }

    static func decode(_ r: inout WireReader) throws(WireError) -> Message {
        let from = NodeID(try r.u64("from"))
        let to = NodeID(try r.u64("to"))
        let term = Term(try r.u64("term"))
        let body: Message.Body
        switch try r.u8("body tag") {
        case 0:
            let prevIndex = LogIndex(try r.u64("prevIndex"))
            let prevTerm = Term(try r.u64("prevTerm"))
            let commit = LogIndex(try r.u64("commit"))
            let count = Int(try r.u32("entry count"))
            try r.need(count * 17, "entries")
            var entries: [Entry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let index = LogIndex(try r.u64("entry index"))
                let entryTerm = Term(try r.u64("entry term"))
                entries.append(Entry(term: entryTerm, index: index, payload: try decodePayload(&r)))
            }
            body = .append(AppendEntries(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit))
        case 1:
            body = .appendResponse(
                AppendResponse(
                    index: LogIndex(try r.u64("index")), reject: try r.bool("reject"),
                    hintIndex: LogIndex(try r.u64("hintIndex")), hintTerm: Term(try r.u64("hintTerm"))))
        case 2:
            body = .vote(
                VoteRequest(
                    preVote: try r.bool("preVote"), lastIndex: LogIndex(try r.u64("lastIndex")),
                    lastTerm: Term(try r.u64("lastTerm")), transfer: try r.bool("transfer")))
        case 3:
            body = .voteResponse(VoteResponse(preVote: try r.bool("preVote"), granted: try r.bool("granted")))
        case 4:
            let commit = LogIndex(try r.u64("commit"))
            body = .heartbeat(
                Heartbeat(
                    commit: commit, context: HeartbeatContext(round: try r.u64("round"), sentAt: try r.u64("sentAt"))))
        case 5:
            body = .heartbeatResponse(HeartbeatContext(round: try r.u64("round"), sentAt: try r.u64("sentAt")))
        case 6:
            let index = LogIndex(try r.u64("snapshot index"))
            let snapshotTerm = Term(try r.u64("snapshot term"))
            var sets: [Set<NodeID>] = []
            for _ in 0..<4 {
                let count = Int(try r.u32("member count"))
                try r.need(count * 8, "members")
                var set = Set<NodeID>()
                for _ in 0..<count { set.insert(NodeID(try r.u64("member"))) }
                sets.append(set)
            }
            body = .snapshot(
                SnapshotMetadata(
                    index: index, term: snapshotTerm,
                    membership: Membership(
                        voters: sets[0], outgoingVoters: sets[1], learners: sets[2], learnersNext: sets[3])))
        case 7:
            body = .timeoutNow
        case 8:
            let count = Int(try r.u32("proposal count"))
            try r.need(count, "proposals")
            var payloads: [Entry.Payload] = []
            for _ in 0..<count { payloads.append(try decodePayload(&r)) }
            body = .forwardedProposals(payloads)
        case 9:
            body = .readIndex(context: try r.u64("context"))
        case 10:
            body = .readIndexResponse(ReadState(context: try r.u64("context"), index: LogIndex(try r.u64("index"))))
        case let tag:
            throw .malformed("unknown message body tag \(tag) at offset \(r.offset - 1)")
        }
        return Message(from: from, to: to, term: term, body: body)
    }

    static func decodePayload(_ r: inout WireReader) throws(WireError) -> Entry.Payload {
        switch try r.u8("payload tag") {
        case 0:
            return .data(try r.blob("entry data"))
        case 1:
            let count = Int(try r.u32("operation count"))
            try r.need(count * 9, "operations")
            var operations: [ConfChange.Operation] = []
            for _ in 0..<count {
                let kind = try r.u8("operation kind")
                let node = NodeID(try r.u64("operation node"))
                switch kind {
                case 0: operations.append(.addVoter(node))
                case 1: operations.append(.addLearner(node))
                case 2: operations.append(.remove(node))
                default: throw .malformed("unknown membership operation \(kind) at offset \(r.offset - 9)")
                }
            }
            return .confChange(ConfChange(operations, context: try r.blob("conf change context")))
        case let tag:
            throw .malformed("unknown payload tag \(tag) at offset \(r.offset - 1)")
        }
    }
}
