import ArgumentParser
import Foundation
import NIOHTTP1

/// `flotilla status`: nodes, groups, leaders, terms, commit/applied indexes and lag, from `/api/v1/cluster`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the cluster: nodes and groups.")

    @Option(help: "A node's HTTP address.") var url = "http://127.0.0.1:8902"

    func run() async throws {
        let client = FlotillaClient(url: url)
        let (status, body) = try await client.send(.GET, "/api/v1/cluster")
        await client.shutdown()
        guard status == 200, let view = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            print("cannot read \(url)/api/v1/cluster (HTTP \(status))")
            throw ExitCode(1)
        }
        print("cluster \(view["cluster_id"] ?? "?"), seen from node \(view["node_id"] ?? "?")")
        print("NODE  STATE        RAFT                   HTTP")
        for node in view["nodes"] as? [[String: Any]] ?? [] {
            print(
                pad("\(node["id"] ?? "")", 6) + pad("\(node["state"] ?? "")", 13)
                    + pad("\(node["raft_addr"] ?? "-")", 23)
                    + "\(node["http_addr"] ?? "-")")
        }
        print("GROUP          KIND  DATABASE         ROLE(here)   LEADER  TERM   COMMIT   APPLIED  LAG  MEMBERS")
        for group in view["groups"] as? [[String: Any]] ?? [] {
            let commit = group["commit"] as? Int ?? 0
            let applied = group["applied"] as? Int ?? 0
            let last = group["last_index"] as? Int ?? 0
            let members = (group["members"] as? [[String: Any]] ?? []).map { "\($0["node"] ?? "")" }.joined(
                separator: ",")
            let database = group["database"] as? String ?? "-"
            print(
                pad("\(group["id"] ?? "")", 15) + pad("\(group["kind"] ?? "")", 6) + pad(database, 17)
                    + pad("\(group["role"] ?? "")", 13) + pad("\(group["leader"] as? Int ?? 0)", 8)
                    + pad("\(group["term"] ?? "")", 7) + pad("\(commit)", 9) + pad("\(applied)", 9)
                    + pad("\(max(0, last - applied))", 5) + members)
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
