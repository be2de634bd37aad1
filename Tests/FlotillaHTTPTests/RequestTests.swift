import Hummingbird
import HummingbirdTesting
import RaftCore
import Testing

@testable import FlotillaHTTP

@Suite("Requests: bodies, parameters, InfluxDB's endpoints", .timeLimit(.minutes(1)))
struct RequestTests {
    @Test("a body over the limit: 413 before the coordinator sees it")
    func oversized() async throws {
        var node = FakeNode()
        node.settings.maxBodyBytes = 64
        try await withRoutes(node) { client in
            for path in ["/api/v1/write?db=d", "/write?db=d", "/api/v1/sql"] {
                let response = try await client.execute(
                    uri: path, method: .post, body: ByteBuffer(string: String(repeating: "x", count: 100)))
                #expect(response.status == .contentTooLarge, "\(path)")
                #expect(
                    response.text
                        == #"{"error_code":"http.body_too_large","error_message":"the body is over the limit of 64 bytes"}"#
                )
            }
        }
        #expect(node.writes.all.isEmpty)
    }

    @Test("a gzip body that does not inflate: 400 write.bad_gzip; one that does reaches the write inflated")
    func gzipBodies() async throws {
        let node = FakeNode()
        let gzip: HTTPFields = [.contentEncoding: "gzip"]
        try await withRoutes(node) { client in
            let bad = try await client.execute(
                uri: "/write?db=d", method: .post, headers: gzip, body: ByteBuffer(string: "not gzip at all"))
            #expect(bad.status == .badRequest)
            #expect(bad.text == #"{"error_code":"write.bad_gzip","error_message":"the gzip body does not decompress"}"#)
            let lines = Array("cpu,host=a usage=1 1\ncpu,host=b usage=2 2\n".utf8)
            let good = try await client.execute(
                uri: "/write?db=d", method: .post, headers: gzip,
                body: ByteBuffer(bytes: try #require(Gzip.compress(lines))))
            #expect(good.status == .noContent)
        }
        #expect(node.writes.all == [Array("cpu,host=a usage=1 1\ncpu,host=b usage=2 2\n".utf8)])
    }

    @Test("an unknown precision: 400 write.bad_precision")
    func badPrecision() async throws {
        try await withRoutes(FakeNode()) { client in
            let response = try await client.execute(
                uri: "/api/v1/write?precision=fortnight", method: .post, body: ByteBuffer(string: "m v=1"))
            #expect(response.status == .badRequest)
            #expect(response.object["error_code"] as? String == "write.bad_precision")
        }
    }

    @Test("a write beyond the node's bound: 503 write.busy with Retry-After")
    func busy() async throws {
        var node = FakeNode()
        node.writeAdmission = WriteAdmission(maxRequests: 1, maxBytes: 1 << 20, wait: .milliseconds(20))
        #expect(await node.writeAdmission.admit(bytes: 1))
        try await withRoutes(node) { client in
            let response = try await client.execute(
                uri: "/api/v1/write", method: .post, body: ByteBuffer(string: "m v=1"))
            #expect(response.status == .serviceUnavailable)
            #expect(response.object["error_code"] as? String == "write.busy")
            #expect(response.header("Retry-After") == "1")
        }
        node.writeAdmission.release(bytes: 1)
        #expect(node.writes.all.isEmpty)
    }

    @Test("/ping: 204 with InfluxDB's headers; verbose: the version as JSON; HEAD the same as GET")
    func ping() async throws {
        try await withRoutes(FakeNode()) { client in
            for method in [HTTPRequest.Method.get, .head] {
                let response = try await client.execute(uri: "/ping", method: method)
                #expect(response.status == .noContent)
                #expect(response.header("X-Influxdb-Version") == "1.8.10")
                #expect(response.header("X-Influxdb-Build") == "Flotilla 0.3.0")
                #expect(response.body.readableBytes == 0)
            }
            let verbose = try await client.execute(uri: "/ping?verbose=true", method: .get)
            #expect(verbose.status == .ok)
            #expect(verbose.text == #"{"version":"1.8.10"}"#)
            #expect(verbose.headers[.contentType] == "application/json")
            #expect(verbose.header("X-Influxdb-Version") == "1.8.10")
        }
    }

    @Test("/query without q (URL or form body): 400 in InfluxDB's shape")
    func queryWithoutQ() async throws {
        try await withRoutes(FakeNode()) { client in
            let expected =
                #"{"code":"invalid","error":"missing required parameter \"q\"","message":"missing required parameter \"q\""}"#
            let responses = [
                try await client.execute(uri: "/query?db=d", method: .get),
                try await client.execute(uri: "/query?q=", method: .get),
                try await client.execute(
                    uri: "/query", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "db=d&=x")),
            ]
            for response in responses {
                #expect(response.status == .badRequest)
                #expect(response.text == expected)
                #expect(response.header("X-Influxdb-Version") == "1.8.10")
            }
        }
    }

    @Test("/query that does not parse: 400 naming the character")
    func queryParseError() async throws {
        try await withRoutes(FakeNode()) { client in
            let response = try await client.execute(uri: "/query?q=SELEC+1", method: .get)
            #expect(response.status == .badRequest)
            let message = try #require(response.object["error"] as? String)
            #expect(message.hasPrefix("error parsing query: "))
            #expect(message.contains(" at character "))
            #expect(response.object["code"] as? String == "invalid")
        }
    }

    @Test("/api/v2/query (Flux): 501 in InfluxDB's shape")
    func flux() async throws {
        try await withRoutes(FakeNode()) { client in
            let response = try await client.execute(
                uri: "/api/v2/query", method: .post, body: ByteBuffer(string: "from()"))
            #expect(response.status == .notImplemented)
            #expect(response.object["code"] as? String == "not implemented")
            #expect((response.object["message"] as? String)?.hasPrefix("Flux is not supported by Flotilla") == true)
            #expect(response.object["error"] as? String == response.object["message"] as? String)
            #expect(response.header("X-Influxdb-Version") == "1.8.10")
        }
    }

    @Test("/api/v1/sql that does not parse: 400 sql.parse")
    func sqlParseError() async throws {
        try await withRoutes(FakeNode()) { client in
            let response = try await client.execute(
                uri: "/api/v1/sql", method: .post, body: ByteBuffer(string: "SELEC"))
            #expect(response.status == .badRequest)
            #expect(response.object["error_code"] as? String == "sql.parse")
        }
    }

    @Test("fault injection: off → 404; a bad peer → 400; peers → isolated")
    func isolate() async throws {
        try await withRoutes(FakeNode()) { client in
            let off = try await client.execute(
                uri: "/api/v1/debug/isolate", method: .post, body: ByteBuffer(string: "2"))
            #expect(off.status == .notFound)
        }
        var node = FakeNode()
        node.settings.faultInjection = true
        try await withRoutes(node) { client in
            let bad = try await client.execute(
                uri: "/api/v1/debug/isolate", method: .post, body: ByteBuffer(string: "2,x"))
            #expect(bad.status == .badRequest)
            #expect(bad.text == #"{"error_code":"debug.bad_peer","error_message":"'x' is not a node id"}"#)
            let good = try await client.execute(
                uri: "/api/v1/debug/isolate", method: .post, body: ByteBuffer(string: "3, 2"))
            #expect(good.text == #"{"isolated":[2,3]}"#)
        }
        #expect(node.isolations.all == [[NodeID(2), NodeID(3)]])
    }

    @Test("cluster: this node's view as JSON")
    func cluster() async throws {
        try await withRoutes(FakeNode()) { client in
            let response = try await client.execute(uri: "/api/v1/cluster", method: .get)
            #expect(
                response.text
                    == #"{"cluster_id":"42","groups":[],"node_id":1,"nodes":[{"id":1,"raft_addr":"127.0.0.1:8903","state":"up"}]}"#
            )
        }
    }

    @Test("join: a malformed request → 400; a founder's id at another address → 409")
    func join() async throws {
        try await withRoutes(FakeNode()) { client in
            let bad = try await client.execute(
                uri: "/api/v1/cluster/join", method: .post, body: ByteBuffer(string: "{}"))
            #expect(bad.status == .badRequest)
            #expect(bad.object["error_code"] as? String == "cluster.bad_join")
            let founder = try await client.execute(
                uri: "/api/v1/cluster/join", method: .post,
                body: ByteBuffer(string: #"{"node_id":1,"raft_addr":"10.0.0.9:8903","http_addr":"10.0.0.9:8902"}"#))
            #expect(founder.status == .conflict)
            #expect(founder.object["error_code"] as? String == "meta.node_exists")
            let joined = try await client.execute(
                uri: "/api/v1/cluster/join", method: .post,
                body: ByteBuffer(string: #"{"node_id":4,"raft_addr":"10.0.0.9:8903","http_addr":"10.0.0.9:8902"}"#))
            #expect(joined.status == .ok)
            #expect(joined.object["cluster_id"] as? String == "42")
        }
    }
}
