// swift-tools-version:6.0
import PackageDescription
import Foundation

let package = Package(
    name: "heapdiff",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "heapdiff", targets: ["heapdiff"]),
        .library(name: "HeapDiffKit", targets: ["HeapDiffKit"]),
        // expectNoHeapGrowth for XCTest and Swift Testing; needs neither the CLI nor ArgumentParser.
        .library(name: "HeapDiffTesting", targets: ["HeapDiffTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // The contract between recorder and analyzer: the snapshot format
        // (heapdiff_format.h, crc32.c) and the CLI-recorder protocol
        // (heapdiff_control.h, control_protocol.c), compiled into both. The
        // recorder itself (libheapdiff.so) is built by the Makefile with cc:
        // a preload library must not pull the Swift runtime into traced programs.
        .target(
            name: "HeapDiffFormat",
            publicHeadersPath: "include"
        ),
        // elfutils libdw (libdw-dev), for offline symbolization.
        .systemLibrary(
            name: "CLibdw",
            path: "Sources/CLibdw",
            pkgConfig: "libdw",
            providers: [.apt(["libdw-dev"])]
        ),
        // zlib (zlib1g-dev), to gzip pprof profiles.
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The Swift runtime's swift_demangle, bound by the linker (see its shim.h).
        .systemLibrary(name: "CSwiftDemangle", path: "Sources/CSwiftDemangle"),
        // GNU libiberty's demangler (libiberty-dev), for Rust symbols.
        .systemLibrary(
            name: "CLibiberty",
            path: "Sources/CLibiberty",
            providers: [.apt(["libiberty-dev"])]
        ),
        .target(
            name: "HeapDiffKit",
            dependencies: [
                "HeapDiffFormat", "CLibdw", "CZlib", "CSwiftDemangle", "CLibiberty",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            // The pprof schema profile.pb.swift was generated from (see Pprof/README.md).
            exclude: ["Output/Pprof/profile.proto", "Output/Pprof/README.md"]
        ),
        .target(
            name: "HeapDiffTesting",
            dependencies: ["HeapDiffKit", "HeapDiffFormat"]
        ),
        .executableTarget(
            name: "heapdiff",
            dependencies: [
                "HeapDiffKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "HeapDiffKitTests",
            dependencies: ["HeapDiffKit", "HeapDiffTesting"]
        ),
        .testTarget(
            name: "RecorderTests",
            dependencies: ["HeapDiffKit"],
            resources: [.copy("Programs")]
        ),
    ]
)

// The libFuzzer target over the snapshot reader (`make fuzz`), declared only
// when HEAPDIFF_FUZZ is set: it calls libFuzzer's driver, which is linked only
// under -sanitize=fuzzer, so a normal build could not link it.
if ProcessInfo.processInfo.environment["HEAPDIFF_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "FuzzSnapshotReader",
        dependencies: ["HeapDiffKit", "HeapDiffFormat"],
        path: "Fuzz/FuzzSnapshotReader"
    ))
}
