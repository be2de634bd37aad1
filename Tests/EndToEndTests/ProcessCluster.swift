import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Test support: real `flotilla server` processes on loopback with free ports, each with its own data directory
/// and log. `run` prints every node's log when the test body throws or an expectation failed.
final class ProcessCluster: @unchecked Sendable {
    // @unchecked: used from one test task at a time; `Process` objects are only touched from that task.
    struct Node {
        var id: Int
        var httpPort: Int
        var raftPort: Int
        var directory: String
        var process: Process?
        var http: String { "http://127.0.0.1:\(httpPort)" }
    }

    let root: String
    var nodes: [Int: Node] = [:]
    let extraArguments: [String]
    var initialCluster: String
    /// Nodes `1...founders` found the cluster; the others start with `--join` through node 1.
    let founders: Int
    /// Runs before a node's process starts, with its id and data directory (a test mounts a small disk there).
    let beforeStart: (Int, String) throws -> Void
    /// Environment variables added for a node's process (a test preloads a faulty fsync into one).
    var environment: [Int: [String: String]] = [:]
    private(set) var failed = false

    /// The `flotilla` binary beside the test bundle (SwiftPM builds it because the test target depends on it).
    static var binary: String {
        if let override = ProcessInfo.processInfo.environment["FLOTILLA_BIN"] { return override }
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("flotilla").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return "flotilla"
    }

    /// Starts the founders; nodes beyond `founders` are started (joining) by the test.
    init(
        nodes count: Int, founders: Int? = nil, arguments: [String] = [],
        environment: [Int: [String: String]] = [:], beforeStart: @escaping (Int, String) throws -> Void = { _, _ in }
    ) throws {
        root = NSTemporaryDirectory() + "flotilla-e2e-\(UUID().uuidString.prefix(8))"
        extraArguments = arguments
        self.environment = environment
        self.beforeStart = beforeStart
        self.founders = founders ?? count
        var ports = try freePorts(2 * count)
        var list: [String] = []
        for id in 1...count {
            let node = Node(
                id: id, httpPort: ports.removeFirst(), raftPort: ports.removeFirst(), directory: "\(root)/node\(id)")
            nodes[id] = node
            if id <= self.founders { list.append("\(id)=127.0.0.1:\(node.raftPort)") }
        }
        initialCluster = list.joined(separator: ",")
        for id in 1...self.founders { try start(id) }
    }

    /// Runs `body` against a new cluster; on failure prints each node's log; always stops the nodes.
    static func run(
        nodes: Int, founders: Int? = nil, arguments: [String] = [], environment: [Int: [String: String]] = [:],
        beforeStart: @escaping (Int, String) throws -> Void = { _, _ in },
        _ body: (ProcessCluster) async throws -> Void
    ) async throws {
        let cluster = try ProcessCluster(
            nodes: nodes, founders: founders, arguments: arguments, environment: environment,
            beforeStart: beforeStart)
        defer { cluster.stopAll() }
        do {
            try await body(cluster)
        } catch {
            cluster.printLogs(because: "\(error)")
            throw error
        }
        if cluster.failed { cluster.printLogs(because: "an expectation failed") }
    }

    func start(_ id: Int) throws {
        var node = nodes[id]!
        try FileManager.default.createDirectory(atPath: node.directory, withIntermediateDirectories: true)
        try beforeStart(id, node.directory)
        let logPath = node.directory + "/flotilla.log"
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments =
            [
                "server", "--node-id", "\(id)", "--data-dir", node.directory, "--http-addr",
                "127.0.0.1:\(node.httpPort)", "--raft-addr", "127.0.0.1:\(node.raftPort)",
                "--fault-injection", "--log-level", "debug",
            ]
            + (id <= founders
                ? ["--initial-cluster", initialCluster] : ["--join", "127.0.0.1:\(nodes[1]!.httpPort)"])
            + extraArguments
        process.standardOutput = log
        process.standardError = log
        if let extra = environment[id] {
            process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        }
        try process.run()
        node.process = process
        nodes[id] = node
    }

