// swift-tools-version: 6.1
// The libFuzzer targets live in their own package so that `swift build` of the main package never needs the
// fuzzer runtime. `make fuzz` (long) and `make test` (short, bounded) build them with
// `--sanitize=fuzzer --sanitize=address` and run them; see docs/RELIABILITY.md.
import PackageDescription

import struct Foundation.URL

/// A path dependency's identity is its folder's name, which depends on where the repository was cloned: read it
/// instead of spelling it.
let parentPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

let settings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "sipc-bridge-fuzz",
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        // Reading fuzzer input as parameters, shared by the targets.
        .target(name: "FuzzSupport", swiftSettings: settings),
        // SIPC frames: a hostile shared buffer and wParam, dispatched v1 and v2; the caller's output decode.
        .executableTarget(
            name: "fuzz-sipc-frames",
            dependencies: ["FuzzSupport", .product(name: "SIPC", package: parentPackage)],
            swiftSettings: settings
        ),
        // The pipe protocol: a hostile byte stream from the shim, framed, every payload decoded, and played
        // into a BridgeConnection.
        .executableTarget(
            name: "fuzz-pipe-protocol",
            dependencies: [
                "FuzzSupport",
                .product(name: "SIPC", package: parentPackage),
                .product(name: "SIPCHost", package: parentPackage),
            ],
            swiftSettings: settings
        ),
    ]
)
