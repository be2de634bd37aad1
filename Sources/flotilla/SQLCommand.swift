import ArgumentParser
import Foundation
import NIOHTTP1

/// `flotilla sql`: runs one statement, or an interactive shell when none is given.
struct SQLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql", abstract: "Run a SQL statement, or an interactive shell when none is given.")

    @Option(help: "A node's HTTP address.") var url = "http://127.0.0.1:8902"
    @Option(help: "Tenant.") var tenant = "cnosdb"
    @Option(help: "Database.") var db = "public"
    @Option(help: "Output: table, csv or json.") var format = "table"
    @Argument(help: "The statement; none starts the shell.") var statement: String?

    func validate() throws {
        guard ["table", "csv", "json"].contains(format) else { throw ValidationError("--format is table, csv or json") }
    }

    func run() async throws {
        let client = FlotillaClient(url: url)
        if let statement {
            let ok = await execute(statement, client)
            await client.shutdown()
            if !ok { throw ExitCode(1) }
            return
        }
        print("Flotilla SQL shell on \(url) (tenant \(tenant), database \(db)); end statements with ';', \\q quits.")
        var pending = ""
        while true {
            print(pending.isEmpty ? "\(db) > " : "   ... ", terminator: "")
            fflush(nil)
            guard let line = readLine() else { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (trimmed == "\\q" || trimmed == "exit" || trimmed == "quit") { break }
            pending += (pending.isEmpty ? "" : "\n") + line
            if trimmed.hasSuffix(";") {
                _ = await execute(pending, client)
                pending = ""
            }
        }
        await client.shutdown()
    }

    private func execute(_ statement: String, _ client: FlotillaClient) async -> Bool {
        let accept = ["table": "text/table", "csv": "text/csv", "json": "application/json"][format]!
        do {
            let started = Date()
            let (status, body) = try await client.send(
                .POST, "/api/v1/sql?tenant=\(encodeQuery(tenant))&db=\(encodeQuery(db))", body: Array(statement.utf8),
                accept: accept)
            if status == 200 {
                print(body, terminator: body.hasSuffix("\n") ? "" : "\n")
                if format == "table" { print(String(format: "(%.3f s)", Date().timeIntervalSince(started))) }
                return true
            }
            print("error (HTTP \(status)): \(body)")
        } catch {
            print("error: \(error)")
        }
        return false
    }
}
