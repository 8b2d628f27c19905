// swift-tools-version:6.1
// libFuzzer harnesses for Huaying's parsers, kept out of the main package so `make test`
// never builds them. Build and run with `make fuzz` (see README.md here).
import PackageDescription

let harnessSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // libFuzzer brings its own `main`; the harness only exports LLVMFuzzerTestOneInput.
    .unsafeFlags(["-parse-as-library"]),
]

func harness(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies, swiftSettings: harnessSettings)
}

let package = Package(
    name: "huaying-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "huaying", path: ".."),
    ],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "WorkflowModel", package: "huaying")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        harness("FuzzWorkflowLoader", [.product(name: "WorkflowModel", package: "huaying")]),
        harness("FuzzTimeExpression", [.product(name: "WorkflowModel", package: "huaying")]),
        harness("FuzzStaffLoader", [.product(name: "WorkflowModel", package: "huaying")]),
        harness("FuzzCalendarLoader", [.product(name: "WorkflowModel", package: "huaying")]),
        harness("FuzzConfigLoader", [.product(name: "WorkflowModel", package: "huaying")]),
        harness("FuzzControlDecoder", [.product(name: "ControlProtocol", package: "huaying")]),
        harness("FuzzLineFramer", [.product(name: "ControlProtocol", package: "huaying")]),
    ]
)
