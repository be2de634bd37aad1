import Foundation
import Testing

/// Clients nobody here wrote, through their first steps against a real 3-node cluster: InfluxDB's 1.x Python
/// client (`influxdb`), its 2.x client (`influxdb-client`), Debian's `influx` CLI, CnosDB's Python client
/// (`cnos-connector`), and what Grafana's InfluxQL data source and CnosDB's Grafana plugin send, replayed. Each is a script in `scripts/clients/` that exits non-zero with what differed.
/// `.ci/run` installs the clients and sets FLOTILLA_REQUIRE_CLIENTS=1, so in CI none can be skipped.
extension EndToEnd {
    @Suite("Ecosystem clients", .serialized)
    struct EcosystemClientTests {
        struct Client: Sendable, CustomStringConvertible {
            let script: String
            /// A command that exits 0 when the client is installed.
            let probe: [String]
            let install: String
            var description: String { script }
        }

        static let clients = [
            Client(
                script: "influxdb-v1-check.py", probe: ["python3", "-c", "import influxdb"],
                install: "pip install influxdb"),
            Client(
                script: "influxdb-v2-check.py", probe: ["python3", "-c", "import influxdb_client"],
                install: "pip install influxdb-client"),
            Client(
                script: "influx-cli-check.py", probe: ["influx", "-version"],
                install: "apt-get install influxdb-client"),
            Client(script: "grafana-influxql-replay.py", probe: ["python3", "-c", "import json"], install: "python3"),
            Client(
                script: "cnos-connector-check.py", probe: ["python3", "-c", "import cnosdb_connector, pandas"],
                install: "pip install cnos-connector pandas"),
            Client(script: "cnosdb-grafana-replay.py", probe: ["python3", "-c", "import json"], install: "python3"),
        ]

        static func installed(_ client: Client) -> Bool {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            probe.arguments = client.probe
            probe.standardOutput = FileHandle.nullDevice
            probe.standardError = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { return false }
            probe.waitUntilExit()
            return probe.terminationStatus == 0
        }

        @Test("InfluxDB's and CnosDB's clients, the influx CLI and both Grafana data sources through their first steps")
        func clientsFirstSteps() async throws {
            let required = ProcessInfo.processInfo.environment["FLOTILLA_REQUIRE_CLIENTS"] == "1"
            let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("scripts/clients")
            var runnable: [Client] = []
            for client in Self.clients {
                if Self.installed(client) {
                    runnable.append(client)
                } else {
                    #expect(!required, "\(client.script) needs a client that is not installed (\(client.install))")
                    print("skipped \(client.script): not installed (\(client.install))")
                }
            }
            guard !runnable.isEmpty else { return }
            try await ProcessCluster.run(nodes: 3) { cluster in
                guard await cluster.waitForLeaders(groups: 1) else { return }
                _ = await cluster.eventually(20, "the cluster accepts writes") {
                    await cluster.request(2, "POST", "/api/v1/write", body: "warmup v=1 1")?.status == 200
                }
                // Each client talks to another node, so that some requests are forwarded to leaders elsewhere.
                for (index, client) in runnable.enumerated() {
                    let node = 1 + index % 3
                    let python = Process()
                    let output = Pipe()
                    python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                    python.arguments = ["python3", scripts.appendingPathComponent(client.script).path, cluster.nodes[node]!.http]
                    python.standardOutput = output
                    python.standardError = output
                    try python.run()
                    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    python.waitUntilExit()
                    print("\(client.script) against node \(node): \(text)")
                    cluster.check(python.terminationStatus == 0, "\(client.script) failed: \(text)")
                }
            }
        }
    }
}
