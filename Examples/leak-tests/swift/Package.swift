// swift-tools-version:6.0
// A Swift leak test to copy: Tests/SessionStoreLeakTests use HeapDiffTesting's
// expectNoHeapGrowth, judged when run under heapdiff:
//   heapdiff check -- swift test --package-path Examples/leak-tests/swift   # exit 1: SessionStore.swift:18
//   heapdiff run -- swift test --package-path Examples/leak-tests/swift
import PackageDescription

let package = Package(
    name: "SessionStoreLeakTest",
    dependencies: [
        // heapdiff's checkout; elsewhere, .package(url: "…/heapdiff.git", branch: "main").
        .package(name: "heapdiff", path: "../../.."),
    ],
    targets: [
        .target(name: "SessionStore"),
        .testTarget(name: "SessionStoreLeakTests", dependencies: [
            "SessionStore",
            .product(name: "HeapDiffTesting", package: "heapdiff"),
        ]),
    ]
)
