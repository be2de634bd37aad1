import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP client the CLI commands share (AsyncHTTPClient: pooled keep-alive connections).
struct FlotillaClient {
    let http: HTTPClient
    let base: String

    init(url: String, connections: Int = 8) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, connections))
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        base = url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// Sends a request; returns the status and the body as text.
    func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, accept: String? = nil,
        basicAuth: (user: String, password: String)? = nil
    ) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let (user, password) = basicAuth {
            request.headers.add(
                name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        }
        if let accept { request.headers.add(name: "Accept", value: accept) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await http.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 256 << 20)
        return (Int(response.status.code), String(buffer: buffer))
    }

    func shutdown() async { try? await http.shutdown() }
}

/// Percent-encodes a query parameter value.
func encodeQuery(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~")))
        ?? value
}
