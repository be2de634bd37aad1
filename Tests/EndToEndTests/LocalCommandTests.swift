import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `flotilla local` as the README starts it: three nodes, Ctrl-C stops them all, a second start finds the data.
extension EndToEnd {
    @Suite("flotilla local", .serialized)
    struct LocalCommandTests {
        @Test("starts a working cluster, stops on SIGINT, and a second start on the same data keeps the writes")
        func localSurvivesRestart() async throws {
            let base = try freeBasePort()
            let directory = NSTemporaryDirectory() + "flotilla-local-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let client = HTTPProbe()

            for round in 1...2 {
                let output = Pipe()
                let local = Process()
                local.executableURL = URL(fileURLWithPath: ProcessCluster.binary)
                local.arguments = ["local", "--data-dir", directory, "--base-port", "\(base)", "--kv-groups", "2"]
                local.standardOutput = output
                local.standardError = output
                try local.run()
                let node1 = "http://127.0.0.1:\(base)"
                let node3 = "http://127.0.0.1:\(base + 20)"
                if round == 1 {
                    #expect(
                        await client.eventually {
                            await client.status("PUT", node1 + "/api/v1/kv/greeting", "hello") == 200
                        })
                } else {
                    #expect(await client.eventually { await client.body(node3 + "/api/v1/kv/greeting") == "hello" })
                }
                kill(local.processIdentifier, SIGINT)
                local.waitUntilExit()
                let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                #expect(local.terminationStatus == 0, "flotilla local exited cleanly: \(printed)")
                #expect(printed.contains("node 1: http://127.0.0.1:\(base)"), "the endpoints are printed")
                #expect(printed.contains("all nodes stopped"))
                #expect(await client.status("GET", node1 + "/api/v1/ping") == nil, "no node is left running")
            }
        }
    }
}

/// A minimal HTTP client for the tests.
struct HTTPProbe {
    func send(_ method: String, _ url: String, _ body: String? = nil) async -> (Int, String)? {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 5
        if let body { request.httpBody = Data(body.utf8) }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        guard let (data, response) = try? await session.data(for: request), let http = response as? HTTPURLResponse
        else { return nil }
        return (http.statusCode, String(decoding: data, as: UTF8.self))
    }

    func status(_ method: String, _ url: String, _ body: String? = nil) async -> Int? {
        await send(method, url, body)?.0
    }

    func body(_ url: String) async -> String? {
        guard let (status, body) = await send("GET", url), status == 200 else { return nil }
        return body
    }

    /// Polls `condition` on the live cluster for up to `seconds`.
    func eventually(_ seconds: Double = 30, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

/// A base port whose six ports (HTTP and Raft of three nodes) are free now.
func freeBasePort() throws -> Int {
    for _ in 0..<50 {
        let base = Int.random(in: 20_000...31_900)
        let ports = (0..<3).flatMap { [base + 10 * $0, base + 10 * $0 + 1] }
        if ports.allSatisfy(isFree) { return base }
    }
    throw POSIXError(.EADDRINUSE)
}

func isFree(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
