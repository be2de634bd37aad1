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
            let status = DiskFaultScenario.run(
                "/usr/bin/cc", ["-shared", "-fPIC", "-O1", "-o", library, source, "-ldl"])
            guard status == 0 else {
                throw POSIXError(.ENOENT, userInfo: [NSLocalizedDescriptionKey: "cc failed (\(status))"])
            }
            return library
        }

        /// The disk-fault scenario with node 3's fsync going through the shim, steered by files in `faults`.
        static func withFaultyNode3(
            _ label: String, _ body: (ProcessCluster, _ faults: String, WriteLoad) async throws -> Void
        )
            async throws
        {
            let faults = NSTemporaryDirectory() + "flotilla-faults-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: faults) }
            let shim = try buildShim(in: faults)
            try await DiskFaultScenario.run(
                label, environment: [3: ["LD_PRELOAD": shim, "FLOTILLA_FAULT_DIR": faults]]
            ) { cluster, load in try await body(cluster, faults, load) }
        }

        @Test(
            "a node whose fsync fails with EIO gives up its groups, answers 503 with the reason, and rejoins",
            .timeLimit(.minutes(6)))
        func fsyncFailsWithEIO() async throws {
            try await Self.withFaultyNode3("faulty disk") { cluster, faults, load in
                _ = FileManager.default.createFile(atPath: faults + "/eio", contents: nil)
                await DiskFaultScenario.awaitStorageFailure(cluster)
                let moved = await DiskFaultScenario.leadershipLeaves(cluster)
                print(
                    "faulty disk (EIO): leadership left node 3 within \(String(format: "%.2f", moved)) s of its failure report"
                )
                let reply = await cluster.request(
                    3, "POST", "/api/v1/write?db=rep&precision=ns", body: "m,host=eio v=1i 1600000000000000000")
                cluster.check(reply?.status == 503, "a write node 3 cannot persist: \(String(describing: reply))")
                cluster.check(reply?.body.contains("storage") == true, "the refusal says why: \(reply?.body ?? "")")
                try await load.waitForMore(200)
                try FileManager.default.removeItem(atPath: faults + "/eio")
                await DiskFaultScenario.awaitHealthy(cluster)
                try await load.waitForMore(200)
            }
        }

        @Test(
            "a node whose fsync stalls loses its leaderships to the others and catches up once it returns",
            .timeLimit(.minutes(6)))
        func fsyncStalls() async throws {
            try await Self.withFaultyNode3("faulty disk") { cluster, faults, load in
                _ = FileManager.default.createFile(atPath: faults + "/stall", contents: nil)
                let moved = await DiskFaultScenario.leadershipLeaves(cluster)
                print(
                    "faulty disk (stall): leadership left node 3 \(String(format: "%.2f", moved)) s after its fsync stalled"
                )
                try await load.waitForMore(200)
                let reply = await cluster.request(
                    3, "POST", "/api/v1/write?db=rep&precision=ns", body: "m,host=stall v=1i 1600000000000000001",
                    timeout: 3)
                cluster.check(reply?.status != 200, "node 3 acknowledged a write while its fsync stalled")
                try FileManager.default.removeItem(atPath: faults + "/stall")
                await DiskFaultScenario.awaitHealthy(cluster)
                try await load.waitForMore(200)
            }
        }
    }
}
