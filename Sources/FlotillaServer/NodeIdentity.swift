import FlotillaHTTP
import Foundation
import RaftCore
import RaftTransport

/// Who a node is and which cluster it belongs to: fixed at first start and kept in `DATA/node.json`, so that a
/// restart needs only `--node-id` and `--data-dir`.
public struct NodeIdentity: Codable, Sendable, Equatable {
    public var nodeID: UInt64
    public var clusterID: UInt64
    public var raftAddress: String
    public var httpAddress: String
    /// The founding nodes' Raft addresses, by node id.
    public var initialCluster: [UInt64: String]
    /// How many key-value test groups the founders created (the time-series groups come with the store).
    public var kvGroups: Int

    /// The cluster id of a founding list: a hash of the sorted `id=address` pairs, the same on every founder.
    public static func clusterID(of initialCluster: [UInt64: String]) -> UInt64 {
        let text = initialCluster.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// Parses `1=HOST:PORT,2=HOST:PORT,...`.
    public static func parseInitialCluster(_ text: String) throws(ServerError) -> [UInt64: String] {
        var result: [UInt64: String] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let id = UInt64(parts[0].trimmingCharacters(in: .whitespaces)), id > 0,
                PeerAddress(String(parts[1])) != nil
            else {
                throw .badArgument("--initial-cluster: '\(item)' is not ID=HOST:PORT (for example 1=127.0.0.1:8903)")
            }
            guard result[id] == nil else { throw .badArgument("--initial-cluster names node \(id) twice") }
            result[id] = String(parts[1])
        }
        guard !result.isEmpty else { throw .badArgument("--initial-cluster is empty") }
        return result
    }

    static func load(from directory: String) throws -> NodeIdentity? {
        let path = directory + "/node.json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try JSONDecoder().decode(NodeIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes `node.json` atomically (temporary file, fsync, rename, directory fsync).
    func save(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let temporary = directory + "/node.json.tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ServerError.io("cannot create \(temporary): errno \(errno)") }
        _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard rename(temporary, directory + "/node.json") == 0 else {
            throw ServerError.io("cannot rename \(temporary): errno \(errno)")
        }
        let dir = open(directory, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// The meta group: hosted by up to the first three founders.
    public static let metaGroup = GroupID(1)

    /// The founding membership of every group this node helps create.
    var foundingGroups: [GroupID: Membership] {
        let founders = initialCluster.keys.sorted().map { NodeID($0) }
        // The first three founders vote in the meta group; every other founder follows its log as a learner, so
        // that every node keeps a current copy of the metadata.
        var groups: [GroupID: Membership] = [
            Self.metaGroup: Membership(voters: Set(founders.prefix(3)), learners: Set(founders.dropFirst(3)))
        ]
        for i in 0..<kvGroups {
            let replicas = (0..<min(3, founders.count)).map { founders[(i + $0) % founders.count] }
            groups[Self.kvGroup(i)] = Membership(voters: Set(replicas))
        }
        return groups
    }

    /// The id of the i-th key-value test group: far above the ids the meta group hands out to replica sets.
    static func kvGroup(_ i: Int) -> GroupID { GroupID(kvGroupBase + UInt64(i)) }
    static let kvGroupBase: UInt64 = 1 << 40
}

/// An error that stops the server from starting, with what to do about it.
public enum ServerError: Error, CustomStringConvertible {
    case badArgument(String)
    case io(String)
    case dataDirectoryInUse(String)

    public var description: String {
        switch self {
        case .badArgument(let text): return text
        case .io(let text): return text
        case .dataDirectoryInUse(let dir):
            return "the data directory \(dir) is in use by another flotilla process; stop it or pick another --data-dir"
        }
    }
}

extension NodeIdentity {
    /// The identity of a node joining a running cluster, from the running node's answer.
    init(joining answer: JoinAnswer, options: ServerOptions) throws(ServerError) {
        guard let clusterID = UInt64(answer.clusterID) else {
            throw .badArgument(
                "the node asked to join answered a cluster id '\(answer.clusterID)' that is not a number")
        }
        var founders: [UInt64: String] = [:]
        for (id, address) in answer.initialCluster {
            guard let id = UInt64(id) else {
                throw .badArgument("the node asked to join answered a founder id '\(id)'")
            }
            founders[id] = address
        }
        guard let raft = options.raftAddress else {
            throw .badArgument("--join needs --raft-addr (this node's Raft address, HOST:PORT)")
        }
        self.init(
            nodeID: options.nodeID, clusterID: clusterID, raftAddress: raft,
            httpAddress: options.httpAddress ?? "127.0.0.1:8902", initialCluster: founders, kvGroups: 0)
    }
}
