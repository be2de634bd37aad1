import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Write admission on a real server: with room for one write in flight, a second waits, then gets 503 with
/// `Retry-After` and `write.busy`, and nothing of it is stored; the first completes once its body arrives.
extension EndToEnd {
    @Suite("Write admission on a real process", .serialized)
    struct WriteAdmissionEndToEndTests {
        @Test("a write beyond the bound is refused with 503 and Retry-After, and stores nothing")
        func refusedBeyondTheBound() async throws {
            let arguments = ["--max-inflight-writes", "1", "--write-admission-wait", "300"]
            try await ProcessCluster.run(nodes: 1, arguments: arguments) { cluster in
                _ = await cluster.eventually(30, "the node takes writes") {
                    await cluster.request(1, "POST", "/api/v1/write", body: "warm v=1 1")?.status == 200
                }
                // A write whose body is still on its way holds the one place.
                let body = "adm v=1 1000\n"
                let held = try HeldRequest(
                    port: cluster.nodes[1]!.httpPort,
                    head:
                        "POST /api/v1/write HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n",
                    firstPart: String(body.prefix(4)))
                defer { held.close() }
                // The held write is admitted once the server has read its head; a probe sent before that may get
                // in (each probe writes its own point, so that only the refused one is checked).
                var refused: (reply: ProcessCluster.Reply, time: Int)?
                var probe = 0
                _ = await cluster.eventually(10, "a second write is refused while the first is held") {
                    probe += 1
                    let reply = await cluster.request(1, "POST", "/api/v1/write", body: "adm v=2 \(2_000 + probe)")
                    if let reply, reply.status == 503 { refused = (reply, 2_000 + probe) }
                    return refused != nil
                }
                guard let refused else { return }
                cluster.check(refused.reply.retryAfter == "1", "the refusal says when to retry: \(refused.reply)")
                cluster.check(
                    refused.reply.body.contains("write.busy"), "the refusal names its cause: \(refused.reply.body)")
                try held.finish(String(body.dropFirst(4)))
                cluster.check(held.status() == 200, "the held write completes once its body arrives")
                let stored = await cluster.sql(1, "SELECT v FROM adm WHERE time = 1000")
                cluster.check(
                    stored?.body.split(separator: "\n").count == 2, "the held write is stored: \(stored?.body ?? "")")
                let lost = await cluster.sql(1, "SELECT v FROM adm WHERE time = \(refused.time)")
                cluster.check(
                    lost?.status == 200 && (lost?.body.split(separator: "\n").count ?? 0) <= 1,
                    "the refused write stored nothing: \(lost?.body ?? "")")
            }
        }
    }
}

/// An HTTP request sent in two parts over a plain socket, so that the server holds it mid-body.
final class HeldRequest: Sendable {
    let socket: Int32

    init(port: Int, head: String, firstPart: String) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        try send(head + firstPart)
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(socket, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw POSIXError(.EIO)
        }
    }

    func finish(_ rest: String) throws { try send(rest) }

    /// The status code of the answer (waits for it; 0 if the connection closed first).
    func status() -> Int {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Glibc.recv(socket, $0.baseAddress, $0.count, 0) }
        guard count > 12 else { return 0 }
        let line = String(decoding: buffer[0..<count], as: UTF8.self)
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    func close() { _ = Glibc.close(socket) }
}
