import RaftCore

/// Identifies one client request across all of its attempts, so that a state machine applies it at most once
/// however often it is retried (client sessions, Raft dissertation §6.3).
///
/// The client is a node's coordinator in one boot (`client`, `epoch`); `sequence` counts its requests; every
/// attempt of a request carries the same three numbers. `firstIncomplete` is the lowest sequence the client
/// still waits for (or may still retry): the state machine forgets the results of every request below it.
public struct ClientRequest: Sendable, Hashable, CustomStringConvertible {
    public var client: UInt64
    public var epoch: UInt64
    public var sequence: UInt64
    public var firstIncomplete: UInt64

    public init(client: UInt64, epoch: UInt64, sequence: UInt64, firstIncomplete: UInt64) {
        self.client = client
        self.epoch = epoch
        self.sequence = sequence
        self.firstIncomplete = firstIncomplete
    }

    public var description: String { "request \(client)/\(epoch)/\(sequence)" }

    /// The first byte of an enveloped command. No plain command of a deduplicated machine starts with it.
    public static let marker: UInt8 = 0xC5
    static let headerBytes = 1 + 4 * 8

    /// `command` wrapped with this request's identity: `0xC5`, client, epoch, sequence, firstIncomplete (u64
    /// little-endian each), then the command.
    public func envelope(_ command: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.headerBytes + command.count)
        bytes.append(Self.marker)
        for value in [client, epoch, sequence, firstIncomplete] {
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
        bytes += command
        return bytes
    }

    /// Splits an enveloped command into its request and the command; `nil` if `bytes` carries no envelope.
    public static func open(_ bytes: ArraySlice<UInt8>) -> (request: ClientRequest, command: ArraySlice<UInt8>)? {
        guard bytes.first == marker, bytes.count >= headerBytes else { return nil }
        var position = bytes.startIndex + 1
        func next() -> UInt64 {
            var value: UInt64 = 0
            for k in 0..<8 { value |= UInt64(bytes[position + k]) << UInt64(8 * k) }
            position += 8
            return value
        }
        let request = ClientRequest(client: next(), epoch: next(), sequence: next(), firstIncomplete: next())
        return (request, bytes[position...])
    }
}
