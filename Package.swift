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
        .executable(name: "flotilla-node-sim", targets: ["flotilla-node-sim"]),
        .executable(name: "raft-bench", targets: ["raft-bench"]),
        .executable(name: "wal-bench", targets: ["wal-bench"]),
        .executable(name: "engine-bench", targets: ["engine-bench"]),
        .executable(name: "flotilla", targets: ["flotilla"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
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
        // Test support: whole nodes (host, meta, follower, coordinator, vnodes) in virtual time over a simulated
        // network, with clients whose history is checked, replica changes, crashes and partitions.
        .target(
            name: "NodeSimulation",
            dependencies: [
                "Coordinator", "Meta", "TSDB", "LineProtocol", "MultiRaft", "RaftCore", "RaftWire", "RaftTransport",
                "RaftSimulation", .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strictSettings),
        // Runs any number of node-level simulation seeds, or replays one.
        .executableTarget(
            name: "flotilla-node-sim", dependencies: ["NodeSimulation"], swiftSettings: strictSettings),
        // Release-mode benchmark of the Raft core alone (3 members, in-memory log, no network).
        .executableTarget(
            name: "raft-bench", dependencies: ["RaftCore", "BenchSupport"], swiftSettings: strictSettings),
        // Table formatting shared by the benchmarks.
        .target(name: "BenchSupport", swiftSettings: strictSettings),
        // Release-mode benchmark of the WAL beside the raw append + fdatasync rate of the same disk.
        .executableTarget(
            name: "wal-bench", dependencies: ["RaftStorage", "RaftCore", "BenchSupport"], swiftSettings: strictSettings),
        // Release-mode measurement of the vnode storage engine on its own.
        .executableTarget(
            name: "engine-bench",
            dependencies: [
                "TSDB", "LineProtocol", "RaftStorage", "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strictSettings),
        // Test support: a child process that appends to a WAL under load and reports what is durable; the
        // crash tests kill it with SIGKILL.
        .executableTarget(
            name: "wal-crash-writer", dependencies: ["RaftStorage", "RaftCore"], swiftSettings: strictSettings),
        // SwiftNIO TCP between nodes: one connection per node pair, handshake, batched writes, reconnect.
        .target(
            name: "RaftTransport",
            dependencies: [
                "RaftWire", "RaftCore", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strictSettings),
        // The shell that hosts many Raft groups on one node: tick, persist -> send -> apply, quiescence, waiters.
        .target(
            name: "MultiRaft",
            dependencies: [
                "RaftCore", "RaftStorage", "RaftWire", "RaftTransport", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ], swiftSettings: strictSettings),
        // InfluxDB line protocol: points, the parser, precisions.
        .target(name: "LineProtocol", swiftSettings: strictSettings),
        // The vnode state machine: series index, columnar points per series, snapshots, checksums.
        .target(
            name: "TSDB", dependencies: ["LineProtocol", "MultiRaft", "RaftCore", "RaftStorage"],
            swiftSettings: strictSettings),
        // The meta group's state machine: nodes, tenants, databases, buckets, replica sets, users.
        .target(name: "Meta", dependencies: ["MultiRaft", "RaftCore"], swiftSettings: strictSettings),
        // Write and read routing: bucket, series hash, replica set, leader forwarding.
        .target(
            name: "Coordinator",
            dependencies: [
                "Meta", "TSDB", "LineProtocol", "MultiRaft", "RaftCore", "RaftWire", "RaftStorage", "RaftTransport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings),
        // The SQL subset: tokenizer, parser, statements (standard library only).
        .target(name: "SQL", swiftSettings: strictSettings),
        // The query layer: one executor for the SQL and InfluxQL front ends (plans pushed down to the vnodes,
        // grouping, ordering, filling), INSERT, and the answers' formats (CSV, JSON in column order, InfluxDB's
        // series); stored password hashes.
        .target(
            name: "Query",
            dependencies: [
                "Coordinator", "Meta", "TSDB", "SQL", "LineProtocol", "MultiRaft", "RaftCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ], swiftSettings: strictSettings),
        // The HTTP API (Hummingbird): the store's writes and SQL, InfluxDB's endpoints, cluster, metrics and the
        // key-value test endpoint; authentication as a middleware, the one mapping from typed errors to responses,
        // gzip bodies, write admission. Reaches the node only through the `HTTPNode` protocol.
        .target(
            name: "FlotillaHTTP",
            dependencies: [
                "Coordinator", "Meta", "Query", "SQL", "LineProtocol", "MultiRaft", "RaftTransport", "RaftCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ], swiftSettings: strictSettings),
        // Composition root: the node's identity and services under a ServiceGroup, joining, storage recovery,
        // metrics and logging bootstrap; builds the router from FlotillaHTTP.
        .target(
            name: "FlotillaServer",
            dependencies: [
                "FlotillaHTTP", "MultiRaft", "RaftTransport", "RaftStorage", "RaftCore", "Coordinator", "Meta", "TSDB",
                "LineProtocol", "Query", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ], swiftSettings: strictSettings),
        // The command line: `flotilla server`, `flotilla local`.
        .executableTarget(
            name: "flotilla",
            dependencies: [
                "FlotillaServer", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio"),
            ], swiftSettings: strictSettings),
        .testTarget(
            name: "MultiRaftTests",
            dependencies: ["MultiRaft", "RaftTransport", "RaftStorage", "RaftCore", "RaftWire"],
            swiftSettings: strictSettings),
        .testTarget(name: "LineProtocolTests", dependencies: ["LineProtocol"], swiftSettings: strictSettings),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "TSDB", "Meta", "SQL", "LineProtocol", "RaftCore", "Coordinator", "MultiRaft", "RaftTransport",
                "FlotillaHTTP", "Query",
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "EndToEndTests", dependencies: ["flotilla"], swiftSettings: strictSettings),
        // The HTTP routes through Hummingbird's test client, over a fake node.
        .testTarget(
            name: "FlotillaHTTPTests",
            dependencies: [
                "FlotillaHTTP", "Coordinator", "Meta", "MultiRaft", "Query", "LineProtocol", "RaftCore",
                "RaftTransport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strictSettings),
        .testTarget(name: "RaftWireTests", dependencies: ["RaftWire", "RaftCore"], swiftSettings: strictSettings),
        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "RaftStorageTests", dependencies: ["RaftStorage", "RaftCore", "wal-crash-writer"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "TSDBTests",
            dependencies: ["TSDB", "LineProtocol", "MultiRaft", "RaftCore", "RaftStorage", "RaftTransport", "RaftWire"],
            swiftSettings: strictSettings),
        .testTarget(name: "NodeSimulationTests", dependencies: ["NodeSimulation"], swiftSettings: strictSettings),
        .testTarget(
            name: "RaftSimulationTests", dependencies: ["RaftSimulation", "RaftCore"], swiftSettings: strictSettings),
    ]
)
