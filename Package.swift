// swift-tools-version:6.1
// Huaying: a workflow automation daemon for community governance (城乡社区治理).
// Module layering (lowest first; imports only point down) is in ../shared/DESIGN.md §2
// and README.md.
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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C APIs
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Libraries
        .target(name: "EventLoop", dependencies: ["CLibUV"], swiftSettings: swiftSettings),
        .target(name: "SQLiteStore", dependencies: ["CSQLite"], swiftSettings: swiftSettings),
        .target(
            name: "WorkflowModel",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(name: "ControlProtocol", swiftSettings: swiftSettings),

        // Executables
        .executableTarget(
            name: "huayingd",
            dependencies: [
                "EventLoop", "SQLiteStore", "WorkflowModel", "ControlProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
        .testTarget(name: "ControlProtocolTests", dependencies: ["ControlProtocol"], swiftSettings: swiftSettings),
        .testTarget(name: "OfflineCLITests", dependencies: ["huaying"], swiftSettings: swiftSettings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["huayingd", "huaying", "ControlProtocol"],
            swiftSettings: swiftSettings
        ),
    ]
)
