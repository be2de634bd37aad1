import Foundation
import Testing

/// A node whose disk fills up, on real processes: its WAL directory is a small tmpfs that the test fills.
extension EndToEnd {
    @Suite("Bad disks", .serialized)
    struct BadDiskEndToEndTests {
        static let diskBytes = 24 << 20

        /// Mounts a `diskBytes` tmpfs at `directory/wal` (once).
        static func mountSmallDisk(under directory: String) throws {
            let wal = directory + "/wal"
            try FileManager.default.createDirectory(atPath: wal, withIntermediateDirectories: true)
            let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
            guard !mounts.contains(" \(wal) ") else { return }
            let status = DiskFaultScenario.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(diskBytes)", "tmpfs", wal])
            guard status == 0 else {
                throw POSIXError(
                    .EPERM,
                    userInfo: [
                        NSLocalizedDescriptionKey: "mount tmpfs at \(wal) failed (\(status)); the test needs root"
                    ])
            }
        }

        /// Writes zeros into `path` until the disk refuses more; returns how many bytes it took.
        static func fill(_ path: String) -> Int {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { return 0 }
            defer { close(fd) }
            let block = [UInt8](repeating: 0, count: 1 << 16)
            var total = 0
            while true {
                let n = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                total += n
            }
            return total
        }

        @Test(
            "a node whose disk fills up gives up its groups, refuses what it cannot persist, and rejoins once space returns",
            .timeLimit(.minutes(6)))
        func diskFullUnderLoad() async throws {
            var mountedAt: String?
            defer { if let mountedAt { _ = DiskFaultScenario.run("/bin/umount", ["-l", mountedAt]) } }
            try await DiskFaultScenario.run(
                "bad disk",
                beforeStart: { id, directory in
                    guard id == 3 else { return }
                    try Self.mountSmallDisk(under: directory)
                    mountedAt = directory + "/wal"
                }
            ) { cluster, load in
                // 1. The disk fills up: node 3's WAL appends fail.
                let ballast = cluster.nodes[3]!.directory + "/wal/ballast"
                let filled = Self.fill(ballast)
                print("bad disk: filled node 3's WAL disk with \(filled) bytes")
                await DiskFaultScenario.awaitStorageFailure(cluster)
                // 2. Within an election timeout or so, no group has node 3 as its leader any more.
                let moved = await DiskFaultScenario.leadershipLeaves(cluster)
                print(
                    "bad disk: leadership left node 3 within \(String(format: "%.2f", moved)) s of its failure report")
                // 3. What node 3 cannot persist it refuses, with the reason; never 200.
                var statuses: [Int] = []
                for i in 0..<5 {
                    let reply = await cluster.request(
                        3, "POST", "/api/v1/write?db=rep&precision=ns",
                        body: "m,host=full v=1i \(1_600_000_000_000_000_000 + i)")
                    statuses.append(reply?.status ?? 0)
                    if let reply, reply.status != 200 {
                        cluster.check(reply.body.contains("storage"), "the refusal says why: \(reply.body)")
                    }
                }
                cluster.check(!statuses.contains(200), "node 3 acknowledged a write it cannot persist: \(statuses)")
                cluster.check(statuses.contains(507), "a full disk answers 507: \(statuses)")
                // 4. The others go on.
                try await load.waitForMore(300)

                // 5. Space returns: node 3 restarts itself and rejoins.
                try FileManager.default.removeItem(atPath: ballast)
                await DiskFaultScenario.awaitHealthy(cluster)
                try await load.waitForMore(200)
                let log =
                    (try? String(contentsOfFile: cluster.nodes[3]!.directory + "/flotilla.log", encoding: .utf8)) ?? ""
                cluster.check(log.contains("restarting this node"), "node 3 restarted itself")
                // The restarted image must still stop on SIGTERM: no signal blocked on its main thread.
                let status = (try? String(contentsOfFile: "/proc/\(cluster.pid(3) ?? 0)/status", encoding: .utf8)) ?? ""
                let blocked = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }
                cluster.check(
                    blocked == "SigBlk:\t0000000000000000", "the restarted node blocks no signal: \(blocked ?? "?")")
            }
            // The scenario stopped the nodes (their logs are printed if it failed); the cluster's directory goes
            // once the small disk is unmounted.
            if let mountedAt {
                _ = DiskFaultScenario.run("/bin/umount", [mountedAt])
                let root = URL(fileURLWithPath: mountedAt).deletingLastPathComponent().deletingLastPathComponent()
                try? FileManager.default.removeItem(at: root)
            }
            mountedAt = nil
        }
    }
}
