import Hummingbird
import HummingbirdTesting
import Testing

@testable import FlotillaHTTP

@Suite("Authentication: the middleware's 401s, the handlers' 403s, open ping and health", .timeLimit(.minutes(1)))
struct AuthenticationTests {
    @Test("no credentials: 401 with the ways to send them")
    func noCredentials() async throws {
        try await withRoutes(guardedNode()) { client in
            for path in ["/api/v1/cluster", "/metrics", "/api/v2/orgs"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .unauthorized, "\(path)")
                #expect(response.headers[.wwwAuthenticate] == nil)
                #expect(
                    response.text
                        == #"{"error_code":"auth.unauthorized","error_message":"credentials required: HTTP Basic, u\/p parameters or 'Authorization: Token user:password'"}"#
                )
            }
            let write = try await client.execute(
                uri: "/write?db=logs", method: .post, body: ByteBuffer(string: "m v=1"))
            #expect(write.status == .unauthorized)
        }
    }

    @Test("a wrong password: 401, for root and for a user, in each way of sending credentials")
    func wrongPassword() async throws {
        try await withRoutes(guardedNode()) { client in
            let root = try await client.execute(uri: "/metrics", method: .get, headers: basic("root", "nope"))
            #expect(root.status == .unauthorized)
            #expect(root.object["error_message"] as? String == "wrong password for user 'root'")
            let user = try await client.execute(uri: "/metrics?u=bob&p=nope", method: .get)
            #expect(user.status == .unauthorized)
            #expect(user.object["error_message"] as? String == "unknown user or wrong password for 'bob'")
            let token = try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Token bob:nope"])
            #expect(token.status == .unauthorized)
            let unknown = try await client.execute(uri: "/metrics?u=eve&p=pw", method: .get)
            #expect(unknown.object["error_message"] as? String == "unknown user or wrong password for 'eve'")
        }
    }

    @Test("a missing grant: 403 naming what the user needs")
    func missingGrant() async throws {
        try await withRoutes(guardedNode()) { client in
            let write = try await client.execute(
                uri: "/api/v1/write?db=metrics", method: .post, headers: basic("bob", "pw"),
                body: ByteBuffer(string: "m v=1"))
            #expect(write.status == .forbidden)
            #expect(
                write.text
                    == #"{"error_code":"auth.forbidden","error_message":"user 'bob' needs WRITE on database 'metrics'"}"#
            )
            let admin = try await client.execute(
                uri: "/api/v1/debug/isolate", method: .post, headers: basic("bob", "pw"), body: ByteBuffer(string: "2"))
            #expect(admin.status == .forbidden)
            #expect(admin.object["error_message"] as? String == "user 'bob' needs root")
            let ddl = try await client.execute(
                uri: "/api/v1/sql?db=metrics", method: .post, headers: basic("bob", "pw"),
                body: ByteBuffer(string: "DROP DATABASE metrics"))
            #expect(ddl.status == .forbidden)
        }
    }

    @Test("a grant lets its user through to the handler")
    func grantAllows() async throws {
        let node = guardedNode()
        try await withRoutes(node) { client in
            let write = try await client.execute(
                uri: "/write?db=logs", method: .post, headers: [.authorization: "Token bob:pw"],
                body: ByteBuffer(string: "m v=1"))
            #expect(write.status == .noContent)
        }
        #expect(node.writes.all == [Array("m v=1".utf8)])
    }

    @Test("root may do anything, in each way of sending credentials")
    func rootAllowed() async throws {
        let node = guardedNode()
        try await withRoutes(node) { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: basic("root", "secret"))
            #expect(metrics.status == .ok)
            #expect(metrics.text == "flotilla_test_metric 1\n")
            #expect(metrics.headers[.contentType] == "text/plain; version=0.0.4")
            let query = try await client.execute(uri: "/metrics?u=root&p=secret", method: .get)
            #expect(query.status == .ok)
            let write = try await client.execute(
                uri: "/api/v1/write?db=metrics", method: .post, headers: [.authorization: "Token root:secret"],
                body: ByteBuffer(string: "m v=2"))
            #expect(write.status == .ok)
        }
        #expect(node.writes.all.count == 1)
    }

    @Test("ping, health and Flux's 501 stay open; an unknown path is a plain 404")
    func openRoutes() async throws {
        try await withRoutes(guardedNode()) { client in
            let expected: [(String, HTTPRequest.Method, HTTPResponse.Status)] = [
                ("/ping", .get, .noContent), ("/ping", .head, .noContent), ("/api/v1/ping", .get, .ok),
                ("/api/v1/health", .get, .ok), ("/health", .get, .ok), ("/api/v2/health", .get, .ok),
                ("/api/v2/query", .post, .notImplemented), ("/nowhere", .get, .notFound),
            ]
            for (path, method, status) in expected {
                let response = try await client.execute(uri: path, method: method)
                #expect(response.status == status, "\(method) \(path)")
            }
        }
    }

    @Test("authentication off: every request acts as root")
    func authenticationOff() async throws {
        try await withRoutes(FakeNode()) { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            let isolate = try await client.execute(
                uri: "/api/v1/debug/isolate", method: .post, body: ByteBuffer(string: "2"))
            #expect(isolate.status == .notFound)  // past the admin check: fault injection is off
            #expect(isolate.object["error_code"] as? String == "debug.disabled")
        }
    }

    @Test("a caller nobody authenticated is refused, whatever it needs")
    func anonymousRefused() {
        for need in [Need.any, .read("d"), .write("d"), .admin] {
            #expect(throws: APIError.self) { try Caller.anonymous.authorize(need) }
        }
        #expect(throws: Never.self) { try Caller.root.authorize(.admin) }
    }
}
