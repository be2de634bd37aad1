import RaftCore

/// Wraps a state machine so that a command proposed more than once (a client's retry after a timeout, or after
/// the node it went through died) is applied once: commands enveloped by a `ClientRequest` are checked against
/// a `SessionTable`; a duplicate is answered with the first attempt's result and changes nothing. Commands
/// without an envelope pass through unchanged.
///
/// The snapshot is the session table followed by the wrapped machine's own snapshot:
/// `"FSES"`, version `u8` (1), `u32` table length, the table (`SessionTable.encoded()`), then the machine's bytes.
/// Restoring reads the same, chunk by chunk. The checksum is the wrapped machine's (the table is bookkeeping).
public final class DeduplicatingMachine: StateMachine {
    /// The machine that applies the commands.
    public let base: any StateMachine
    public internal(set) var sessions = SessionTable()

    /// What a proposer is answered for an enveloped request below its client's floor whose result is no longer
    /// kept: nothing was applied now, and whether an earlier copy was is unknown.
    public static let expiredAnswer: [UInt8] = [ClientRequest.marker, 0xEE]

    static let magic: [UInt8] = Array("FSES".utf8)
    static let version: UInt8 = 1

    public init(_ base: any StateMachine) { self.base = base }

    public func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        guard let (request, body) = ClientRequest.open(command) else { return base.apply(command, at: index) }
        switch sessions.check(request, at: index) {
        case .duplicate(let result): return result
        case .expired: return Self.expiredAnswer
        case .apply:
            let result = base.apply(body, at: index)
            sessions.record(request, result: result)
            return result
        }
    }

    var header: [UInt8] {
        let table = sessions.encoded()
        var bytes = Self.magic
        bytes.append(Self.version)
        bytes.appendU32(UInt32(table.count))
        return bytes + table
    }

    public func snapshot() -> [UInt8] {
        guard persistentBase != nil else { return header + base.snapshot() }
        var bytes: [UInt8] = []
        try? snapshotSource().write { bytes += $0 }
        return bytes
    }

    /// A persistent machine's snapshot carries the session table itself, as the state of its files.
    public func snapshotSource() -> any SnapshotSource {
        if let durable = persistentBase { return durable.durableSnapshot() }
        return SessionSnapshotSource(header: header, base: base.snapshotSource())
    }

    public func restore(_ data: [UInt8]) throws { try restoreAsOneChunk(data) }

    public func restore(chunks next: () throws -> [UInt8]?) throws {
        if let durable = persistentBase {
            try durable.restore(chunks: next)
            sessions = try Self.sessions(recordedIn: durable.durableState)
            return
        }
        var pending: [UInt8] = []
        func fill(_ count: Int) throws {
            while pending.count < count {
                guard let chunk = try next() else { throw SessionSnapshotError.truncated }
                pending += chunk
            }
        }
        try fill(9)
        guard Array(pending[0..<4]) == Self.magic, pending[4] == Self.version else {
            throw SessionSnapshotError.notASessionSnapshot
        }
        var length = 0
        for k in 0..<4 { length |= Int(pending[5 + k]) << (8 * k) }
        try fill(9 + length)
        guard let table = SessionTable(decoding: Array(pending[9..<(9 + length)])) else {
            throw SessionSnapshotError.badTable
        }
        var rest: [UInt8]? = Array(pending[(9 + length)...])
        try base.restore(chunks: {
            if let first = rest {
                rest = nil
                if !first.isEmpty { return first }
            }
            return try next()
        })
        sessions = table
    }

    public var checksum: UInt64 { base.checksum }

    public var checksumIfCheap: UInt64? { base.checksumIfCheap }

    public var snapshotsInBackground: Bool { base.snapshotsInBackground }

    /// The session table is this machine's own: it may run apart whenever the wrapped machine may.
    public var appliesConcurrently: Bool { base.appliesConcurrently }
}

/// Why a deduplicating machine's snapshot could not be restored.
public enum SessionSnapshotError: Error, CustomStringConvertible {
    case truncated, notASessionSnapshot, badTable

    public var description: String {
        switch self {
        case .truncated: return "the snapshot ends inside its session table"
        case .notASessionSnapshot: return "the snapshot does not start with a session table (\"FSES\", version 1)"
        case .badTable: return "the snapshot's session table is damaged"
        }
    }
}

/// The frozen snapshot of a `DeduplicatingMachine`: its table's bytes, then the wrapped machine's source.
struct SessionSnapshotSource: SnapshotSource {
    let header: [UInt8]
    let base: any SnapshotSource

    func write(_ emit: ([UInt8]) throws -> Void) throws {
        try emit(header)
        try base.write(emit)
    }
}

extension StateMachine {
    /// The machine that applies the commands: `self`, or the one a `DeduplicatingMachine` wraps.
    public var unwrapped: any StateMachine { (self as? DeduplicatingMachine)?.base ?? self }
}
