import Foundation
import Testing

/// A client nobody here wrote: the Python package `influxdb-client` writes through `/api/v2/write` (plain and
/// gzip), and the points read back through `/api/v1/sql`. `.ci/run` installs the package and sets
/// FLOTILLA_REQUIRE_INFLUX_CLIENT=1, so in CI the test cannot be skipped.
extension EndToEnd {
    @Suite("InfluxDB client", .serialized)
    struct InfluxClientTests {
        static var packageInstalled: Bool {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            probe.arguments = ["python3", "-c", "import influxdb_client"]
            probe.standardError = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { return false }
            probe.waitUntilExit()
            return probe.terminationStatus == 0
        }

        @Test("influxdb-client writes through /api/v2/write and the points read back through SQL")
        func stockClientRoundTrip() async throws {
            let required = ProcessInfo.processInfo.environment["FLOTILLA_REQUIRE_INFLUX_CLIENT"] == "1"
            guard Self.packageInstalled else {
                #expect(!required, "influxdb-client is not installed (pip install influxdb-client)")
                print("skipped: the Python package influxdb-client is not installed")
                return
            }
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("scripts/influx-client-check.py").path
            try await ProcessCluster.run(nodes: 3) { cluster in
                guard await cluster.waitForLeaders(groups: 1) else { return }
                _ = await cluster.eventually(20, "the cluster accepts writes") {
                    await cluster.request(2, "POST", "/api/v1/write", body: "warmup v=1 1")?.status == 200
                }
                let python = Process()
                let output = Pipe()
                python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                python.arguments = ["python3", script, cluster.nodes[2]!.http]
                python.standardOutput = output
                python.standardError = output
                try python.run()
                let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                python.waitUntilExit()
                print(text)
                cluster.check(python.terminationStatus == 0, "influxdb-client round trip failed: \(text)")
            }
        }
    }
}
