import Foundation
import Testing

/// A node whose fsync fails (EIO) or stalls, on real processes: its `fsync` and `fdatasync` go through a small
/// preloaded library, built here with the C compiler, that fails them with EIO while `FAULTS/eio` exists and
/// blocks them while `FAULTS/stall` exists.
extension EndToEnd {
    @Suite("Faulty disks", .serialized)
    struct FaultyDiskEndToEndTests {
        static let shimSource = """
            #define _GNU_SOURCE
            #include <dlfcn.h>
            #include <errno.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <unistd.h>
            static int present(const char *name) {
                const char *dir = getenv("FLOTILLA_FAULT_DIR");
                if (!dir) return 0;
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", dir, name);
                return access(path, F_OK) == 0;
            }
            static int fault(void) {
                while (present("stall")) usleep(20000);
                if (present("eio")) { errno = EIO; return -1; }
                return 0;
            }
            int fsync(int fd) {
                static int (*real)(int);
                if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
                return fault() ? -1 : real(fd);
            }
            int fdatasync(int fd) {
                static int (*real)(int);
                if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
                return fault() ? -1 : real(fd);
            }
            """

        /// Builds the shim into `directory`; returns its path.
        static func buildShim(in directory: String) throws -> String {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let source = directory + "/fault-shim.c"
            let library = directory + "/fault-shim.so"
            try shimSource.write(toFile: source, atomically: true, encoding: .utf8)
            let status = BadDiskEndToEndTests.run(
                "/usr/bin/cc", ["-shared", "-fPIC", "-O1", "-o", library, source, "-ldl"])
            guard status == 0 else {
                throw POSIXError(.ENOENT, userInfo: [NSLocalizedDescriptionKey: "cc failed (\(status))"])
            }
            return library
        }

        /// A 3-node cluster whose node 3 runs with the shim; a `SHARD 2 REPLICA 3` database; node 3 leads a set.
        static func withFaultyNode3(
            _ body: (ProcessCluster, _ faults: String, _ load: WriteLoad, _ sets: [Int]) async throws -> Void
        ) async throws {
            let faults = NSTemporaryDirectory() + "flotilla-faults-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: faults) }
            let shim = try buildShim(in: faults)
            try await ProcessCluster.run(
                nodes: 3, environment: [3: ["LD_PRELOAD": shim, "FLOTILLA_FAULT_DIR": faults]]
            ) { cluster in
                guard await cluster.waitForLeaders(groups: 1) else { return }
                guard await cluster.createRepDatabase(nodes: 3, shard: 2) else { return }
                let load = WriteLoad()
                Task { await load.run(cluster, through: [1, 2]) }
                defer { load.stop() }
                try await load.waitForMore(200)
                let sets = (await cluster.sqlRows(1, "SHOW REPLICAS", db: "rep") ?? []).compactMap {
                    $0["replica_id"] as? Int
                }
                cluster.check(sets.count == 2, "two replica sets: \(sets)")
                guard let led = sets.first else { return }
                _ = await cluster.eventually(30, "node 3 leads replica set \(led)") {
                    _ = await cluster.sql(1, "REPLICA PROMOTE replica_id \(led) node_id 3", db: "rep", timeout: 20)
                    return await cluster.leader(of: led, askingNode: 1) == 3
                }
                try await body(cluster, faults, load, sets)
                load.stop()
                await load.stopped()
                let acknowledged = load.acknowledged.withLock { $0 }
                print("faulty disk: \(acknowledged.count) points acknowledged")
                await cluster.expectReadBack(acknowledged, on: [1, 2, 3])
                await cluster.expectChecksumsAgree(sets, on: [1, 2, 3])
                cluster.kill9(3)
            }
        }

        /// Waits until no group has node 3 as its leader; returns how long that took.
        static func leadershipLeaves(_ cluster: ProcessCluster) async -> Double {
            let started = Date()
            _ = await cluster.eventually(10, "every group led by a node other than 3") {
                let groups = await cluster.groups(1)
                return !groups.isEmpty && groups.allSatisfy { ($0["leader"] as? Int).map { $0 != 3 } ?? false }
            }
            return Date().timeIntervalSince(started)
        }

        @Test(
            "a node whose fsync fails with EIO gives up its groups, answers 503 with the reason, and rejoins",
            .timeLimit(.minutes(6)))
        func fsyncFailsWithEIO() async throws {
            try await Self.withFaultyNode3 { cluster, faults, load, _ in
                _ = FileManager.default.createFile(atPath: faults + "/eio", contents: nil)
                _ = await cluster.eventually(20, "node 3 reports its storage failure") {
                    guard let reply = await cluster.request(3, "GET", "/api/v1/health", timeout: 5) else {
                        return false
                    }
                    return reply.status == 503 && reply.body.contains("storage")
                }
                let moved = await Self.leadershipLeaves(cluster)
                print(
                    "faulty disk (EIO): leadership left node 3 within \(String(format: "%.2f", moved)) s of its failure report"
                )
                let reply = await cluster.request(
                    3, "POST", "/api/v1/write?db=rep&precision=ns", body: "m,host=eio v=1i 1600000000000000000")
                cluster.check(reply?.status == 503, "a write node 3 cannot persist: \(String(describing: reply))")
                cluster.check(reply?.body.contains("storage") == true, "the refusal says why: \(reply?.body ?? "")")
                try await load.waitForMore(200)
                try FileManager.default.removeItem(atPath: faults + "/eio")
                _ = await cluster.eventually(60, "node 3 is healthy again") {
                    await cluster.request(3, "GET", "/api/v1/health", timeout: 5)?.status == 200
                }
                try await load.waitForMore(200)
            }
        }

        @Test(
            "a node whose fsync stalls loses its leaderships to the others and catches up once it returns",
            .timeLimit(.minutes(6)))
        func fsyncStalls() async throws {
            try await Self.withFaultyNode3 { cluster, faults, load, _ in
                _ = FileManager.default.createFile(atPath: faults + "/stall", contents: nil)
                let moved = await Self.leadershipLeaves(cluster)
                print(
                    "faulty disk (stall): leadership left node 3 \(String(format: "%.2f", moved)) s after its fsync stalled"
                )
                try await load.waitForMore(200)
                let reply = await cluster.request(
                    3, "POST", "/api/v1/write?db=rep&precision=ns", body: "m,host=stall v=1i 1600000000000000001",
                    timeout: 3)
                cluster.check(reply?.status != 200, "node 3 acknowledged a write while its fsync stalled")
                try FileManager.default.removeItem(atPath: faults + "/stall")
                _ = await cluster.eventually(60, "node 3 is healthy again") {
                    await cluster.request(3, "GET", "/api/v1/health", timeout: 5)?.status == 200
                }
                try await load.waitForMore(200)
            }
        }
    }
}
