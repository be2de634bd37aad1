import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Query

@testable import FlotillaHTTP

/// Runs `test` against the routes of `node` through Hummingbird's router test client (no sockets).
func withRoutes(
    _ node: FakeNode, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let app = Application(router: HTTPRoutes(node: node).router())
    try await app.test(.router) { client in try await test(client) }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object.
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    func header(_ name: String) -> String? { headers[.init(name)!] }
}

/// `Authorization: Basic` for `user:password`.
func basic(_ user: String, _ password: String) -> HTTPFields {
    [.authorization: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
}

/// A node with authentication on, root's password `secret`, and user `bob` (password `pw`) who may read
/// `metrics` and write `logs`.
func guardedNode() -> FakeNode {
    var node = FakeNode()
    node.settings.authentication = true
    node.settings.rootPassword = "secret"
    node.apply(
        .createUser(name: "bob", passwordHash: Users.bobHash, ifNotExists: false),
        .grant(user: "bob", database: "metrics", privilege: "read"),
        .grant(user: "bob", database: "logs", privilege: "write"))
    return node
}

enum Users {
    /// Made once: the derivation is slow by design.
    static let bobHash = PasswordHash.make("pw")
}
