// swift-tools-version:6.1
// Huaying: a workflow automation daemon for community governance (城乡社区治理).
// Module layering (lowest first; imports only point down) is in docs/architecture.md.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "huaying",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "huayingd", targets: ["huayingd"]),
        .executable(name: "huaying", targets: ["huaying"]),
        // For the fuzz harnesses in Fuzz/ (a package of their own, so `make test` never builds them).
        .library(name: "WorkflowModel", targets: ["WorkflowModel"]),
        .library(name: "ControlProtocol", targets: ["ControlProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C APIs
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Libraries
        .target(name: "EventLoop", dependencies: ["CLibUV"], swiftSettings: swiftSettings),
        .target(name: "SQLiteStore", dependencies: ["CSQLite"], swiftSettings: swiftSettings),
        .target(name: "StepPluginAPI", swiftSettings: swiftSettings),
        // The built-ins declare their `with:` schemas, which every checker of workflow files uses.
        .target(
            name: "WorkflowModel",
            dependencies: ["StepPluginAPI", "Record", "Remind", "Escalate", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(name: "ControlProtocol", swiftSettings: swiftSettings),
        .target(
            name: "WorkflowEngine",
            dependencies: [
                "EventLoop", "SQLiteStore", "WorkflowModel", "StepPluginAPI", "ControlProtocol",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Built-in step plugins: they see only StepPluginAPI.
        .target(name: "Record", dependencies: ["StepPluginAPI"], path: "Plugins/Record", swiftSettings: swiftSettings),
        .target(name: "Remind", dependencies: ["StepPluginAPI"], path: "Plugins/Remind", swiftSettings: swiftSettings),
        .target(name: "Escalate", dependencies: ["StepPluginAPI"], path: "Plugins/Escalate", swiftSettings: swiftSettings),

        // Executables
        .executableTarget(
            name: "huayingd",
            dependencies: [
                "EventLoop", "SQLiteStore", "WorkflowModel", "ControlProtocol", "WorkflowEngine",
                "StepPluginAPI", "Record", "Remind", "Escalate",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "huaying",
            dependencies: [
                "WorkflowModel", "ControlProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // Tests
        .testTarget(name: "EventLoopTests", dependencies: ["EventLoop", "CLibUV"], swiftSettings: swiftSettings),
        .testTarget(name: "SQLiteStoreTests", dependencies: ["SQLiteStore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "WorkflowModelTests",
            dependencies: ["WorkflowModel"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkflowEngineTests",
            dependencies: ["WorkflowEngine", "StepPluginAPI", "Record", "Remind", "Escalate", "WorkflowModel", "SQLiteStore", "EventLoop",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ControlProtocolTests", dependencies: ["ControlProtocol"], swiftSettings: swiftSettings),
        // Running the real binaries from tests: posix_spawn + waitpid (see ChildProcess.swift for why).
        .target(name: "HuayingTestSupport", path: "Tests/HuayingTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "OfflineCLITests", dependencies: ["huaying", "HuayingTestSupport"], swiftSettings: swiftSettings),
        // The CLI's text helpers (tables, CJK width, CSV, terminal safety), compiled into the huaying executable.
        .testTarget(name: "CLITextTests", dependencies: ["huaying", "ControlProtocol", "WorkflowModel"], swiftSettings: swiftSettings),
        // The reference notifiers (notifiers/*, Python) run as real processes against a robot stand-in on 127.0.0.1.
        .testTarget(
            name: "NotifierTests",
            dependencies: ["HuayingTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["huayingd", "huaying", "ControlProtocol", "SQLiteStore", "WorkflowEngine", "HuayingTestSupport", "EventLoop",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
    ]
)
