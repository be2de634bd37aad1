// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "Flotilla",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "RaftStorage", targets: ["RaftStorage"]),
        .library(name: "RaftWire", targets: ["RaftWire"]),
        .library(name: "RaftSimulation", targets: ["RaftSimulation"]),
        .executable(name: "flotilla-sim", targets: ["flotilla-sim"]),
        .executable(name: "raft-bench", targets: ["raft-bench"]),
        .executable(name: "wal-bench", targets: ["wal-bench"]),
    ],
    targets: [
        // Pure Raft: one value type per group, events in, a Ready value out. Standard library only.
        .target(name: "RaftCore", swiftSettings: strictSettings),
        // The node's one write-ahead log shared by all Raft groups: records, segments, group commit, recovery.
        .target(name: "RaftStorage", dependencies: ["RaftCore"], swiftSettings: strictSettings),
        // Versioned binary frames between nodes: handshake with cluster and node id, Raft messages per group.
        .target(name: "RaftWire", dependencies: ["RaftCore"], swiftSettings: strictSettings),
        // Test support: a deterministic multi-node simulator with virtual time and a seeded faulty network.
        .target(name: "RaftSimulation", dependencies: ["RaftCore"], swiftSettings: strictSettings),
        // Runs any number of simulation seeds, or replays one seed verbosely.
        .executableTarget(name: "flotilla-sim", dependencies: ["RaftSimulation"], swiftSettings: strictSettings),
        // Release-mode benchmark of the Raft core alone (3 members, in-memory log, no network).
        .executableTarget(
            name: "raft-bench", dependencies: ["RaftCore", "BenchSupport"], swiftSettings: strictSettings),
        // Table formatting shared by the benchmarks.
        .target(name: "BenchSupport", swiftSettings: strictSettings),
        // Release-mode benchmark of the WAL beside the raw append + fdatasync rate of the same disk.
        .executableTarget(
            name: "wal-bench", dependencies: ["RaftStorage", "RaftCore", "BenchSupport"], swiftSettings: strictSettings),
        // Test support: a child process that appends to a WAL under load and reports what is durable; the
        // crash tests kill it with SIGKILL.
        .executableTarget(
            name: "wal-crash-writer", dependencies: ["RaftStorage", "RaftCore"], swiftSettings: strictSettings),
        .testTarget(name: "RaftWireTests", dependencies: ["RaftWire", "RaftCore"], swiftSettings: strictSettings),
        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "RaftStorageTests", dependencies: ["RaftStorage", "RaftCore", "wal-crash-writer"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "RaftSimulationTests", dependencies: ["RaftSimulation", "RaftCore"], swiftSettings: strictSettings),
    ]
)
