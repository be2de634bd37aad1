import ArgumentParser
import FlotillaServer
import Foundation
import Logging
import Metrics
import Prometheus
import RaftStorage

/// `flotilla server`: one node of a cluster (the README).
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server", abstract: "Run one node of a Flotilla cluster.")

    @Option(help: "This node's id, a positive integer.")
    var nodeId: UInt64?

    @Option(help: "Where this node keeps its WAL, snapshots and identity.")
    var dataDir: String?

    @Option(help: "HTTP API address, HOST:PORT (default 127.0.0.1:8902).")
    var httpAddr: String?

    @Option(help: "Raft (internal) address, HOST:PORT (default: this node's entry in --initial-cluster).")
    var raftAddr: String?

    @Option(help: "The founding nodes' Raft addresses: 1=HOST:PORT,2=HOST:PORT,3=HOST:PORT (same on every founder).")
    var initialCluster: String?

    @Option(
        help:
            "Join a running cluster: the HTTP address (HOST:PORT) of any of its nodes. Only on the first start; needs --raft-addr."
    )
    var join: String?

    @Option(help: "A TOML file with the same settings (node-id, data-dir, http-addr, ...); flags override it.")
    var config: String?

    @Option(help: "fsync the WAL before acknowledging: on (default) or off (benchmarks only; loses data on a crash).")
    var fsync: String?

    @Flag(
        help:
            "Drop a damaged WAL record in the middle of the log and everything after it, instead of refusing to start.")
    var repair = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(help: .hidden)
    var kvGroups: Int?

    @Option(help: .hidden)
    var snapshotEntries: Int?

    @Option(help: "Field values a vnode holds in memory before it flushes them to a column file.")
    var memtableValues: Int?

    @Option(help: "Rows a replica set sends in one page of a large SELECT (its answer streams page by page).")
    var queryPageRows: Int?

    @Flag(help: .hidden)
    var faultInjection = false

    @Flag(help: "Require HTTP Basic authentication on every endpoint but ping.")
    var auth = false

    @Option(help: "root's password when --auth is on.")
    var rootPassword: String?

    @Option(help: "Largest accepted request body in bytes (default 64 MiB).")
    var maxBodyBytes: Int?

    @Option(help: "Write requests this node works on at once; more wait, then get 503 (default 256).")
    var maxInflightWrites: Int?

    @Option(help: "Body bytes of the write requests this node works on at once (default 4 MiB).")
    var maxInflightWriteBytes: Int?

    @Option(help: "Milliseconds a write request waits for room before it is refused with 503 (default 1000).")
    var writeAdmissionWait: Int?

    func run() async throws {
        var file: [String: String] = [:]
        if let config { file = try ConfigFile.load(config) }
        guard let nodeID = nodeId ?? file["node-id"].flatMap(UInt64.init), nodeID > 0 else {
            throw ValidationError("--node-id is required (a positive integer)")
        }
        guard let dataDir = dataDir ?? file["data-dir"] else { throw ValidationError("--data-dir is required") }
        var options = ServerOptions(nodeID: nodeID, dataDirectory: dataDir)
        options.httpAddress = httpAddr ?? file["http-addr"]
        options.raftAddress = raftAddr ?? file["raft-addr"]
        if let join = join ?? file["join"], !FileManager.default.fileExists(atPath: dataDir + "/node.json") {
            options.joined = try await askToJoin(
                join, options: options, password: rootPassword ?? file["root-password"])
        }
        options.initialCluster = initialCluster ?? file["initial-cluster"]
        switch fsync ?? file["fsync"] ?? "on" {
        case "on", "true", "always": options.fsync = .always
        case "off", "false", "never": options.fsync = .off
        case let other: throw ValidationError("--fsync must be on or off, not '\(other)'")
        }
        options.repairWAL = repair
        options.kvGroups = kvGroups ?? file["kv-groups"].flatMap(Int.init) ?? 0
        options.snapshotEveryEntries = snapshotEntries ?? file["snapshot-entries"].flatMap(Int.init) ?? 10_000
        if let values = memtableValues ?? file["memtable-values"].flatMap(Int.init) {
            guard values > 0 else { throw ValidationError("--memtable-values must be positive, not \(values)") }
            options.memtableValues = values
        }
        if let rows = queryPageRows ?? file["query-page-rows"].flatMap(Int.init) {
            guard rows > 0 else { throw ValidationError("--query-page-rows must be positive, not \(rows)") }
            options.queryPageRows = rows
        }
        options.faultInjection = faultInjection
        options.authentication = auth || file["auth"] == "true"
        options.rootPassword = rootPassword ?? file["root-password"]
        if options.authentication && options.rootPassword == nil {
            throw ValidationError("--auth needs --root-password (root's password)")
        }
        options.maxBodyBytes = maxBodyBytes ?? file["max-body-bytes"].flatMap(Int.init) ?? 64 << 20
        options.maxInflightWrites =
            maxInflightWrites ?? file["max-inflight-writes"].flatMap(Int.init) ?? options.maxInflightWrites
        options.maxInflightWriteBytes =
            maxInflightWriteBytes ?? file["max-inflight-write-bytes"].flatMap(Int.init)
            ?? options.maxInflightWriteBytes
        options.writeAdmissionWaitMilliseconds =
            writeAdmissionWait ?? file["write-admission-wait"].flatMap(Int.init)
            ?? options.writeAdmissionWaitMilliseconds
        guard options.maxInflightWrites > 0, options.maxInflightWriteBytes > 0,
            options.writeAdmissionWaitMilliseconds >= 0
        else { throw ValidationError("the write admission bounds must be positive") }

        let level = Logger.Level(rawValue: logLevel ?? file["log-level"] ?? "info") ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "flotilla")
        do {
            let node = try FlotillaNode(options: options, registry: registry, logger: logger)
            try await node.run()
        } catch let error as ServerError {
            logger.critical("cannot start: \(error)")
            throw ExitCode(2)
        }
    }

    /// Asks the running node at `address` to record this one, and returns its answer (retrying for a while when
    /// its cluster has no meta leader yet).
    private func askToJoin(_ address: String, options: ServerOptions, password: String?) async throws -> JoinAnswer {
        guard let raft = options.raftAddress else {
            throw ValidationError("--join needs --raft-addr (this node's Raft address, HOST:PORT)")
        }
        let request = JoinRequest(
            nodeID: options.nodeID, raftAddress: raft, httpAddress: options.httpAddress ?? "127.0.0.1:8902")
        let client = FlotillaClient(url: address.hasPrefix("http") ? address : "http://" + address)
        defer { Task { [client] in await client.shutdown() } }
        var last = ""
        for _ in 0..<60 {
            let status: Int
            let body: String
            do {
                (status, body) = try await client.send(
                    .POST, "/api/v1/cluster/join", body: Array(try JSONEncoder().encode(request)),
                    basicAuth: password.map { ("root", $0) })
            } catch {
                last = "\(error)"
                try await Task.sleep(for: .seconds(1))
                continue
            }
            if status == 200 { return try JSONDecoder().decode(JoinAnswer.self, from: Data(body.utf8)) }
            last = "HTTP \(status): \(body)"
            guard status == 503 else { break }
            try await Task.sleep(for: .seconds(1))
        }
        throw ValidationError("cannot join through \(address): \(last)")
    }
}