    /// kill -9: nothing is flushed, nothing is shut down.
    func kill9(_ id: Int) {
        guard let process = nodes[id]?.process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        nodes[id]?.process = nil
    }

    func stopAll() {
        for (id, node) in nodes {
            guard let process = node.process else { continue }
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            nodes[id]?.process = nil
        }
        if !failed { try? FileManager.default.removeItem(atPath: root) }
    }

    func pid(_ id: Int) -> Int32? { nodes[id]?.process?.processIdentifier }

    func printLogs(because reason: String) {
        failed = true
        print("==== end-to-end failure: \(reason); node logs follow (data in \(root))")
        for id in nodes.keys.sorted() {
            let text = (try? String(contentsOfFile: nodes[id]!.directory + "/flotilla.log", encoding: .utf8)) ?? ""
            print("---- node \(id) log (last 150 lines)")
            print(text.split(separator: "\n").suffix(150).joined(separator: "\n"))
        }
    }

    /// Records an issue (and marks the run failed so the logs are printed) when `condition` is false.
    func check(_ condition: Bool, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if !condition {
            failed = true
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        }
    }

    // MARK: - HTTP

    struct Reply: Sendable {
        var status: Int
        var body: String
        /// The answer came without a Content-Length (chunked: a body written as it was made).
        var chunked = false
        /// The `Retry-After` header, if any.
        var retryAfter: String?
    }

    func request(
        _ id: Int, _ method: String, _ path: String, body: String? = nil, accept: String? = nil,
        authorization: String? = nil, timeout: TimeInterval = 10
    ) async -> Reply? {
        var request = URLRequest(url: URL(string: nodes[id]!.http + path)!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        if let body { request.httpBody = Data(body.utf8) }
        if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        guard let (data, response) = try? await session.data(for: request), let http = response as? HTTPURLResponse
        else { return nil }
        return Reply(
            status: http.statusCode, body: String(decoding: data, as: UTF8.self),
            chunked: http.value(forHTTPHeaderField: "Content-Length") == nil,
            retryAfter: http.value(forHTTPHeaderField: "Retry-After"))
    }

    func put(_ id: Int, _ key: String, _ value: String) async -> Bool {
        await request(id, "PUT", "/api/v1/kv/\(key)", body: value)?.status == 200
    }

    func get(_ id: Int, _ key: String, stale: Bool = false) async -> String? {
        guard let reply = await request(id, "GET", "/api/v1/kv/\(key)" + (stale ? "?consistency=stale" : "")),
            reply.status == 200
        else { return nil }
        return reply.body
    }

    /// The node's view of the cluster (`/api/v1/cluster`).
    func clusterView(_ id: Int) async -> [String: Any]? {
        guard let reply = await request(id, "GET", "/api/v1/cluster", timeout: 5), reply.status == 200 else {
            return nil
        }
        return try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
    }

    func groups(_ id: Int) async -> [[String: Any]] { await clusterView(id)?["groups"] as? [[String: Any]] ?? [] }

    /// Polls `condition` until it holds or `seconds` pass (a condition on a live system, not a fixed sleep).
    func eventually(
        _ seconds: Double = 20, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async -> Bool
    ) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        check(false, "timed out after \(seconds) s waiting for: \(what)", sourceLocation: sourceLocation)
        return false
    }
}

/// Ports that are free right now, picked at random below the kernel's ephemeral range (32768 and up), so that
/// the outgoing connections of tests running at the same time cannot take them between the check and the
/// server's bind.
func freePorts(_ count: Int) throws -> [Int] {
    var ports: [Int] = []
    var attempts = 0
    while ports.count < count {
        attempts += 1
        guard attempts < 10_000 else { throw POSIXError(.EADDRINUSE) }
        let port = Int.random(in: 20_000..<32_000)
        if !ports.contains(port) && isFree(port) { ports.append(port) }
    }
    return ports
}
