import Foundation
import Hummingbird
import Meta
import Query

/// Authenticates every request of the routes it guards before their handlers run, and records the caller in
/// the context; handlers then state what they need (`context.authorize(.write(database))`). Ping and health
/// are registered outside it and stay open.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = FlotillaRequestContext

    let authenticator: Authenticator

    public init(authenticator: Authenticator) { self.authenticator = authenticator }

    public func handle(
        _ request: Request, context: FlotillaRequestContext,
        next: (Request, FlotillaRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.caller = try authenticator.authenticate(request)
        return try await next(request, context)
    }
}

/// HTTP authentication (docs/store.md, "Authentication"). Off by default: every request acts as root. On
/// (`--auth`), every endpoint but ping and health needs credentials: HTTP Basic, InfluxDB v1's `u`/`p` query
/// parameters, or v2's `Authorization: Token user:password`. root (password from `--root-password`) may do
/// anything; other users (CREATE USER) need a grant on the database (see `Caller.authorize`).
public struct Authenticator: Sendable {
    let enabled: Bool
    let rootPassword: String?
    let meta: MetaStore
    /// The node's cache of checked passwords.
    let credentials: VerifiedCredentials

    public init(enabled: Bool, rootPassword: String?, meta: MetaStore, credentials: VerifiedCredentials) {
        self.enabled = enabled
        self.rootPassword = rootPassword
        self.meta = meta
        self.credentials = credentials
    }

    static let credentialsRequired =
        "credentials required: HTTP Basic, u/p parameters or 'Authorization: Token user:password'"

    /// Who sent the request; 401 without valid credentials.
    public func authenticate(_ request: Request) throws(APIError) -> Caller {
        guard enabled else { return .root }
        guard let (user, password) = Self.credentials(request) else {
            throw .unauthorized(Self.credentialsRequired)
        }
        if user == "root" {
            guard let rootPassword, constantTimeEqual(password, rootPassword) else {
                throw .unauthorized("wrong password for user 'root'")
            }
            return .root
        }
        guard let info = meta.current.users[user], credentials.check(password, user: user, stored: info.passwordHash)
        else {
            throw .unauthorized("unknown user or wrong password for '\(user)'")
        }
        return .user(info)
    }

    private static func credentials(_ request: Request) -> (String, String)? {
        if let header = request.headers[.authorization] {
            if header.lowercased().hasPrefix("basic "),
                let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
            {
                return (String(text[..<colon]), String(text[text.index(after: colon)...]))
            }
            if header.lowercased().hasPrefix("token ") {
                let token = String(header.dropFirst(6))
                if let colon = token.firstIndex(of: ":") {
                    return (String(token[..<colon]), String(token[token.index(after: colon)...]))
                }
            }
        }
        let query = request.uri.queryParameters
        if let user = query.get("u"), let password = query.get("p") { return (user, password) }
        return nil
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = x.count ^ y.count
        for i in 0..<min(x.count, y.count) { difference |= Int(x[i] ^ y[i]) }
        return difference == 0
    }
}
