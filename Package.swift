// swift-tools-version: 6.1
import PackageDescription

/// One settings array for every target: Swift 6 language mode everywhere.
let settings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "sipc-bridge",
    products: [
        .library(name: "SIPC", targets: ["SIPC"]),
        .library(name: "SIPCHost", targets: ["SIPCHost"]),
        .executable(name: "sipc-host", targets: ["sipc-host"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
    ],
    targets: [
        // The SIPC wire format and dispatch: no I/O, no third-party dependency.
        .target(name: "SIPC", swiftSettings: settings),
        .testTarget(
            name: "SIPCTests",
            dependencies: [
                "SIPC",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: settings
        ),
        // The host runtime: starts win32-shim under Wine and speaks the pipe protocol.
        // Atomic loads, stores and fences on memory shared with the shim (its ring).
        .target(name: "CSIPBShared"),
        .target(
            name: "SIPCHost",
            dependencies: ["SIPC", "CSIPBShared", .product(name: "Logging", package: "swift-log")],
            swiftSettings: settings
        ),
        .testTarget(
            name: "SIPCHostTests",
            dependencies: ["SIPCHost", "SIPC"],
            swiftSettings: settings
        ),
        // The command-line front end.
        .executableTarget(
            name: "sipc-host",
            dependencies: [
                "SIPCHost", "SIPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings
        ),
    ]
)
