// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "gatehouse",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gatehouse", targets: ["gatehouse"])
    ],
    dependencies: [
        // FullFoundation only: the default ConfigurationSupport trait recompiles Hummingbird on every test build.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // `gatehouse chains export|apply`: chains as YAML files, for those who keep configuration in git.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // The web page's HTML templates (escaping by default).
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // MCP: `gatehouse mcp` over stdio and `/mcp` on the service over Streamable HTTP.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
        // PostgreSQL, the second storage engine: several replicas over one database.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "Signing", dependencies: ["COpenSSL"], swiftSettings: swiftSettings),
        // The version and the commit being built, written at build time by the plugin (which reads git's files).
        .target(name: "BuildInfo", swiftSettings: swiftSettings, plugins: ["BuildInfoPlugin"]),
        .plugin(name: "BuildInfoPlugin", capability: .buildTool(), dependencies: ["gatehouse-build-info"]),
        .executableTarget(name: "gatehouse-build-info", path: "Sources/gatehouse-build-info"),
        .target(name: "ApprovalCore", dependencies: ["Signing"], swiftSettings: swiftSettings),
        // What Gatehouse keeps about Slack (posted messages): ports only, implemented by Storage.
        .target(name: "SlackRecords", dependencies: ["ApprovalCore"], swiftSettings: swiftSettings),
        .target(
            name: "Storage",
            dependencies: ["ApprovalCore", "SlackRecords", "Signing", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // The same ports on PostgreSQL, for several replicas over one database.
        .target(
            name: "PostgresStorage",
            dependencies: [
                "ApprovalCore", "SlackRecords", "Signing",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "SlackAPI", dependencies: ["Signing"], swiftSettings: swiftSettings),
        .target(
            name: "SlackBridge",
            dependencies: ["ApprovalCore", "Signing", "SlackAPI", "SlackRecords", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatehouseServer",
            dependencies: [
                "ApprovalCore", "Storage", "PostgresStorage", "SlackRecords", "Signing", "SlackAPI", "SlackBridge", "BuildInfo",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "MCP", package: "swift-sdk"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatehouseCLI",
            dependencies: [
                "GatehouseServer", "Storage", "PostgresStorage", "ApprovalCore", "BuildInfo", "Signing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MCP", package: "swift-sdk"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "gatehouse", dependencies: ["GatehouseCLI"], swiftSettings: swiftSettings),
        // A load generator for scripts/bench-*: loopback only, bounded in time.
        .executableTarget(
            name: "gatehouse-bench",
            dependencies: [
                "Signing", "ApprovalCore", "Storage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The fuzzing targets, one libFuzzer program for every parser of outside input; built by scripts/fuzz.
        .executableTarget(
            name: "gatehouse-fuzz", dependencies: ["ApprovalCore", "SlackAPI", "SlackBridge", "CFuzzer"],
            swiftSettings: swiftSettings),
        .target(name: "CFuzzer"),
        // Test support, from the inside out: the domain's (a test clock, fixtures, every storage port in memory), the
        // HTTP stand-ins (Slack's Web API, a callback receiver), and an application over a temporary database.
        .target(name: "DomainTestSupport", dependencies: ["ApprovalCore", "SlackRecords"], swiftSettings: swiftSettings),
        .target(
            name: "GatehouseTestSupport",
            dependencies: [
                "DomainTestSupport", "ApprovalCore", "Signing", "SlackAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServerTestSupport",
            dependencies: [
                "GatehouseTestSupport", "DomainTestSupport", "PostgresTestSupport", "GatehouseServer", "GatehouseCLI", "Storage",
                "ApprovalCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SigningTests", dependencies: ["Signing"], swiftSettings: swiftSettings),
        .testTarget(name: "ApprovalCoreTests", dependencies: ["ApprovalCore", "DomainTestSupport", "Signing"], swiftSettings: swiftSettings),
        // A private PostgreSQL cluster for tests, in a temporary directory, on its own port.
        .target(name: "PostgresTestSupport", dependencies: ["DomainTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Storage", "ApprovalCore", "SlackRecords", "DomainTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresStorageTests",
            dependencies: [
                "PostgresStorage", "PostgresTestSupport", "Storage", "ApprovalCore", "SlackRecords", "DomainTestSupport", "Signing",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlackAPITests",
            dependencies: ["SlackAPI", "GatehouseTestSupport", "Signing", .product(name: "Hummingbird", package: "hummingbird")],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SlackBridgeTests",
            dependencies: ["SlackBridge", "SlackAPI", "SlackRecords", "ApprovalCore", "DomainTestSupport", "GatehouseTestSupport",
                           .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Golden")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatehouseServerTests",
            dependencies: [
                "GatehouseServer", "BuildInfo", "GatehouseCLI", "ServerTestSupport", "GatehouseTestSupport", "DomainTestSupport", "Storage",
                "ApprovalCore", "Signing", "SlackAPI", "SlackBridge", "PostgresStorage", "PostgresTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatehouseCLITests",
            dependencies: [
                "GatehouseCLI", "GatehouseServer", "ServerTestSupport", "GatehouseTestSupport", "DomainTestSupport", "Storage",
                "ApprovalCore", "BuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
