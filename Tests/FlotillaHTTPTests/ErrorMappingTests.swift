import Coordinator
import Hummingbird
import HummingbirdTesting
import MultiRaft
import RaftCore
import Testing

@testable import FlotillaHTTP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("Error mapping: each typed error to one status, code and body", .timeLimit(.minutes(1)))
struct ErrorMappingTests {
    struct HostCase: Sendable, CustomTestStringConvertible {
        let error: HostError
        let status: Int
        let code: String
        let retryAfter: Bool
        var testDescription: String { "\(error) → \(status) \(code)" }
    }

    static let hostCases: [HostCase] = [
        HostCase(
            error: .noLeader(GroupID(7), leaderHint: nil), status: 503, code: "raft.unavailable", retryAfter: true),
        HostCase(error: .timeout(GroupID(7)), status: 503, code: "raft.unavailable", retryAfter: true),
        HostCase(error: .shuttingDown, status: 503, code: "raft.unavailable", retryAfter: true),
        HostCase(error: .unknownGroup(GroupID(7)), status: 404, code: "raft.unknown_group", retryAfter: false),
        HostCase(
            error: .rejected(GroupID(7), .refused(.entryTooLarge(bytes: 10, limit: 5))), status: 413,
            code: "raft.entry_too_large", retryAfter: false),
        HostCase(
            error: .rejected(GroupID(7), .refused(.uncommittedLimitExceeded(limit: 5))), status: 503,
            code: "raft.uncommitted_limit", retryAfter: true),
        HostCase(
            error: .rejected(GroupID(7), .leadershipMoved(to: NodeID(2))), status: 503, code: "raft.leadership_moved",
            retryAfter: true),
        HostCase(
            error: .rejected(GroupID(7), .notMember(NodeID(9))), status: 400, code: "raft.not_member",
            retryAfter: false),
        HostCase(
            error: .rejected(GroupID(7), .lastReplica(NodeID(9))), status: 400, code: "raft.last_replica",
            retryAfter: false),
        HostCase(
            error: .rejected(GroupID(7), .other("too large")), status: 400, code: "raft.rejected", retryAfter: false),
        HostCase(
            error: .storageFailed(.init(errno: ENOSPC, "[wal.io] cannot write (errno \(ENOSPC))")), status: 507,
            code: "storage.full", retryAfter: false),
        // The text is not read: only the errno says the disk is full.
        HostCase(
            error: .storageFailed(.init("write failed: No space left on device")), status: 503,
            code: "storage.failed", retryAfter: false),
        HostCase(
            error: .storageFailed(.init(errno: EIO, "EIO")), status: 503, code: "storage.failed", retryAfter: false),
        HostCase(error: .damaged(GroupID(7), "bad checksum"), status: 500, code: "storage.damaged", retryAfter: false),
    ]

    @Test("a host error answers the key-value endpoint with its status", arguments: hostCases)
    func hostErrors(_ expected: HostCase) async throws {
        var node = FakeNode()
        node.hostFailure = expected.error
        try await withRoutes(node) { client in
            for method in [HTTPRequest.Method.put, .get] {
                let response = try await client.execute(
                    uri: "/api/v1/kv/k", method: method, body: method == .put ? ByteBuffer(string: "v") : nil)
                #expect(response.status.code == expected.status)
                #expect(response.object["error_code"] as? String == expected.code)
                #expect(response.object["error_message"] as? String == expected.error.description)
                #expect(response.header("Retry-After") == (expected.retryAfter ? "1" : nil))
                #expect(response.headers[.contentType] == "application/json")
            }
        }
    }

    @Test("a coordinator error on the native write: its own status and code, Retry-After on 503")
    func coordinatorNative() async throws {
        var node = FakeNode()
        node.writeFailure = CoordinatorError(.unavailable, "raft.unavailable", "no leader")
        try await withRoutes(node) { client in
            let response = try await client.execute(
                uri: "/api/v1/write?db=d", method: .post, body: ByteBuffer(string: "m v=1"))
            #expect(response.status == .serviceUnavailable)
            #expect(response.text == #"{"error_code":"raft.unavailable","error_message":"no leader"}"#)
            #expect(response.header("Retry-After") == "1")
            #expect(response.header("X-Influxdb-Version") == nil)
        }
        node.writeFailure = CoordinatorError(.notFound, "meta.database_not_found", "no database 'd'")
        try await withRoutes(node) { client in
            let response = try await client.execute(
                uri: "/api/v1/write?db=d", method: .post, body: ByteBuffer(string: "m v=1"))
            #expect(response.status == .notFound)
            #expect(response.header("Retry-After") == nil)
        }
    }

