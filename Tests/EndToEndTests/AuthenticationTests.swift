import Foundation
import Testing

/// `--auth`: every endpoint but ping checks credentials (Basic, InfluxDB v1 u/p, v2 Token); grants decide
/// per database; a refused request writes nothing.
extension EndToEnd {
    @Suite("Authentication", .serialized)
    struct AuthenticationTests {
        static func basic(_ user: String, _ password: String) -> String {
            "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }

        @Test("credentials and grants are enforced, and a refused write stores nothing")
        func authentication() async throws {
            try await ProcessCluster.run(nodes: 3, arguments: ["--auth", "--root-password", "s3cret"]) { cluster in
                let root = Self.basic("root", "s3cret")
                _ = await cluster.eventually(30, "the cluster accepts root's writes") {
                    await cluster.request(1, "POST", "/api/v1/write", body: "m v=1 1", authorization: root)?.status
                        == 200
                }
                cluster.check(
                    await cluster.request(2, "GET", "/api/v1/ping")?.status == 200, "ping needs no credentials")
                cluster.check(
                    await cluster.request(2, "GET", "/api/v1/cluster")?.status == 401, "cluster needs credentials")
                let noCredentials = await cluster.request(2, "POST", "/api/v1/write", body: "m v=2 2")
                cluster.check(noCredentials?.status == 401, "a write without credentials: 401")
                let wrong = await cluster.request(
                    2, "POST", "/api/v1/write", body: "m v=3 3", authorization: Self.basic("root", "nope"))
                cluster.check(
                    wrong?.status == 401 && wrong?.body.contains("wrong password") == true, "a bad password: 401")
                let v1Wrong = await cluster.request(3, "POST", "/write?db=public&u=root&p=bad", body: "m v=4 4")
                cluster.check(v1Wrong?.status == 401, "InfluxDB v1 u/p with a bad password: 401")
                let v1 = await cluster.request(3, "POST", "/write?db=public&u=root&p=s3cret", body: "m v=5 5")
                cluster.check(v1?.status == 204, "InfluxDB v1 u/p: 204")
                for statement in ["CREATE USER bob WITH PASSWORD = 'pw'", "GRANT READ ON DATABASE public TO bob"] {
                    let reply = await cluster.request(1, "POST", "/api/v1/sql", body: statement, authorization: root)
                    cluster.check(reply?.status == 200, "\(statement): \(reply?.body ?? "")")
                }
                let bob = Self.basic("bob", "pw")
                let bobWrite = await cluster.request(2, "POST", "/api/v1/write", body: "m v=6 6", authorization: bob)
                cluster.check(bobWrite?.status == 403, "READ does not allow writing: \(bobWrite?.body ?? "")")
                let bobToken = await cluster.request(
                    2, "POST", "/api/v2/write?bucket=public", body: "m v=7 7", authorization: "Token bob:pw")
                cluster.check(bobToken?.status == 403, "v2 Token credentials are checked against grants")
                let bobDDL = await cluster.request(
                    2, "POST", "/api/v1/sql", body: "DROP DATABASE public", authorization: bob)
                cluster.check(bobDDL?.status == 403, "DDL is root's")
                var rows: String?
                _ = await cluster.eventually(10, "bob reads") {
                    rows = await cluster.request(3, "POST", "/api/v1/sql", body: "SELECT v FROM m", authorization: bob)?
                        .body
                    return rows?.hasPrefix("v\n") == true
                }
                cluster.check(rows == "v\n1.0\n5.0\n", "only the accepted writes are stored: \(rows ?? "nil")")
            }
        }
    }
}
