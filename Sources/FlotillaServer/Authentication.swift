import Foundation
import Hummingbird
import Meta
import Query

/// HTTP authentication and grants (docs/store.md, "Authentication"). Off by default: every request acts as root. On
/// (`--auth`), every endpoint but ping needs credentials: HTTP Basic, InfluxDB v1's `u`/`p` query parameters, or
/// v2's `Authorization: Token user:password`. root (password from `--root-password`) may do anything; other users
/// (CREATE USER) need a grant on the database: READ to query it, WRITE to write to it, ALL for both.
struct Authenticator: Sendable {
    let enabled: Bool
    let rootPassword: String?
    let meta: MetaStore
    /// The node's cache of checked passwords.
    let credentials: VerifiedCredentials

    enum Need {
        case any
        case read(String)
        case write(String)
        case admin
    }

    /// `nil` if the request may proceed, else the 401 or 403 response to send.
    func check(_ request: Request, _ need: Need) -> Response? {
        guard enabled else { return nil }
        guard let (user, password) = credentials(request) else {
            return unauthorized(
                "credentials required: HTTP Basic, u/p parameters or 'Authorization: Token user:password'")
        }
        if user == "root" {
            guard let rootPassword, constantTimeEqual(password, rootPassword) else {
                return unauthorized("wrong password for user 'root'")
            }
            return nil
        }
        guard let info = meta.current.users[user],
            credentials.check(password, user: user, stored: info.passwordHash)
        else {
            return unauthorized("unknown user or wrong password for '\(user)'")
        }
        let allowed: Bool
        switch need {
        case .any: allowed = true
        case .admin: allowed = info.isAdmin
        case .read(let database): allowed = ["read", "all"].contains(info.grants[database] ?? "")
        case .write(let database): allowed = ["write", "all"].contains(info.grants[database] ?? "")
        }
        guard allowed else {
            let what: String
            switch need {
            case .read(let d): what = "READ on database '\(d)'"
            case .write(let d): what = "WRITE on database '\(d)'"
            default: what = "root"
            }
            return errorResponse(.forbidden, code: "auth.forbidden", message: "user '\(user)' needs \(what)")
        }
        return nil
    }

    private func credentials(_ request: Request) -> (String, String)? {
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

    private func unauthorized(_ message: String) -> Response {
        // No WWW-Authenticate challenge: API clients send credentials up front (as with InfluxDB), and some HTTP
        // stacks stall on a challenge they cannot answer.
        errorResponse(.unauthorized, code: "auth.unauthorized", message: message)
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = x.count ^ y.count
        for i in 0..<min(x.count, y.count) { difference |= Int(x[i] ^ y[i]) }
        return difference == 0
    }
}