    @Test("a coordinator error on InfluxDB's writes: InfluxDB's shape, 'invalid' for a 400")
    func coordinatorInflux() async throws {
        var node = FakeNode()
        node.writeFailure = CoordinatorError(.badRequest, "write.malformed", "line 1: no fields")
        try await withRoutes(node) { client in
            let v1 = try await client.execute(uri: "/write?db=d", method: .post, body: ByteBuffer(string: "m"))
            #expect(v1.status == .badRequest)
            #expect(v1.text == #"{"code":"invalid","error":"line 1: no fields","message":"line 1: no fields"}"#)
            #expect(v1.header("X-Influxdb-Version") == "1.8.10")
            #expect(v1.header("X-Influxdb-Build") == "Flotilla \(flotillaVersion)")
        }
        node.writeFailure = CoordinatorError(.unavailable, "raft.unavailable", "no leader")
        try await withRoutes(node) { client in
            let v2 = try await client.execute(
                uri: "/api/v2/write?bucket=d", method: .post, body: ByteBuffer(string: "m v=1"))
            #expect(v2.status == .serviceUnavailable)
            #expect(v2.object["code"] as? String == "raft.unavailable")
            #expect(v2.header("Retry-After") == "1")
        }
    }

    @Test(
        "every kind of coordinator error keeps its status",
        arguments: [
            (CoordinatorError.Kind.badRequest, 400), (.unauthorized, 401), (.forbidden, 403), (.notFound, 404),
            (.conflict, 409), (.tooLarge, 413), (.unavailable, 503), (.insufficientStorage, 507), (.internalError, 500),
        ])
    func coordinatorKinds(_ kind: CoordinatorError.Kind, _ status: Int) {
        let error = APIError(CoordinatorError(kind, "x.y", "why"))
        #expect(error.status.code == status)
        #expect(error.code == "x.y")
        #expect(error.retryAfter == (status == 503))
        #expect(error.response.headers[.retryAfter] == (status == 503 ? "1" : nil))
    }

    @Test("body errors: 413 over the limit, 400 otherwise")
    func bodyErrors() {
        let tooLarge = APIError(BodyError.tooLarge(limit: 10))
        #expect(tooLarge.status == .contentTooLarge)
        #expect(tooLarge.code == "http.body_too_large")
        #expect(tooLarge.message == "the body is over the limit of 10 bytes")
        #expect(APIError(BodyError.badGzip).status == .badRequest)
        #expect(APIError(BodyError.badGzip).code == "write.bad_gzip")
        #expect(APIError(BodyError.unreadable("reset")).code == "http.body_unreadable")
    }

    @Test("a key that is not there: 404 kv.not_found; one that is: its bytes")
    func keyValue() async throws {
        try await withRoutes(FakeNode()) { client in
            let missing = try await client.execute(uri: "/api/v1/kv/k", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.text == #"{"error_code":"kv.not_found","error_message":"no key 'k'"}"#)
        }
        var node = FakeNode()
        node.storedValue = Array("hello".utf8)
        try await withRoutes(node) { client in
            let found = try await client.execute(uri: "/api/v1/kv/k", method: .get)
            #expect(found.status == .ok)
            #expect(found.text == "hello")
            let put = try await client.execute(uri: "/api/v1/kv/k", method: .put, body: ByteBuffer(string: "v"))
            #expect(put.text == #"{"group":1099511627776}"#)
        }
    }

    @Test("health: 503 with the reason when storage failed or meta is not current, else healthy")
    func health() async throws {
        var node = FakeNode()
        try await withRoutes(node) { client in
            let healthy = try await client.execute(uri: "/api/v1/health", method: .get)
            #expect(healthy.text == #"{"status":"healthy","version":"0.3.0"}"#)
            let influx = try await client.execute(uri: "/health", method: .get)
            #expect(influx.object["status"] as? String == "pass")
        }
        node.storage = "EIO"
        try await withRoutes(node) { client in
            let failed = try await client.execute(uri: "/api/v1/ping", method: .get)
            #expect(failed.status == .serviceUnavailable)
            #expect(failed.text == #"{"reason":"storage failed: EIO","status":"unavailable","version":"0.3.0"}"#)
            let influx = try await client.execute(uri: "/api/v2/health", method: .get)
            #expect(influx.status == .serviceUnavailable)
            #expect(influx.object["status"] as? String == "fail")
        }
        node.storage = nil
        node.metaFailure = CoordinatorError(.unavailable, "meta.unavailable", "no meta leader")
        try await withRoutes(node) { client in
            let stale = try await client.execute(uri: "/api/v1/health", method: .get)
            #expect(stale.status == .serviceUnavailable)
            #expect(stale.object["reason"] as? String == "meta.unavailable: no meta leader")
        }
    }
}
