// swift-tools-version: 6.1
// The benchmarks live in their own package so that `make test` never builds the benchmark
// toolchain. Run them with `make bench` (or `swift package benchmark` in this folder).
import PackageDescription

import struct Foundation.URL

/// A path dependency's identity is its folder's name, which depends on where the repository was
/// cloned: read it instead of spelling it.
let parentPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "sipc-bridge-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SIPCCodec",
            dependencies: [
                .product(name: "SIPC", package: parentPackage),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SIPCCodec",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The POD call of SIPCCodec in a plain loop, for callgrind instruction counts
        // (Benchmarks/codec-instructions.sh).
        .executableTarget(
            name: "codec-instructions",
            dependencies: [.product(name: "SIPC", package: parentPackage)],
            path: "Sources/codec-instructions",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The end-to-end driver of `make bench` (scripts/bench.sh): starts the servers under Wine, runs the
        // Windows bench clients (win32-shim/bench) against both, and writes docs/BENCHMARKS.md.
        .executableTarget(
            name: "sipc-bench",
            dependencies: [
                .product(name: "SIPC", package: parentPackage),
                .product(name: "SIPCHost", package: parentPackage),
            ],
            path: "Sources/sipc-bench",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
