import ArgumentParser
import Foundation
import NIOHTTP1

/// `flotilla write`: sends line protocol from a file or standard input.
struct WriteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write", abstract: "Write line protocol from a file or standard input.")

    @Option(help: "A node's HTTP address.") var url = "http://127.0.0.1:8902"
    @Option(help: "Tenant.") var tenant = "cnosdb"
    @Option(help: "Database.") var db = "public"
    @Option(help: "Timestamp unit: ns, us, ms, s.") var precision = "ns"
    @Argument(help: "A file of line protocol, or - for standard input.") var file = "-"

    func run() async throws {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            data = contents
        }
        let client = FlotillaClient(url: url)
        defer { Task { await client.shutdown() } }
        let path =
            "/api/v1/write?tenant=\(encodeQuery(tenant))&db=\(encodeQuery(db))&precision=\(encodeQuery(precision))"
        let (status, body) = try await client.send(.POST, path, body: Array(data))
        await client.shutdown()
        guard status == 200 else {
            FileHandle.standardError.write(Data("write failed (HTTP \(status)): \(body)\n".utf8))
            throw ExitCode(1)
        }
        let lines = data.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty && $0.first != UInt8(ascii: "#") }
            .count
        print("wrote \(lines) lines")
    }
}
