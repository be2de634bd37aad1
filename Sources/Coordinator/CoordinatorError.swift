import Meta

/// Why a write, read or DDL statement failed, with the HTTP status it maps to (docs/store.md).
public struct CoordinatorError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case badRequest, unauthorized, forbidden, notFound, conflict, tooLarge, unavailable, insufficientStorage
        case internalError
    }
    public var kind: Kind
    /// Stable, e.g. `write.malformed`, `meta.database_not_found`, `raft.unavailable`.
    public var code: String
    public var message: String

    public init(_ kind: Kind, _ code: String, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// A refused meta command: not found → 404, exists or conflict → 409, invalid → 400.
    public init(refused result: MetaResult) {
        let kind: Kind
        switch result.failureKind {
        case .notFound?: kind = .notFound
        case .exists?, .conflict?: kind = .conflict
        case .invalid?, nil: kind = .badRequest
        }
        self.init(kind, result.code, result.message)
    }

    public var description: String { "\(code): \(message)" }

    public var status: Int {
        switch kind {
        case .badRequest: return 400
        case .unauthorized: return 401
        case .forbidden: return 403
        case .notFound: return 404
        case .conflict: return 409
        case .tooLarge: return 413
        case .unavailable: return 503
        case .insufficientStorage: return 507
        case .internalError: return 500
        }
    }
}
