import ArgumentParser
import Foundation

/// `flotilla local`: the embedded default. Starts an N-node cluster on 127.0.0.1 as child processes, prints the
/// endpoints, and stops every node on Ctrl-C or SIGTERM. Data survives restarts (the README).
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local", abstract: "Run a local N-node cluster on 127.0.0.1 (child processes).")

    @Option(help: "Number of nodes.")
    var nodes = 3

    @Option(help: "Parent directory of the nodes' data directories (node1, node2, ...).")
    var dataDir = "./flotilla-data"

    @Option(help: "Node i serves HTTP on base+10(i-1) and Raft on base+10(i-1)+1.")
    var basePort = 8902

    @Option(help: "fsync the WAL: on (default) or off.")
    var fsync = "on"

    @Option(help: .hidden)
    var kvGroups: Int?

    private enum Event {
        case signal(Int32)
        case exited(Int, Int32)
    }

    func validate() throws {
        guard (1...9).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 9") }
        guard basePort > 0, basePort + 10 * nodes < 65536 else { throw ValidationError("--base-port is out of range") }
    }

    func run() async throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let root = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        let ids = Array(1...nodes)
        let raft = { (i: Int) in "127.0.0.1:\(basePort + 10 * (i - 1) + 1)" }
        let http = { (i: Int) in "127.0.0.1:\(basePort + 10 * (i - 1))" }
        let cluster = ids.map { "\($0)=\(raft($0))" }.joined(separator: ",")

        let (events, continuation) = AsyncStream<Event>.makeStream()
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            let source = DispatchSource.makeSignalSource(signal: sig)
            source.setEventHandler { continuation.yield(.signal(sig)) }
            source.resume()
            sources.append(source)
        }

        var children: [Int: Process] = [:]
        for i in ids {
            let directory = "\(root)/node\(i)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let logPath = "\(directory)/flotilla.log"
            if !FileManager.default.fileExists(atPath: logPath) {
                _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            }
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            log.seekToEndOfFile()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            var arguments = [
                "server", "--node-id", "\(i)", "--data-dir", directory, "--http-addr", http(i), "--raft-addr", raft(i),
                "--initial-cluster", cluster, "--fsync", fsync,
            ]
            if let kvGroups { arguments += ["--kv-groups", "\(kvGroups)"] }
            process.arguments = arguments
            process.standardOutput = log
            process.standardError = log
            process.terminationHandler = { continuation.yield(.exited(i, $0.terminationStatus)) }
            try process.run()
            children[i] = process
        }
        print("Flotilla: \(nodes)-node local cluster (data in \(root))")
        for i in ids {
            print("  node \(i): http://\(http(i))  raft \(raft(i))  log \(root)/node\(i)/flotilla.log")
        }
        print("Try: curl http://\(http(1))/api/v1/cluster   (Ctrl-C stops every node)")
        fflush(nil)

        var stopping = false
        for await event in events {
            switch event {
            case .signal:
                guard !stopping else { continue }
                stopping = true
                print("stopping \(children.count) nodes...")
                fflush(nil)
                for process in children.values where process.isRunning { kill(process.processIdentifier, SIGTERM) }
            case .exited(let i, let status):
                children[i] = nil
                if !stopping { print("node \(i) exited with status \(status); see \(root)/node\(i)/flotilla.log") }
                fflush(nil)
            }
            if children.isEmpty { break }
        }
        withExtendedLifetime(sources) {}
        print("all nodes stopped")
    }
}
