import Hummingbird
import Meta

/// The context every route sees: Hummingbird's core context plus who sent the request, as
/// `AuthenticationMiddleware` established it before the handler runs.
public struct FlotillaRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `.anonymous` on the open routes (ping, health) and until the middleware ran.
    public var caller: Caller = .anonymous

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// Throws 403 unless the caller may do what `need` says (401 if nobody was authenticated: a route that
    /// states a need must sit behind `AuthenticationMiddleware`).
    public func authorize(_ need: Need) throws(APIError) {
        try caller.authorize(need)
    }
}

/// Who sent a request.
public enum Caller: Sendable, Equatable {
    /// Nobody checked: an open route.
    case anonymous
    /// root, or any request while authentication is off.
    case root
    /// A user of `CREATE USER`, with the grants meta held when the request was authenticated.
    case user(UserInfo)

    /// Throws unless this caller may do what `need` says: root may do anything; a user needs a grant on the
    /// database (READ or ALL to read, WRITE or ALL to write), admin rights for `.admin`.
    public func authorize(_ need: Need) throws(APIError) {
        switch self {
        case .anonymous:
            throw .unauthorized(Authenticator.credentialsRequired)
        case .root:
            return
        case .user(let info):
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
                throw APIError(.forbidden, code: "auth.forbidden", message: "user '\(info.name)' needs \(what)")
            }
        }
    }
}

/// What a handler needs of its caller.
public enum Need: Sendable, Equatable {
    /// Any authenticated caller.
    case any
    /// READ (or ALL) on the database.
    case read(String)
    /// WRITE (or ALL) on the database.
    case write(String)
    /// root (or a user with admin rights).
    case admin
}
