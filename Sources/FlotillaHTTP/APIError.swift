import Coordinator
import Foundation
import Hummingbird
import MultiRaft
import NIOCore

/// Every answer other than a handler's normal one: a status, a stable code and a message that says what was
/// wrong and how to fix it. This is the one place where typed errors (`CoordinatorError`, `HostError`,
/// `BodyError`) become responses; handlers throw it and Hummingbird's router turns it into the response.
///
/// Two shapes: Flotilla's `{"error_code": …, "error_message": …}`, and InfluxDB's `{"code": …, "message": …,
/// "error": …}` with its version headers (`influx`), which InfluxDB's clients read on its own endpoints.
/// A 503 carries `Retry-After: 1` when `retryAfter` says so (every cause that passes by itself).
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public enum Shape: Sendable { case flotilla, influx }

    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var retryAfter: Bool
    public var shape: Shape

    public init(
        _ status: HTTPResponse.Status, code: String, message: String, retryAfter: Bool = false,
        shape: Shape = .flotilla
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
        self.shape = shape
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The answer this error is sent as.
    public func response(from request: Request, context: some RequestContext) -> Response { response }

    /// The answer this error is sent as (also for handlers that build their answer before they know the route).
    public var response: Response {
        var response: Response
        switch shape {
        case .flotilla: response = json(["error_code": code, "error_message": message], status: status)
        case .influx:
            response = json(["code": code, "message": message, "error": message], status: status)
            markInflux(&response)
        }
        if retryAfter { response.headers[.retryAfter] = "1" }
        return response
    }

    /// The same failure in InfluxDB's shape, under InfluxDB's code for it; `retryAfter: false` drops the header
    /// (the bucket endpoints have never sent it).
    public func influx(code: String, retryAfter: Bool? = nil) -> APIError {
        APIError(status, code: code, message: message, retryAfter: retryAfter ?? self.retryAfter, shape: .influx)
    }

    // MARK: - Typed errors

    /// A write, read or DDL statement that failed: its own status and code; 503 may be retried.
    public init(_ error: CoordinatorError) {
        self.init(
            HTTPResponse.Status(code: error.status), code: error.code, message: error.message,
            retryAfter: error.status == 503)
    }

    /// A Raft group that could not take or answer a request: 503 for what passes (no leader, a timeout, a
    /// shutdown), 404 for a group not hosted here, a refused request with the `Rejection`'s own code (400; 413 for
    /// an entry over the size limit; 503 to retry when the group is busy or changing leaders),
    /// 507 for a full disk (the failure's errno is `ENOSPC`), 503 for other storage failures, 500 for a damaged
    /// replica.
    public init(_ error: HostError) {
        switch error {
        case .noLeader, .timeout, .shuttingDown:
            self.init(.serviceUnavailable, code: "raft.unavailable", message: error.description, retryAfter: true)
        case .unknownGroup:
            self.init(.notFound, code: "raft.unknown_group", message: error.description)
        case .rejected(_, let rejection):
            switch rejection.remedy {
            case .none: self.init(.badRequest, code: rejection.code, message: error.description)
            case .sendLess: self.init(.contentTooLarge, code: rejection.code, message: error.description)
            case .retryLater:
                self.init(.serviceUnavailable, code: rejection.code, message: error.description, retryAfter: true)
            }
        case .storageFailed:
            self =
                error.isDiskFull
                ? APIError(.init(code: 507), code: "storage.full", message: error.description)
                : APIError(.serviceUnavailable, code: "storage.failed", message: error.description)
        case .damaged:
            self.init(.internalServerError, code: "storage.damaged", message: error.description)
        }
    }

    /// A request body that could not be used: 413 over the limit, 400 otherwise.
    public init(_ error: BodyError) {
        switch error {
        case .tooLarge(let limit):
            self.init(
                .contentTooLarge, code: "http.body_too_large", message: "the body is over the limit of \(limit) bytes")
        case .unreadable(let why):
            self.init(.badRequest, code: "http.body_unreadable", message: "the body could not be read: \(why)")
        case .badGzip:
            self.init(.badRequest, code: "write.bad_gzip", message: "the gzip body does not decompress")
        }
    }

    /// No valid credentials (no `WWW-Authenticate` challenge: API clients send credentials up front, as with
    /// InfluxDB, and some HTTP stacks stall on a challenge they cannot answer).
    static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: "auth.unauthorized", message: message)
    }
}

/// Why a request body could not be used.
public enum BodyError: Error, Sendable, Equatable {
    /// Over the node's limit (`--max-body-bytes`), as sent or once inflated.
    case tooLarge(limit: Int)
    /// The connection failed mid-body, or the body could not be read at all.
    case unreadable(String)
    /// `Content-Encoding: gzip` over bytes that do not inflate.
    case badGzip
}

// MARK: - Answers

/// The version `ping` and `health` report.
public let flotillaVersion = "0.3.0"

/// A JSON answer with sorted keys.
func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return Response(
        status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// The headers InfluxDB puts on every answer: the version clients check (`X-Influxdb-Version`) and the build.
func markInflux(_ response: inout Response) {
    response.headers[.init("X-Influxdb-Version")!] = HTTPRoutes.influxCompatibleVersion
    response.headers[.init("X-Influxdb-Build")!] = "Flotilla \(flotillaVersion)"
}
